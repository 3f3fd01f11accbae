from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext

unavailable_logger = logging.getLogger("assure.core.unavailable")


class SecurityHeadersMiddleware:
    """Headers Django does not set by itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


# What a view or decorator of django-csp may set on a response to change its policy.
_PER_RESPONSE_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
# The headers of the settings' policies, (enforced, report-only), built on first use.
_settings_policies: tuple[str, str] | None = None


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    global _settings_policies
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies = None


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once instead of per answer.

    django-csp builds the header again for every response (about a percent and a half of a
    member's page, docs/performance.md), although nothing in assure changes it: no page uses a
    nonce (no inline script) or a per-view policy. When a response or request does carry one,
    django-csp's own code builds the header as usual.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        global _settings_policies
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _PER_RESPONSE_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # Django's debug pages use inline styles, as django-csp allows
        if _settings_policies is None:
            _settings_policies = (build_policy(), build_policy(report_only=True))
        for header, policy, setting in (
            (HEADER, _settings_policies[0], "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, _settings_policies[1], "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if (
                policy
                and header not in response
                and not request.path_info.startswith(tuple(prefixes))
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


# Seconds a client is told to wait before trying again while the database is unreachable.
RETRY_AFTER_SECONDS = 30


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether an exception means the database cannot be reached (down, restarting, connection
    lost), as opposed to a query it refused: only the former is a 503."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    cause = exc.__cause__
    if type(cause).__module__ == "sqlite3":
        # SQLite reports mistakes (no such table, syntax) as OperationalError too; only a file
        # that is locked past the busy timeout, or cannot be opened, means "try again later".
        message = str(cause).lower()
        return any(part in message for part in ("locked", "unable to open", "disk i/o"))
    # A deadlock or a serialisation failure is an OperationalError too, but the server answered.
    sqlstate = getattr(cause, "sqlstate", None) or ""
    return not sqlstate.startswith("40")


def service_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The answer while the database is unreachable: an RFC 9457 problem on the API, the bare
    503 page elsewhere (it needs neither the session nor the database), with Retry-After."""
    if request.path.startswith("/api/"):
        body = {
            "type": "/api/v1/docs#error-unavailable",
            "title": gettext("Le service est momentanément indisponible. Réessayez plus tard."),
            "status": 503,
            "code": "unavailable",
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False),
            status=503,
            content_type="application/problem+json",
        )
    else:
        from assure.core.views import service_unavailable

        response = service_unavailable(request)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """A view that meets an unreachable database answers 503 at once, not a 500: the outage is
    logged once as a warning (no traceback per request) and the client is told when to retry.

    Failures outside views (the session or authentication middleware) reach handler500, which
    gives the same answer (`assure.core.views.server_error`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        unavailable_logger.warning(
            "database unreachable (%s): 503 for %s %s",
            exception.__class__.__name__,
            request.method,
            request.path,
        )
        return service_unavailable_response(request)
