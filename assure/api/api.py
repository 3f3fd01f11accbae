"""The JSON API (API.md): one NinjaAPI, a router per area, problem+json errors with stable codes."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.operation import Operation

from assure.api import openapi
from assure.api.problems import problem_response
from assure.api.throttling import AddressThrottle, MemberThrottle
from assure.api.validation import field_message
from assure.core.exceptions import DomainError


class ReferencePage(DocsBase):
    """/api/v1/docs: the document rendered on the server, no script, so the strict CSP holds."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        document = api.get_openapi_schema(path_params=kwargs)
        return render(
            request,
            "api/docs.html",
            {
                "document": document,
                "operations": openapi.operations_for_page(document),
                "codes": openapi.codes_for_page(document),
                "schemas": openapi.schemas_for_page(document),
                "openapi_url": self.get_openapi_url(api, kwargs),
            },
        )


class AssureApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        area = operation.view_func.__module__.rsplit(".", 1)[-1]
        return f"{area}_{operation.view_func.__name__}"

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return openapi.complete(dict(document))


api = AssureApi(
    title="assure API",
    version="1",
    description=(
        "API for the member app and the fund's systems. Errors are RFC 9457 problem documents "
        "(`application/problem+json`) with a stable `code`; titles are in French by default, "
        "in English with `Accept-Language: en`. Every endpoint is rate-limited and answers 429 "
        "`throttled` with `Retry-After`. Getting started: docs/api.md."
    ),
    urls_namespace="api-v1",
    docs=ReferencePage(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=[AddressThrottle(), MemberThrottle()],
)


def _retry_after(response: HttpResponse, seconds: Any) -> HttpResponse:
    response["Retry-After"] = str(max(1, math.ceil(float(seconds))))
    return response


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=str(exc.title),
        errors=exc.errors,
        extra=exc.extra,
    )
    if exc.status == 429:
        return _retry_after(response, _seconds_until(exc.extra))
    return response


def _seconds_until(extra: dict[str, Any]) -> float:
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    if extra.get("retry_after"):
        return float(extra["retry_after"])
    until = parse_datetime(str(extra.get("locked_until", "")))
    if until is not None:
        return max(1.0, (until - timezone.now()).total_seconds())
    return float(settings.API_THROTTLE_DEFAULT_RETRY_AFTER)


def _field_name(loc: list[Any]) -> str:
    # Ninja prefixes locations with "body"/"query"/"path" and the schema's parameter name.
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "form", "file", "payload"}]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(list(error.get("loc", []))), []).append(field_message(error))
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


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = problem_response(
        request,
        status=429,
        code="throttled",
        title=_("Trop de demandes : merci de réessayer dans quelques minutes."),
        extra={"retry_after": math.ceil(exc.wait or 1)},
    )
    return _retry_after(response, exc.wait or 1)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # Ninja's answer to a body it cannot parse (not JSON, not UTF-8, not multipart).
        return problem_response(
            request,
            status=400,
            code="validation_error",
            title=_("Certaines informations sont invalides."),
            errors={"__all__": [_("Le corps de la demande n'a pas pu être lu.")]},
        )
    code, title = {
        404: ("not_found", _("Cette ressource n'existe pas.")),
        405: ("method_not_allowed", _("Cette méthode n'est pas permise ici.")),
    }.get(exc.status_code, ("error", _("La demande n'a pas pu être traitée.")))
    return problem_response(request, status=exc.status_code, code=code, title=title)


def _register_routers() -> None:
    """Each area's router is added here, in one place, so the URL map reads top to bottom."""
    from assure.api.routers import ROUTERS

    for prefix, router in ROUTERS:
        api.add_router(prefix, router)


_register_routers()
