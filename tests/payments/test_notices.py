"""The e-mail after a feed run: one per member with new paid lines, with nothing in it to phish
with or to leak (no amount, act, care or link)."""

from __future__ import annotations

import re

import pytest

from assure.identity.models import Account
from assure.notifications.models import OutboxMessage
from tests.members.factories import MemberFactory
from tests.payments.lines import allowance_line, load, statement_line

pytestmark = pytest.mark.django_db


def _account(member, **fields):
    return Account.objects.create(
        member=member, secret_code_hash="x", must_change_code=False, **fields
    )


def test_one_notice_per_member_per_run_with_no_detail():
    member = MemberFactory(email="zoe@example.org", given_names="Zoé")
    _account(member)
    lines = [
        statement_line(member.nir, external_id=f"N{i}", label="Psychiatre", provider="Dr Secret")
        for i in range(3)
    ]
    load("statements", lines, batch_size=1)  # three batches, still one notice
    notices = OutboxMessage.objects.filter(template="payment_notice")
    assert notices.count() == 1
    notice = notices.get()
    assert notice.recipient == {"email": "zoe@example.org"}
    assert notice.member_id == member.pk
    text = notice.subject + notice.body
    assert "Bonjour Zoé" in notice.body
    for secret in ("19", "€", "Psychiatre", "Dr Secret", "consultation", "G "):
        assert secret not in text
    assert not re.search(r"https?://|www\.", text)

    # The same lines again are unchanged: no new notice.
    load("statements", lines)
    assert notices.count() == 1


def test_notice_only_for_newly_paid_lines_and_for_members_with_an_account():
    member = MemberFactory()
    _account(member)
    without_account = MemberFactory()
    pending = statement_line(member.nir, status="processing", paid_on=None)
    load("statements", [pending, statement_line(without_account.nir, external_id="X")])
    assert not OutboxMessage.objects.filter(template="payment_notice").exists()

    load("statements", [statement_line(member.nir)])  # now paid
    assert OutboxMessage.objects.filter(template="payment_notice", member_id=member.pk).count() == 1


def test_an_allowance_paid_sends_a_notice_too():
    member = MemberFactory()
    _account(member)
    load("allowances", [allowance_line(member.nir)])
    notice = OutboxMessage.objects.get(template="payment_notice")
    assert "425" not in notice.body


def test_a_terminated_account_or_no_address_gets_nothing():
    member = MemberFactory(email=None)
    _account(member)  # no address on record, none proven
    closed = MemberFactory()
    _account(closed, status=Account.Status.TERMINATED)
    load("statements", [statement_line(member.nir), statement_line(closed.nir, external_id="Y")])
    assert not OutboxMessage.objects.filter(template="payment_notice").exists()


def test_the_notice_reads_in_english():
    from assure.notifications.rendering import email_render

    rendered = email_render(template="payment_notice", context={"first_name": "Zoé"}, language="en")
    assert "payment" in rendered.subject.lower()
