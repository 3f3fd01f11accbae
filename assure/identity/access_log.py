""" "Who consulted my file": the staff consultations of the member's data, read from the audit
trail, for the page /mon-compte/acces/ and the endpoint GET /api/v1/me/access-log.

Only consultations (actions ending in `_viewed`, by staff) are shown: the member sees who looked
and why, not the fund's internal steps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assure.core.models import AuditEvent
from assure.identity.decorators import member_login_required
from assure.members.models import Member

ACCESS_LOG_LIMIT = 100


@dataclass(frozen=True)
class Access:
    at: dt.datetime
    staff: str
    reason: str


def access_log_list_for_member(*, member: Member, limit: int = ACCESS_LOG_LIMIT) -> list[Access]:
    rows = (
        AuditEvent.objects.filter(
            member_id=member.pk,
            actor_kind=AuditEvent.ActorKind.STAFF,
            action__endswith="_viewed",
        )
        .order_by("-at", "-id")
        .values_list("at", "actor_display", "reason")[:limit]
    )
    return [Access(at=at, staff=staff, reason=reason) for at, staff, reason in rows]


@member_login_required
def access_log_view(request: HttpRequest) -> HttpResponse:
    member = request.member_account.member  # type: ignore[attr-defined]
    return render(
        request,
        "identity/access_log.html",
        {"accesses": access_log_list_for_member(member=member)},
    )
