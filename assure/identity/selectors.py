"""Reads of identity, scoped to the member who asks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from assure.core.compiled import CompiledRead
from assure.identity.models import Account, KnownDevice, MemberSession


def _live_session_query(session_id: int, kind: str) -> QuerySet[MemberSession]:
    # A slice rather than first(): the key is unique, so no ORDER BY to build and run.
    return MemberSession.objects.select_related("account__member").filter(
        pk=session_id, kind=kind, ended_at=None
    )[:1]


# Read on every signed-in request (web pages and the API): compiled once, not per request.
_live_session = CompiledRead(MemberSession, _live_session_query, stand_ins=(-1, "-"))


def live_session(session_id: Any, kind: str) -> MemberSession | None:
    """The session `session_id` of this kind, not ended, with its account and member; or None."""
    if type(session_id) is not int:  # from a signed value, but never trusted to be a key
        return None
    # str(): a choice is an enum, which a database driver may write by its name, not its value.
    return _live_session.first(session_id, str(kind))


def session_list_for_member(*, account: Account) -> QuerySet[MemberSession]:
    return MemberSession.objects.filter(account=account, ended_at=None).order_by(
        "-last_seen_at", "-id"
    )


def device_list_for_member(*, account: Account) -> QuerySet[KnownDevice]:
    return KnownDevice.objects.filter(account=account).order_by("-last_seen_at")


def recovery_codes_left_for_member(*, account: Account) -> int:
    return account.recovery_codes.filter(used_at=None).count()
