"""The test OpenID provider (tests/franceconnect/provider/server.mjs) as pytest fixtures.

`npm ci` installs `oidc-provider` from the committed lock file when node_modules is missing; the
server is started on 127.0.0.1 on a free port with the test identities below, and stopped at the
end of the session. Without Node.js or npm the suite fails in CI and skips loudly elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import need_service

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_ID = "assure-test-client"
CLIENT_SECRET = "test-client-secret-with-more-than-32-characters"

# The identity pivot of each test person, in FranceConnect's claim format.
IDENTITIES = {
    # Registered with an account; the register spells her names without accents.
    "marie": {
        "given_name": "Marie Hélène",
        "family_name": "LÉGER",
        "birthdate": "1984-03-12",
        "gender": "female",
        "birthplace": "75056",
        "birthcountry": "99100",
        "preferred_username": "",
        "email": "marie.leger@example.org",
    },
    # Registered, no account yet; born in Corsica (Ajaccio, 2A004).
    "jean": {
        "given_name": "Jean Pierre",
        "family_name": "CASANOVA",
        "birthdate": "1979-11-02",
        "gender": "male",
        "birthplace": "2A004",
        "birthcountry": "99100",
        "preferred_username": "",
        "email": "jean.casanova@example.org",
    },
    # Born in Spain; two register entries share this identity, so NIR + code must decide.
    "paul": {
        "given_name": "Paul",
        "family_name": "GARCIA",
        "birthdate": "1970-07-01",
        "gender": "male",
        "birthplace": "",
        "birthcountry": "99134",
        "preferred_username": "MARTIN",
        "email": "paul.garcia@example.org",
    },
}


@dataclass
class Provider:
    issuer: str
    redirect_uri: str
    post_logout_redirect_uri: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install() -> None:
    npm = shutil.which("npm")
    need_service("npm", bool(shutil.which("node")) and bool(npm), "Node.js 20 and npm are needed")
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        return
    result = subprocess.run(
        [str(npm), "ci", "--no-audit", "--no-fund"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    need_service("npm ci", result.returncode == 0, result.stderr[-2000:])


def start_provider(site_url: str) -> Provider:
    _install()
    port = _free_port()
    site = site_url.rstrip("/")
    provider_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{site}/franceconnect/retour/",
        "POST_LOGOUT_REDIRECT_URI": f"{site}/franceconnect/deconnexion/retour/",
        "IDENTITIES": json.dumps(IDENTITIES),
    }
    process = subprocess.Popen(
        [str(shutil.which("node")), "server.mjs"],
        cwd=PROVIDER_DIR,
        env=provider_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}"
    # The server prints "listening" once its port is open (after any engine warnings).
    seen: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode(errors="replace")
        seen.append(line)
        if line.startswith("listening"):
            break
    else:
        process.kill()
        need_service("oidc-provider", False, "".join(seen)[-2000:])
    return Provider(
        issuer=issuer,
        redirect_uri=provider_env["REDIRECT_URI"],
        post_logout_redirect_uri=provider_env["POST_LOGOUT_REDIRECT_URI"],
        process=process,
    )


def stop_provider(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
    if provider.process.stdout:
        provider.process.stdout.close()


def configure(settings: pytest.FixtureRequest, provider: Provider) -> None:
    """Points the app at the provider (pytest-django's `settings` fixture restores it after)."""
    from assure.franceconnect.client import forget_cached_clients

    settings.FRANCECONNECT_ISSUER = provider.issuer  # type: ignore[attr-defined]
    settings.FRANCECONNECT_CLIENT_ID = CLIENT_ID  # type: ignore[attr-defined]
    settings.FRANCECONNECT_CLIENT_SECRET = CLIENT_SECRET  # type: ignore[attr-defined]
    settings.FRANCECONNECT_ALG = "ES256"  # type: ignore[attr-defined]
    settings.FRANCECONNECT_REDIRECT_URI = provider.redirect_uri  # type: ignore[attr-defined]
    settings.FRANCECONNECT_POST_LOGOUT_REDIRECT_URI = (  # type: ignore[attr-defined]
        provider.post_logout_redirect_uri
    )
    forget_cached_clients()


@pytest.fixture(scope="session")
def fc_provider_for_testserver() -> Iterator[Provider]:
    """For tests driving Django's test client: the redirect URI is on http://testserver."""
    provider = start_provider("http://testserver")
    yield provider
    stop_provider(provider)
