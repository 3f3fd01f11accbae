"""Security headers on every kind of response, the production switches, and the templates' CSP
hygiene (no inline script, style or event handler anywhere, for every app)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPOSITORY = Path(settings.BASE_DIR).parent

PAGES = {
    "page": ("/", 200),
    "error page": ("/cette-page-n-existe-pas/", 404),
    "API response": ("/api/v1/openapi.json", 200),
}


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.fixture(params=list(PAGES), ids=list(PAGES))
def response(request, client, db):
    url, status = PAGES[request.param]
    answer = client.get(url)
    assert answer.status_code == status
    return answer


def test_content_security_policy_is_strict(response):
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "*" not in policy


def test_framing_is_refused(response):
    assert response["X-Frame-Options"] == "DENY"


def test_content_types_are_not_sniffed(response):
    assert response["X-Content-Type-Options"] == "nosniff"


def test_referrer_stays_on_the_site(response):
    assert response["Referrer-Policy"] == "same-origin"


def test_powerful_features_are_switched_off(response):
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_cross_origin_isolation_headers(response):
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_no_hsts_over_plain_http_outside_production(response):
    assert "Strict-Transport-Security" not in response


# --- Production mode ---------------------------------------------------------------------------

_PRODUCTION_PROBE = """
import json
import django
from django.conf import settings
django.setup()
from django.test import Client
client = Client()
secure = client.get("/healthz", secure=True)
plain = client.get("/healthz")
print(json.dumps({
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie": settings.SESSION_COOKIE_NAME,
    "csrf_cookie": settings.CSRF_COOKIE_NAME,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "debug": settings.DEBUG,
}))
"""


def test_production_mode_sends_hsts_redirects_to_https_and_secures_cookies(tmp_path):
    # Settings are read once at import: production mode is observed in a process of its own.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ASSURE_", "DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"))
    }
    env |= {
        "ASSURE_ENV": "production",
        "ASSURE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "a-production-secret-for-this-test-only-0123456789abcdef",
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "assure.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PRODUCTION_PROBE],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    hsts = seen["hsts"]
    assert hsts is not None
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 365 * 24 * 60 * 60
    assert "includeSubDomains" in hsts
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://testserver/healthz"
    assert seen["session_secure"] is True
    assert seen["csrf_secure"] is True
    assert seen["session_cookie"].startswith("__Host-")
    assert seen["csrf_cookie"].startswith("__Host-")
    assert seen["session_httponly"] is True
    assert seen["debug"] is False


# --- Templates: nothing the CSP would block, in any app ----------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _served_templates() -> list[Path]:
    """Every template of every app that a browser receives. E-mail bodies are left out: they are
    read in mail clients, where no CSP applies and inline styles are the norm."""
    found = []
    for folder in (REPOSITORY / "assure").rglob("templates"):
        for template in folder.rglob("*"):
            is_email = {"email", "emails"} & set(template.relative_to(folder).parts)
            if template.is_file() and template.suffix in {".html", ".htm"} and not is_email:
                found.append(template)
    return found


def csp_offences(text: str) -> list[str]:
    rules = {
        "inline <script> without src": INLINE_SCRIPT,
        "<style> element": STYLE_ELEMENT,
        "style= attribute": STYLE_ATTRIBUTE,
        "on*= event handler": EVENT_HANDLER,
        "javascript: URL": JAVASCRIPT_URL,
    }
    return [name for name, rule in rules.items() if rule.search(text)]


def test_no_template_carries_inline_script_style_or_handlers():
    templates = _served_templates()
    assert len(templates) >= 10, "the template folders were not found"
    offences = [
        f"{template.relative_to(REPOSITORY)}: {offence}"
        for template in templates
        for offence in csp_offences(template.read_text(encoding="utf-8"))
    ]
    assert not offences, "the CSP would block these:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script type="module">import "./x.js"</script>',
        "<style>p { color: red }</style>",
        '<p style="color: red">',
        '<div class="x"\n     style="display:none">',
        '<button onclick="go()">',
        '<body onload="init()">',
        '<a href="javascript:void(0)">',
    ],
)
def test_the_scan_catches_what_the_csp_blocks(html):
    assert csp_offences(html)


@pytest.mark.parametrize(
    "html",
    [
        '<script type="module" src="/static/assure/js/assure.js"></script>',
        '<p class="govuk-body">Le style de la page et le bouton online</p>',
        "{% block scripts %}{% endblock %}",
        '<a class="govuk-link" href="/accessibilite/">',
    ],
)
def test_the_scan_lets_clean_markup_through(html):
    assert not csp_offences(html)


def test_policy_built_once_is_the_one_django_csp_builds(client, db, settings):
    from csp.utils import build_policy

    assert client.get("/")["Content-Security-Policy"] == build_policy()
    # A changed setting is the policy of the next answer, not the one built before.
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"
    assert "Content-Security-Policy-Report-Only" not in client.get("/")
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    report_only = client.get("/")["Content-Security-Policy-Report-Only"]
    assert report_only == build_policy(report_only=True)
    assert "img-src 'self'" in report_only


def _both_middlewares(rf, view):
    """The answers of django-csp's middleware and of assure's to the same request."""
    from csp.middleware import CSPMiddleware

    from assure.core.middleware import ContentSecurityPolicyMiddleware

    return [
        middleware(view)(rf.get("/"))
        for middleware in (CSPMiddleware, ContentSecurityPolicyMiddleware)
    ]


def test_a_response_with_its_own_policy_keeps_it(rf, db):
    from django.http import HttpResponse

    def view(request):
        answer = HttpResponse("ok")
        answer._csp_update = {"img-src": ["https://cartes.example"]}  # as @csp_update sets it
        return answer

    theirs, ours = _both_middlewares(rf, view)
    assert "https://cartes.example" in ours["Content-Security-Policy"]
    assert ours["Content-Security-Policy"] == theirs["Content-Security-Policy"]


def test_a_nonce_asked_for_goes_through_django_csp(rf, db, settings):
    from csp.constants import NONCE
    from django.http import HttpResponse

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    def view(request):
        return HttpResponse(str(request.csp_nonce))

    for answer in _both_middlewares(rf, view):
        policy = answer["Content-Security-Policy"]
        assert f"script-src 'self' 'nonce-{answer.content.decode()}'" in policy


def test_a_nonce_asked_for_after_the_header_is_an_error(rf, db):
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse

    from assure.core.middleware import ContentSecurityPolicyMiddleware

    request = rf.get("/")
    ContentSecurityPolicyMiddleware(lambda request: HttpResponse("ok"))(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
