"""Staff sessions end after BACKOFFICE_IDLE_SECONDS without a request (15 minutes by default)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SEEN_KEY = "backoffice_seen"
# How stale the last-seen time may get before it is written again: writing it on every request
# saved the session (an UPDATE and its commit) on every page an advisor opens. A session thus ends
# between BACKOFFICE_IDLE_SECONDS and that plus this many seconds after the last request.
SEEN_REFRESH_SECONDS = 30


class StaffIdleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            seen = request.session.get(SEEN_KEY)
            if seen is not None and now - float(seen) > settings.BACKOFFICE_IDLE_SECONDS:
                logout(request)
            elif seen is None or now - float(seen) >= SEEN_REFRESH_SECONDS:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
