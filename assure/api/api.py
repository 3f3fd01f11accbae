"""The JSON API (API.md): one NinjaAPI, a router per area, problem+json errors with stable codes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from assure.api.problems import problem_response
from assure.core.exceptions import DomainError

api = NinjaAPI(
    title="assure API",
    version="1",
    description="API for the member app and the fund's systems (see docs/api.md).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=str(exc.title),
        errors=exc.errors,
        extra=exc.extra,
    )


def _field_name(loc: list[Any]) -> str:
    # Ninja prefixes locations with "body"/"query"/"path" and the schema's parameter name.
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "form", "file", "payload"}]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(list(error.get("loc", []))), []).append(
            str(error.get("msg", ""))
        )
    return problem_response(
        request,
        status=400,
        code="validation_error",
        title=_("Certaines informations sont invalides."),
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request, status=401, code="unauthenticated", title=_("Vous devez être connecté.")
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {404: "not_found", 405: "method_not_allowed", 429: "throttled"}.get(
        exc.status_code, "error"
    )
    return problem_response(request, status=exc.status_code, code=code, title=str(exc))


def _register_routers() -> None:
    """Each area's router is added here, in one place, so the URL map reads top to bottom."""
    from assure.api.routers import ROUTERS

    for prefix, router in ROUTERS:
        api.add_router(prefix, router)


_register_routers()
