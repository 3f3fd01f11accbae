"""Puts the signed-in member on the request: `request.member` and `request.member_account`.

The member's session lives in Django's session; a MemberSession row mirrors it so that the member
can list and end it from another device. Idle sessions end after SESSION_IDLE_SECONDS, every
session after SESSION_COOKIE_AGE, whatever the cookie says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from assure.identity import selectors
from assure.identity.models import MemberSession

SESSION_KEY = "identity_member_session"
# How stale last_seen_at may get before it is written again: one write a minute, not per request.
_TOUCH_SECONDS = 60


def member_session_for(request: HttpRequest) -> MemberSession | None:
    session_id = request.session.get(SESSION_KEY)
    if not session_id:
        return None
    found = selectors.live_session(session_id, MemberSession.Kind.WEB)
    now = timezone.now()
    if found is None or not found.account.is_active:
        request.session.flush()
        return None
    idle = dt.timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    absolute = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    if found.last_seen_at + idle <= now or found.created_at + absolute <= now:
        reason = "idle" if found.last_seen_at + idle <= now else "expired"
        MemberSession.objects.filter(pk=found.pk).update(ended_at=now, end_reason=reason)
        request.session.flush()
        return None
    if (now - found.last_seen_at).total_seconds() >= _TOUCH_SECONDS:
        MemberSession.objects.filter(pk=found.pk).update(last_seen_at=now)
        found.last_seen_at = now
    return found


class MemberSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = member_session_for(request)
        request.member_session = session  # type: ignore[attr-defined]
        request.member_account = session.account if session else None  # type: ignore[attr-defined]
        request.member = session.account.member if session else None  # type: ignore[attr-defined]
        return self.get_response(request)
