"""Rendering of e-mails and letters from plain-text templates, with the security rules enforced.

Phishing e-mails imitate a fund's notices and carry a link to a fake login form. The fund's
messages therefore never carry a link to a login, sign-up or code page, nor any link with a query
string (the usual carrier of tracking or pre-filled tokens), and every e-mail ends with a footer
telling the member to type the site's address themselves. Rendering refuses anything else, so a
careless template fails in tests instead of reaching members.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.template import Context, Engine
from django.utils import translation
from django.utils.translation import gettext

from assure.core.exceptions import DomainError

EMAIL_TEMPLATE_DIR = "notifications/email"
LETTER_TEMPLATE_DIR = "notifications/letter"

# Paths of pages a phishing copy would imitate: login, sign-up, codes, passwords, verification.
_FORBIDDEN_PATH = re.compile(
    r"(connexion|login|signin|sign-in|logon|inscription|signup|sign-up|register|activation|"
    r"activer|code|otp|password|mot-de-passe|motdepasse|verif|verify|reset|auth|token|"
    r"franceconnect|session)",
    re.IGNORECASE,
)
# Anything a mail client may turn into a link: a scheme, a www. host, or a bare host followed by a
# path or a query ("assure.example/connexion"). A bare host alone ("assure.example") is what
# members are told to type, and is allowed; so are e-mail addresses (the lookbehind).
_URL = re.compile(
    # Bounded lengths and a left boundary keep the scan linear on long words (no ReDoS).
    r"(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]{0,30}://|www\.)[^\s<>\"']+"
    r"|(?<![@\w.-])(?:[a-z0-9-]{1,63}\.){1,20}[a-z0-9-]{1,63}(?::\d{1,5})?[/?][^\s<>\"']*",
    re.IGNORECASE,
)


class UnsafeMessage(DomainError):
    """A rendered e-mail that would teach members to follow links to a login form."""

    code = "unsafe_message"
    status = 500


class TemplateMissing(DomainError):
    code = "notification_template_missing"
    status = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def security_footer() -> str:
    """The fixed footer of every e-mail, in the active language."""
    return gettext(
        "Pour votre sécurité : {fund} ne met jamais dans ses messages de lien vers un formulaire "
        "de connexion. Pour accéder à votre compte, ouvrez vous-même votre navigateur et tapez "
        "l'adresse du site. Ne communiquez jamais votre code secret, ni par courriel ni par "
        "téléphone."
    ).format(fund=settings.ASSURE_FUND_NAME)


def check_links(text: str) -> None:
    """Raises UnsafeMessage when `text` has a URL to a login-like page or with a query string."""
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        after_host = url.split("://", 1)[-1]
        host, _, rest = after_host.partition("/")
        if "?" in url or "#" in rest or "@" in host:
            raise UnsafeMessage(gettext("Un message ne peut pas contenir de lien avec paramètres."))
        if _FORBIDDEN_PATH.search(rest) or _FORBIDDEN_PATH.search(host.split(".")[0]):
            raise UnsafeMessage(
                gettext("Un message ne peut pas contenir de lien vers une page de connexion.")
            )


@functools.cache
def _engine() -> Engine:
    """A template engine for plain text: no HTML escaping, which would turn O'Brien into
    O&#x27;Brien in an e-mail or on paper."""
    project_dirs = cast("list[Any]", settings.TEMPLATES[0].get("DIRS", []))
    return Engine(
        dirs=[str(d) for d in project_dirs],
        app_dirs=True,
        autoescape=False,
        libraries={"i18n": "django.templatetags.i18n", "l10n": "django.templatetags.l10n"},
    )


def _render_text(name: str, context: dict[str, Any]) -> str:
    try:
        template = _engine().get_template(name)
    except Exception as exc:  # TemplateDoesNotExist and syntax errors alike: a programming error
        raise TemplateMissing(f"{name}: {exc.__class__.__name__}") from exc
    return template.render(Context(_base_context() | context, autoescape=False))


def _base_context() -> dict[str, Any]:
    return {
        "fund_name": settings.ASSURE_FUND_NAME,
        "fund_phone": settings.ASSURE_FUND_PHONE,
        "site_address": _site_address(),
    }


def _site_address() -> str:
    """The site's address as members should type it: the host alone, no scheme, no path."""
    url = settings.ASSURE_SITE_URL
    return url.split("://", 1)[-1].split("/", 1)[0]


def _normalise(text: str) -> str:
    # Templates are plain text: trim the blank lines tags leave behind and trailing spaces.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out)


def email_render(*, template: str, context: dict[str, Any], language: str) -> Rendered:
    with translation.override(language):
        subject = _render_text(f"{EMAIL_TEMPLATE_DIR}/{template}/subject.txt", context)
        body = _normalise(_render_text(f"{EMAIL_TEMPLATE_DIR}/{template}/body.txt", context))
        footer = security_footer()
    subject = " ".join(subject.split())
    check_links(subject)
    check_links(body)
    return Rendered(subject=subject, body=f"{body}\n\n-- \n{footer}\n")


def letter_render(*, template: str, context: dict[str, Any], language: str) -> Rendered:
    """A letter's template: a first line `Objet : ...` (the subject), then the body."""
    with translation.override(language):
        text = _normalise(_render_text(f"{LETTER_TEMPLATE_DIR}/{template}/body.txt", context))
    first, _, rest = text.partition("\n")
    subject = ""
    if first.lower().startswith(("objet", "subject")) and ":" in first:
        subject = first.split(":", 1)[1].strip()
        text = rest.strip("\n")
    check_links(text)
    return Rendered(subject=subject, body=text)


def template_names(channel: str) -> list[str]:
    """Every template of a channel, wherever it lives, for the test that renders them all."""
    names: set[str] = set()
    base = EMAIL_TEMPLATE_DIR if channel == "email" else LETTER_TEMPLATE_DIR
    for loader in _engine().template_loaders:
        # The cached loader of a non-debug engine answers get_dirs() for the loaders it wraps.
        for directory in getattr(loader, "get_dirs", list)():
            folder = Path(directory) / base
            if folder.is_dir():
                names.update(p.name for p in folder.iterdir() if p.is_dir())
    return sorted(names)
