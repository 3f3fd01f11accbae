"""What the attack suites share: the routes as the URL resolver and the OpenAPI document list them,
signed-in members on the web and the API, and answers reduced to what must not differ."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from assure.members.models import Member
from tests.messaging.helpers import sign_in

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "payments:detail" or "api-v1:statements_get"
    pattern: str  # the resolver's pattern, e.g. "mes-paiements/<int:statement_id>/"
    params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api-v1:")

    @property
    def bearer(self) -> bool:
        """Authenticated by the API's access token (the JSON API and FHIR)."""
        return self.is_api or self.name.startswith("fhir:")

    def path(self, **values: Any) -> str:
        """The URL with each parameter filled; the pattern is read, not reversed, so that a
        route is reached exactly as the resolver knows it."""
        path = self.pattern
        for name, value in values.items():
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        assert "<" not in path, (self.name, path)
        return "/" + path

    @property
    def openapi_path(self) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.pattern)


def _walk(patterns: list[Any], prefix: str, namespace: str | None) -> list[Route]:
    routes: list[Route] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            routes += _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            if namespace and name:
                name = f"{namespace}:{name}"
            params = tuple(entry.pattern.converters)
            if not params:
                # Regex patterns name their groups instead of converters.
                params = tuple(entry.pattern.regex.groupindex)
            routes.append(
                Route(
                    name or f"<unnamed {prefix}{entry.pattern}>",
                    prefix + str(entry.pattern),
                    params,
                )
            )
    return routes


def all_routes() -> list[Route]:
    """Every URL the site answers, walked recursively from the root resolver."""
    return _walk(get_resolver().url_patterns, "", None)


def openapi_operations() -> dict[str, dict[str, dict[str, Any]]]:
    """{path: {method: operation}} from the API's document as served now (not a frozen copy)."""
    from assure.api.api import api

    schema = api.get_openapi_schema()
    return {
        path: {method.upper(): op for method, op in ops.items()}
        for path, ops in schema["paths"].items()
    }


def web_client(member: Member) -> Client:
    client = Client()
    sign_in(client, member)
    return client


def api_token(member: Member) -> str:
    account = Account.objects.filter(member=member).first() or Account.objects.create(
        member=member, secret_code_hash="x", must_change_code=False
    )
    return app_tokens_issue(account=account, device_label="Téléphone de test").access_token


# --- Reducing answers to what must be identical ------------------------------------------------

# Headers whose value legitimately differs between two requests (the length follows the URL the
# page repeats, `Expires` is "now" to the second); their presence is still compared.
VOLATILE_HEADERS = {"content-length", "date", "expires", "set-cookie"}


def shape(response: Any, *paths: str) -> bytes:
    """The body without what differs on every request: the addresses asked for (repeated by the
    language switcher or a `suite=` parameter), the masked CSRF token, and the nonce of a
    streaming file's name."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    for path in paths:
        for form in {path, quote(path, safe=""), quote(path)}:
            body = body.replace(form.encode(), b"<PATH>")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"<CSRF>", body)


def headers(response: Any, *paths: str) -> dict[str, str]:
    out = {}
    for name, value in response.headers.items():
        key = name.lower()
        if key in VOLATILE_HEADERS:
            out[key] = "<volatile>"
            continue
        for path in paths:
            for form in {path, quote(path, safe=""), quote(path)}:
                value = value.replace(form, "<PATH>")
        out[key] = value
    return out
