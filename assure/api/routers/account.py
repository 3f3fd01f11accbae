"""sessions and account/: the member's sessions and app tokens, and closing the account."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from assure.api.auth import member_auth
from assure.api.routers.auth import AcceptedOut, LockedOut, ProblemOut
from assure.api.throttling import AddressThrottle, AuthThrottle, MemberThrottle
from assure.identity import selectors, services, throttling
from assure.identity.models import Account, MemberSession

router = Router(tags=["account"], auth=member_auth)


class SessionOut(Schema):
    id: int
    kind: Literal["web", "app"]
    device: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


class SessionListOut(Schema):
    items: list[SessionOut]
    next: str | None = None


class TerminateIn(Schema):
    secret_code: str


@router.get(
    "sessions",
    response={200: SessionListOut, 401: ProblemOut},
    operation_id="sessions_list",
    summary="The member's open sessions and app tokens",
)
def session_list(request: HttpRequest) -> SessionListOut:
    account: Account = request.member_account  # type: ignore[attr-defined]
    current: MemberSession = request.member_session  # type: ignore[attr-defined]
    return SessionListOut(
        items=[
            SessionOut(
                id=s.pk,
                kind=s.kind,  # type: ignore[arg-type]
                device=s.device_label,
                created_at=s.created_at,
                last_seen_at=s.last_seen_at,
                current=s.pk == current.pk,
            )
            for s in selectors.session_list_for_member(account=account)[:100]
        ]
    )


@router.delete(
    "sessions/{session_id}",
    response={204: None, 401: ProblemOut, 404: ProblemOut},
    operation_id="sessions_delete",
    summary="End one of the member's sessions",
)
def session_delete(request: HttpRequest, session_id: int) -> HttpResponse:
    account: Account = request.member_account  # type: ignore[attr-defined]
    services.session_end_for_member(
        account=account, session_id=session_id, actor=services.member_actor(account.member)
    )
    return HttpResponse(status=204)


@router.post(
    "account/terminate",
    response={202: AcceptedOut, 400: ProblemOut, 401: ProblemOut, 423: LockedOut},
    operation_id="account_terminate",
    throttle=[AddressThrottle(), AuthThrottle(), MemberThrottle()],
    summary="Close the account (the secret code is asked again)",
)
def account_terminate(request: HttpRequest, payload: TerminateIn) -> Status[AcceptedOut]:
    account: Account = request.member_account  # type: ignore[attr-defined]
    services.account_terminate(
        account=account,
        secret_code=payload.secret_code,
        address=throttling.client_address(request),
        actor=services.member_actor(account.member),
    )
    return Status(
        202, AcceptedOut(detail=_("Votre compte est clôturé. Une confirmation vous est envoyée."))
    )
