"""Reads of identity, scoped to the member who asks."""

from __future__ import annotations

import datetime as dt
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


def _account_by_nir_query(nir: str) -> QuerySet[Account]:
    # A slice, not first(): the NIR is unique, and ORDER BY would only add work.
    return Account.objects.select_related("member").filter(member__nir=nir)[:1]


# Read by every login, next to the hash that should be its only real cost: compiled once.
_account_by_nir = CompiledRead(Account, _account_by_nir_query, stand_ins=("-",))


def account_for_nir(nir: str) -> Account | None:
    """The account of the member with this (normalised) NIR, with its member; or None."""
    return _account_by_nir.first(nir)


def _known_device_query(
    account_id: int, device_hash: str, now: dt.datetime
) -> QuerySet[KnownDevice]:
    return KnownDevice.objects.filter(
        account_id=account_id, device_hash=device_hash, expires_at__gt=now
    ).only("pk", "last_seen_at")[:1]


_known_device = CompiledRead(
    KnownDevice,
    _known_device_query,
    stand_ins=(-1, "-", dt.datetime(1000, 1, 1, tzinfo=dt.UTC)),
)


def known_device(*, account: Account, device_hash: str, now: dt.datetime) -> KnownDevice | None:
    """The account's remembered device with this hash, if it has not expired by `now`."""
    return _known_device.first(account.pk, device_hash, now)
