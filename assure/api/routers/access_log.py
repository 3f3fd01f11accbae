"""me/access-log: who at the fund consulted the member's file (API.md)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.identity.access_log import access_log_list_for_member

router = Router(tags=["account"], auth=member_auth)

MAX_LIMIT = 100


class AccessOut(Schema):
    at: dt.datetime
    staff: str = Field(description="The staff member's display name.")
    reason: str


class AccessListOut(Schema):
    items: list[AccessOut]
    next: str | None = Field(
        None, description="Always null: the log is kept short and given whole, up to `limit`."
    )


class AccessListQuery(Schema):
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT)


@router.get(
    "me/access-log",
    response={200: AccessListOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="me_access_log",
    summary="Who at the fund consulted the member's file, newest first",
)
def access_log(request: HttpRequest, query: Query[AccessListQuery]) -> AccessListOut:
    member = request.member  # type: ignore[attr-defined]
    return AccessListOut(
        items=[
            AccessOut(at=a.at, staff=a.staff, reason=a.reason)
            for a in access_log_list_for_member(member=member, limit=query.limit)
        ],
        next=None,
    )
