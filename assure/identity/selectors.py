"""Reads of identity, scoped to the member who asks."""

from __future__ import annotations

from django.db.models import QuerySet

from assure.identity.models import Account, KnownDevice, MemberSession


def session_list_for_member(*, account: Account) -> QuerySet[MemberSession]:
    return MemberSession.objects.filter(account=account, ended_at=None).order_by(
        "-last_seen_at", "-id"
    )


def device_list_for_member(*, account: Account) -> QuerySet[KnownDevice]:
    return KnownDevice.objects.filter(account=account).order_by("-last_seen_at")


def recovery_codes_left_for_member(*, account: Account) -> int:
    return account.recovery_codes.filter(used_at=None).count()
