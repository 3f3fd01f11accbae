"""me/access-log: who at the fund consulted the member's file (API.md)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.identity.access_log import access_log_list_for_member

router = Router(tags=["account"], auth=member_auth)


class AccessOut(Schema):
    at: dt.datetime
    staff: str
    reason: str


class AccessListOut(Schema):
    items: list[AccessOut]


@router.get("me/access-log", response={200: AccessListOut, 401: ProblemOut})
def access_log(request: HttpRequest) -> AccessListOut:
    member = request.member  # type: ignore[attr-defined]
    return AccessListOut(
        items=[
            AccessOut(at=a.at, staff=a.staff, reason=a.reason)
            for a in access_log_list_for_member(member=member)
        ]
    )
