"""`{% certificate_items certificates %}`: the certificates already issued, on Mes attestations."""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.template import Library
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

register = Library()


@lru_cache(maxsize=8)
def _words(language: str | None) -> dict[str, str]:
    """The list's fixed words in one language, escaped, looked up once rather than for each
    certificate (and each page)."""
    words = {
        "cancelled": gettext("Annulée"),
        "reference": gettext("référence"),
        "download": gettext("Télécharger"),
        "of": gettext("du"),
    }
    return {key: html.escape(value) for key, value in words.items()}


def _item(certificate: Any, words: dict[str, str]) -> str:
    esc = html.escape
    kind = esc(certificate.kind)
    beneficiary = f" — {esc(certificate.beneficiary)}" if certificate.beneficiary else ""
    revoked = (
        f' <strong class="govuk-tag govuk-tag--red">{words["cancelled"]}</strong>'
        if certificate.revoked
        else ""
    )
    return (
        '<li class="govuk-!-margin-bottom-6">\n'
        f'  <h3 class="govuk-heading-s govuk-!-margin-bottom-1">{kind}{beneficiary}{revoked}</h3>\n'
        f'  <p class="govuk-body-s govuk-!-margin-bottom-1">{esc(certificate.dates)} — '
        f"{words['reference']} {esc(certificate.reference)}</p>\n"
        f'  <a class="govuk-link" href="{esc(certificate.url)}" download>{words["download"]}'
        f'<span class="govuk-visually-hidden"> {kind} {words["of"]} '
        f"{esc(certificate.issued_on)}</span> (PDF)</a>\n"
        "</li>\n"
    )


@register.simple_tag
def certificate_items(certificates: Iterable[Any]) -> SafeString:
    """The items of the list, as `documents/includes/certificate_items.html` writes them (a test
    keeps both equal). Written here because a member may have fifty certificates, and the
    template engine's cost for each of their ten values was most of the page's time."""
    words = _words(get_language())
    return mark_safe("".join(_item(c, words) for c in certificates))  # noqa: S308 - escaped
