"""Security headers on every kind of answer the site gives, found by walking the URL resolver, and
Django's deployment checks clean in production mode."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.backoffice.helpers import signed_in, staff_user
from tests.members.factories import MemberFactory
from tests.security.helpers import all_routes, api_token, web_client
from tests.security.test_access_matrix import OBJECT_ROUTES, objects_of

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
REPOSITORY = Path(settings.BASE_DIR).parent
# GET routes left out of the sweep: they end the session it runs in.
NOT_SWEPT = {"identity:logout", "franceconnect:logout", "backoffice:signout"}
# Style sheets, scripts and images are not documents: no policy or framing rule applies to them
# (a browser runs no script and frames nothing from a style sheet); they keep nosniff, which
# stops one from being read as another type.
STATIC_TYPES = {
    "text/css",
    "text/javascript",
    "application/javascript",
    "image/png",
    "image/svg+xml",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _problems(response: Any) -> list[str]:
    """What is missing or weak in one answer's headers."""
    found = []
    if response.get("X-Content-Type-Options") != "nosniff":
        found.append("X-Content-Type-Options")
    if response.get("Referrer-Policy") not in {"same-origin", "no-referrer", "strict-origin"}:
        found.append("Referrer-Policy")
    if "camera=()" not in response.get("Permissions-Policy", ""):
        found.append("Permissions-Policy")
    if response.get("Content-Type", "").split(";")[0] in STATIC_TYPES:
        return found  # served by WhiteNoise before the CSP and framing middleware (see below)
    policy = response.get("Content-Security-Policy", "")
    framing = response.get("X-Frame-Options") == "DENY" or "frame-ancestors 'none'" in policy
    if not framing:
        found.append("framing")
    if not policy:
        found.append("Content-Security-Policy")
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        found.append("CSP unsafe-*")
    if "Strict-Transport-Security" in response:
        found.append("HSTS over plain HTTP outside production")
    return found


def test_every_kind_of_answer_carries_the_security_headers():
    member = MemberFactory()
    ids = objects_of(member, "Entetes", phone="0611223344")
    member_client = web_client(member)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api_token(member)}"}
    staff = signed_in(staff_user("entetes", role="admin"))
    anonymous = Client()
    seen: dict[str, list[str]] = {}
    kinds: set[str] = set()

    def check(client: Client, path: str, label: str, method: str = "GET", **extra: Any) -> None:
        response = client.generic(method, path, **extra)
        kind = f"{response.status_code} {response.get('Content-Type', '-').split(';')[0]}"
        kinds.add(kind)
        problems = _problems(response)
        if problems:
            seen[f"{label} {method} {path} [{kind}]"] = problems

    for route in all_routes():
        if route.name in NOT_SWEPT:
            continue
        if route.params:
            target = OBJECT_ROUTES.get(route.name)
            if target is None or target.staff or not set(target.kinds) <= set(ids):
                continue
            path = route.path(**{p: ids[k] for p, k in target.kinds.items()})
            if route.name.startswith("fhir:") and "coverage_id" in target.kinds:
                path = route.path(coverage_id=f"amo-{member.pk}")
        else:
            path = route.path()
        extra = bearer if route.bearer else {}
        client = staff if route.name.startswith("backoffice:") else member_client
        check(client, path, route.name, **extra)
        check(anonymous, path, f"anonymous {route.name}")
    # Errors and the odd answers: not found, wrong method, a static file, a CSRF failure.
    check(member_client, "/cette-page-n-existe-pas/", "404")
    check(anonymous, "/api/v1/nexiste-pas", "API 404")
    check(member_client, "/mes-paiements/", "405", method="DELETE")
    check(anonymous, "/static/assure/css/assure.css", "static")
    check(Client(enforce_csrf_checks=True), "/connexion/", "CSRF failure", method="POST")
    assert not seen, "\n".join(f"{where}: {', '.join(p)}" for where, p in sorted(seen.items()))
    # The sweep met pages, redirects, downloads, JSON, FHIR, errors.
    assert {k.split()[0] for k in kinds} >= {"200", "302", "401", "403", "404", "405"}, kinds
    types = {k.split()[1] for k in kinds}
    assert {"text/html", "application/json", "application/pdf", "text/csv", "text/css"} <= types
    assert "application/fhir+json" in types, types


def test_deployment_checks_are_clean_in_production_mode(tmp_path):
    """`assure check --deploy` with ASSURE_ENV=production and a SECRET_KEY: no warning at all."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ASSURE_", "DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"))
    }
    env |= {
        "ASSURE_ENV": "production",
        "ASSURE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x7#production-secret-for-this-test-only-0123456789abcdefghijklmnop",
        "ALLOWED_HOSTS": "assure.example.org",
    }
    result = subprocess.run(
        [sys.executable, "-m", "assure", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
