"""Process probes, error pages, the public pages of the shell and the fund's theme."""

from __future__ import annotations

import logging
import sys

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from assure.core import selectors
from assure.core.context_processors import fund_context
from assure.core.middleware import is_database_outage, service_unavailable_response
from assure.core.theme import theme_colours

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is checked, so a load balancer never kills a busy one."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Whether this process can serve: database, cache and task queue reachable.

    Redis down (cache, RQ queue) is "degraded" with 200: members still sign in and read, and
    taking every web process out of a load balancer would help nobody. The database down is
    "unavailable" with 503.
    """
    checks = selectors.readiness_checks()
    status = selectors.readiness_status(checks)
    return JsonResponse(
        {"status": status, "checks": checks},
        status=503 if status == "unavailable" else 200,
    )


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "core/legal_notice.html")


@require_GET
@cache_control(public=True, max_age=24 * 60 * 60)
def theme_css(request: HttpRequest) -> HttpResponse:
    """The fund's colours as CSS custom properties: a stylesheet from 'self', so the CSP holds."""
    css = loader.render_to_string("core/theme.css", theme_colours())
    return HttpResponse(css, content_type="text/css; charset=utf-8")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/404.html", status=404)


def _bare_page(template_name: str, status: int) -> HttpResponse:
    """A page that touches neither the session nor the database: they may be what failed."""
    html = loader.render_to_string(template_name, fund_context() | {"bare_page": True})
    return HttpResponse(html, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this handler while it handles the exception: an unreachable database (met in
    # a middleware, before any view) is a 503 with Retry-After, not an error of the application.
    if is_database_outage(sys.exc_info()[1]):
        return service_unavailable_response(request)
    return _bare_page("core/500.html", status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    return _bare_page("core/503.html", status=503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/403_csrf.html", status=403)


__all__ = ["cache", "connection"]
