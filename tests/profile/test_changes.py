"""The change services: rules, history, audit events and notices (no link but the confirmation)."""

from __future__ import annotations

import datetime as dt

import pytest

from assure.core.exceptions import ValidationFailed
from assure.core.models import AuditEvent
from assure.identity.services import member_actor
from assure.members import changes
from assure.members.models import Member, ProfileChange
from assure.notifications.models import OutboxMessage
from tests.members.factories import MemberFactory
from tests.profile.conftest import ANY_URL, NOW, messages_for

pytestmark = pytest.mark.django_db

IBAN = "FR1420041010050500013M02606"
BIC = "PSSTFRPPLIL"


def _address(**overrides):
    values = {
        "line1": "5 avenue de la République",
        "line2": "Bâtiment B",
        "postal_code": "69003",
        "city": "Lyon",
        "country": "FR",
    } | overrides
    return changes.address_check(**values)


# --- Address ------------------------------------------------------------------------------------


def test_address_change_is_applied_recorded_audited_and_told_without_link(member):
    change = changes.member_address_change(
        member=member, address=_address(), actor=member_actor(member)
    )
    member.refresh_from_db()
    assert (member.address_line1, member.postal_code, member.city) == (
        "5 avenue de la République",
        "69003",
        "Lyon",
    )
    assert change.status == ProfileChange.Status.APPLIED
    assert change.applied_at == NOW
    assert change.previous["line1"] == "12 rue des Lilas"
    assert change.values["line2"] == "Bâtiment B"
    assert AuditEvent.objects.filter(
        action="members.address_changed", member_id=member.pk, object_id=str(change.pk)
    ).exists()
    (notice,) = messages_for(member, "profile_address_changed")
    assert notice.channel == OutboxMessage.Channel.EMAIL
    assert notice.recipient == {"email": "zoe@example.org"}
    assert not ANY_URL.search(notice.body)


def test_address_change_without_email_is_told_by_letter_at_the_new_address(db):
    member = MemberFactory(email=None)
    changes.member_address_change(member=member, address=_address(), actor=member_actor(member))
    (letter,) = messages_for(member, "profile_address_changed")
    assert letter.channel == OutboxMessage.Channel.LETTER
    assert letter.recipient["postal_code"] == "69003"
    assert not ANY_URL.search(letter.body)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"line1": ""}, "line1"),
        ({"line1": "x" * 39}, "line1"),
        ({"line2": "y" * 39}, "line2"),
        ({"postal_code": "7501"}, "postal_code"),
        ({"postal_code": "00100"}, "postal_code"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"city": ""}, "city"),
        ({"city": "z" * 33}, "city"),
        ({"country": "XX"}, "country"),
    ],
)
def test_address_rules(overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        _address(**overrides)
    assert field in caught.value.errors


def test_address_lines_of_38_characters_and_a_foreign_postcode_pass():
    address = _address(line1="x" * 38, country="be", postal_code="B-1000", city="Bruxelles")
    assert address.country == "BE"
    assert address.postal_code == "B-1000"
    assert _address(postal_code="97 400").postal_code == "97400"


# --- Phone --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("06 12 34 56 78", "0612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("01.02.03.04.05", "0102030405"),
    ],
)
def test_phone_formats(typed, kept):
    assert changes.phone_check(typed) == kept


@pytest.mark.parametrize("typed", ["", "12345", "0012345678", "+0612345678", "06 12 34 56 7"])
def test_phone_rejected(typed):
    with pytest.raises(ValidationFailed):
        changes.phone_check(typed)


def test_phone_change(member):
    change = changes.member_phone_change(
        member=member, phone="+33612345678", actor=member_actor(member)
    )
    member.refresh_from_db()
    assert member.phone == "+33612345678"
    assert change.previous == {"phone": "0601020304"}
    (notice,) = messages_for(member, "profile_phone_changed")
    assert not ANY_URL.search(notice.body)
    assert AuditEvent.objects.filter(action="members.phone_changed", member_id=member.pk).exists()


# --- E-mail -------------------------------------------------------------------------------------


def _token(member: Member) -> str:
    (message,) = messages_for(member, "profile_email_confirm")
    url = next(word for word in message.body.split() if "://" in word)
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_email_change_sends_a_link_to_the_new_address_only(member):
    change = changes.member_email_change_request(
        member=member, email="zoe.new@example.net", actor=member_actor(member)
    )
    member.refresh_from_db()
    assert member.email == "zoe@example.org"  # nothing changes before the link is followed
    assert change.status == ProfileChange.Status.AWAITING_CONFIRMATION
    assert change.applied_at is None
    (message,) = messages_for(member, "profile_email_confirm")
    assert message.recipient == {"email": "zoe.new@example.net"}
    urls = [word for word in message.body.split() if ANY_URL.search(word)]
    assert len(urls) == 1
    assert "/mon-profil/courriel/confirmer/" in urls[0]
    token = _token(member)
    assert len(token) == 64  # 256 bits
    assert token not in str(ProfileChange.objects.values_list("token_hash", flat=True)[0])
    # The old address hears nothing yet.
    assert messages_for(member, "profile_email_changed") == []


def test_following_the_link_changes_the_address_and_tells_the_old_one_without_link(member):
    changes.member_email_change_request(
        member=member, email="zoe.new@example.net", actor=member_actor(member)
    )
    token = _token(member)
    change = changes.member_email_change_confirm(token=token)
    member.refresh_from_db()
    assert member.email == "zoe.new@example.net"
    assert change.status == ProfileChange.Status.APPLIED
    assert change.applied_at == NOW
    (notice,) = messages_for(member, "profile_email_changed")
    assert notice.recipient == {"email": "zoe@example.org"}
    assert not ANY_URL.search(notice.body)
    assert AuditEvent.objects.filter(action="members.email_changed", member_id=member.pk).exists()
    with pytest.raises(changes.InvalidLink):  # single use
        changes.member_email_change_confirm(token=token)


def test_a_newer_request_cancels_the_older_link(member):
    changes.member_email_change_request(
        member=member, email="first@example.net", actor=member_actor(member)
    )
    first = _token(member)
    OutboxMessage.objects.filter(template="profile_email_confirm").delete()
    changes.member_email_change_request(
        member=member, email="second@example.net", actor=member_actor(member)
    )
    with pytest.raises(changes.InvalidLink):
        changes.member_email_change_confirm(token=first)
    changes.member_email_change_confirm(token=_token(member))
    member.refresh_from_db()
    assert member.email == "second@example.net"


def test_the_link_expires_after_24_hours(member, clock):
    changes.member_email_change_request(
        member=member, email="late@example.net", actor=member_actor(member)
    )
    token = _token(member)
    clock.shift(dt.timedelta(hours=24, seconds=1))
    with pytest.raises(changes.InvalidLink):
        changes.member_email_change_confirm(token=token)
    with pytest.raises(changes.InvalidLink):
        changes.member_email_change_confirm(token="0" * 64)


def test_no_old_address_means_a_letter(db):
    member = MemberFactory(email=None)
    changes.member_email_change_request(
        member=member, email="first@example.net", actor=member_actor(member)
    )
    changes.member_email_change_confirm(token=_token(member))
    (letter,) = messages_for(member, "profile_email_changed")
    assert letter.channel == OutboxMessage.Channel.LETTER


# --- Bank account -------------------------------------------------------------------------------


def test_bank_account_checks():
    checked = changes.bank_account_check(
        iban="fr14 2004 1010 0505 0001 3m02 606", bic=BIC, holder=" Zoé  Martin "
    )
    assert checked == changes.BankAccount(iban=IBAN, bic=BIC, holder="Zoé Martin")
    with pytest.raises(ValidationFailed) as caught:
        changes.bank_account_check(iban="FR1420041010050500013M02607", bic="PSST", holder="")
    assert set(caught.value.errors) == {"iban", "bic", "holder"}


def test_bank_account_needs_a_fresh_second_factor(member):
    account = changes.BankAccount(iban=IBAN, bic=BIC, holder="Zoé Martin")
    for at in (None, NOW - dt.timedelta(minutes=5), NOW + dt.timedelta(seconds=1)):
        with pytest.raises(changes.SecondFactorRequired):
            changes.member_bank_account_change(
                member=member, account=account, second_factor_at=at, actor=member_actor(member)
            )
    member.refresh_from_db()
    assert member.iban == "FR7630006000011234567890189"
    assert not ProfileChange.objects.exists()


def test_bank_account_change_is_pending_for_the_fund_masked_and_told_by_email_and_letter(member):
    account = changes.BankAccount(iban=IBAN, bic=BIC, holder="Zoé Martin")
    change = changes.member_bank_account_change(
        member=member,
        account=account,
        second_factor_at=NOW - dt.timedelta(minutes=4, seconds=59),
        actor=member_actor(member),
    )
    member.refresh_from_db()
    assert (member.iban, member.bic, member.bank_holder) == (IBAN, BIC, "Zoé Martin")
    assert change.status == ProfileChange.Status.PENDING_FUND
    assert change.values == {"iban": IBAN, "bic": BIC, "holder": "Zoé Martin"}
    assert "0189" not in str(change.previous)
    assert change.previous["iban_masked"].endswith("189")
    notices = messages_for(member, "profile_bank_account_changed")
    assert sorted(n.channel for n in notices) == ["email", "letter"]
    for notice in notices:
        assert not ANY_URL.search(notice.body)
        assert IBAN not in notice.body
        assert "FR14 •••• •••• •••• •••• •••• 606" in notice.body
    assert changes.profile_change_shown(change) == "FR14 •••• •••• •••• •••• •••• 606 (Zoé Martin)"
    assert AuditEvent.objects.filter(
        action="members.bank_account_changed", member_id=member.pk
    ).exists()


def test_iban_mask_hides_all_but_country_key_and_last_three():
    assert changes.iban_mask("FR7630006000011234567890189") == "FR76 •••• •••• •••• •••• •••• 189"
    assert changes.iban_mask(None) == ""


# --- History ------------------------------------------------------------------------------------


def test_history_is_the_members_own_newest_first(member, clock):
    other = MemberFactory()
    changes.member_phone_change(member=other, phone="0699999999", actor=member_actor(other))
    changes.member_phone_change(member=member, phone="0611111111", actor=member_actor(member))
    clock.shift(dt.timedelta(minutes=1))
    changes.member_address_change(member=member, address=_address(), actor=member_actor(member))
    history = list(changes.profile_change_list_for_member(member=member))
    assert [c.kind for c in history] == ["address", "phone"]


def test_the_current_address_is_not_a_change(member):
    with pytest.raises(ValidationFailed) as caught:
        changes.member_email_change_request(
            member=member, email="ZOE@example.org", actor=member_actor(member)
        )
    assert "email" in caught.value.errors
    assert messages_for(member, "profile_email_confirm") == []
