"""Shared helpers of the identity tests: members with accounts, codes read from the outbox."""

from __future__ import annotations

import re

from django.contrib.auth.hashers import make_password

from assure.identity.models import Account
from assure.members.models import Member
from assure.notifications.models import OutboxMessage
from tests.members.factories import MemberFactory

SECRET = "un cheval vert mange des pommes"


def active_account(member: Member | None = None, *, secret: str = SECRET, **fields) -> Account:
    member = member or MemberFactory()
    return Account.objects.create(
        member=member, secret_code_hash=make_password(secret), must_change_code=False, **fields
    )


def last_message(template: str, member: Member | None = None) -> OutboxMessage:
    qs = OutboxMessage.objects.filter(template=template)
    if member is not None:
        qs = qs.filter(member_id=member.pk)
    message = qs.order_by("-id").first()
    assert message is not None, f"no {template} message"
    return message


def provisional_code_in(message: OutboxMessage) -> str:
    match = re.search(r":\s*([0-9A-Z]{8})\b", message.body)
    assert match, message.body
    return match.group(1)


def otp_in(message: OutboxMessage) -> str:
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, message.body
    return match.group(1)
