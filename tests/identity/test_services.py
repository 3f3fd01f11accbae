"""Identity services: every rule of issue 3, against the database and the outbox."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from assure.core.services import Actor
from assure.identity import services
from assure.identity.exceptions import (
    AccountLocked,
    AddressBlocked,
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    SupersededCode,
    WeakSecretCode,
)
from assure.identity.models import Account, KnownDevice, MemberSession, ProvisionalCode
from assure.identity.tokens import PROVISIONAL_ALPHABET, provisional_code_new
from assure.members.nir import with_key
from assure.notifications.models import OutboxMessage
from tests.identity.helpers import (
    SECRET,
    active_account,
    last_message,
    otp_in,
    provisional_code_in,
)
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NEW_SECRET = "la mer est calme ce matin"


def _signup(member, **overrides):
    data = {
        "nir": member.nir,
        "birth_date": member.birth_date,
        "vitale_serial": member.vitale_serial,
        "iban_end": member.iban[-7:] if member.iban else "",
        "email": "",
        "channel": "email",
        "actor": ACTOR,
    }
    data.update(overrides)
    services.account_signup_request(**data)


def _login(member, code, device="", address="10.0.0.1"):
    return services.login(
        nir=member.nir, secret_code=code, device_hash=device, address=address, device_label="t"
    )


# --- Provisional codes ---------------------------------------------------------------------------


def test_provisional_code_alphabet_gives_40_bits():
    import math

    code = provisional_code_new()
    assert len(code) == 8
    assert set(code) <= set(PROVISIONAL_ALPHABET)
    assert not set("ILOU") & set(PROVISIONAL_ALPHABET)
    assert 8 * math.log2(len(PROVISIONAL_ALPHABET)) >= 40


def test_signup_sends_code_by_email_hashed_and_valid_48_hours():
    member = MemberFactory()
    _signup(member)
    message = last_message("identity_provisional_code", member)
    assert message.channel == "email"
    assert message.recipient["email"] == member.email
    plain = provisional_code_in(message)
    code = ProvisionalCode.objects.get(account__member=member)
    assert plain not in code.code_hash
    assert code.expires_at - code.created_at == dt.timedelta(hours=48)


def test_signup_by_post_is_valid_15_days():
    member = MemberFactory()
    _signup(member, channel="post")
    message = last_message("identity_provisional_code", member)
    assert message.channel == "letter"
    code = ProvisionalCode.objects.get(account__member=member)
    assert code.expires_at - code.created_at == dt.timedelta(days=15)


def test_signup_with_wrong_proof_sends_nothing():
    member = MemberFactory()
    _signup(member, vitale_serial="999")
    _signup(member, iban_end="0000000")
    _signup(member, birth_date=dt.date(1990, 1, 1))
    assert not OutboxMessage.objects.exists()
    assert not Account.objects.exists()


def test_signup_typed_email_used_only_when_register_has_none():
    with_email = MemberFactory()
    _signup(with_email, email="other@example.org")
    assert last_message("identity_provisional_code", with_email).recipient["email"] == (
        with_email.email
    )
    without = MemberFactory(email=None)
    _signup(without, email="typed@example.org")
    assert last_message("identity_provisional_code", without).recipient["email"] == (
        "typed@example.org"
    )


def test_temporary_nir_cannot_sign_up():
    member = MemberFactory(nir=with_key("7850575056001"))
    _signup(member)
    assert not OutboxMessage.objects.exists()


def test_signup_with_an_account_sends_already_registered_notice():
    account = active_account()
    _signup(account.member)
    last_message("identity_already_registered", account.member)
    assert not ProvisionalCode.objects.exists()


def test_new_provisional_code_supersedes_old_with_message():
    member = MemberFactory()
    _signup(member)
    first = provisional_code_in(last_message("identity_provisional_code", member))
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        services.forgot_code_request(
            nir=member.nir, birth_date=member.birth_date, channel="post", actor=ACTOR
        )
    with pytest.raises(SupersededCode) as caught:
        _login(member, first)
    assert caught.value.extra["channel"] == "post"
    assert caught.value.extra["replaced_on"] == timezone.localdate().isoformat()


def test_provisional_code_is_single_use_and_never_definitive():
    member = MemberFactory()
    _signup(member)
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    result = _login(member, plain)
    assert result.status == "code_change_required"
    with pytest.raises(WeakSecretCode) as caught:
        services.secret_code_set_with_challenge(
            challenge=result.challenge, new_secret_code=plain, device_hash="", device_label=""
        )
    assert "too_short" in caught.value.extra["rules"]
    services.secret_code_set_with_challenge(
        challenge=result.challenge, new_secret_code=NEW_SECRET, device_hash="d", device_label="x"
    )
    with pytest.raises(InvalidCredentials):
        _login(member, plain)
    assert _login(member, NEW_SECRET, device="d").status == "authenticated"
    last_message("identity_code_changed", member)


def test_provisional_code_expires():
    member = MemberFactory()
    _signup(member)
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    with (
        time_machine.travel(timezone.now() + dt.timedelta(hours=48, seconds=1)),
        pytest.raises(InvalidCredentials),
    ):
        _login(member, plain)


def test_provisional_code_allows_five_tries():
    member = MemberFactory()
    _signup(member)
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    for i in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            _login(member, f"WRONG{i:03d}", address=f"10.0.0.{i}")
    # The lock is over, but the code has used up its tries.
    with (
        time_machine.travel(timezone.now() + dt.timedelta(minutes=16)),
        pytest.raises(InvalidCredentials),
    ):
        _login(member, plain)


def test_lowercase_and_look_alikes_are_accepted():
    member = MemberFactory()
    issued = services.provisional_code_issue(
        account=Account.objects.create(member=member), channel="email", actor=ACTOR
    )
    typed = issued.plain.lower().replace("0", "o").replace("1", "l")
    assert _login(member, typed).status == "code_change_required"


# --- Definitive code rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ("password1234", "breached"),
        ("azertyuiop", "too_short"),
        ("azertyuiop12", "breached"),
        ("Sécurité sociale", "breached"),
        ("x" * 129, "too_long"),
        ("mon numero 1 85 05 75 056 001", "contains_nir"),
        ("né le 14/05/1985 à Paris", "contains_birth_date"),
        ("né en 19850514 à Paris", "contains_birth_date"),
        ("Camille aime les vélos", "contains_name"),
    ],
)
def test_weak_codes_are_refused_with_the_rule(secret, rule):
    from assure.identity.rules import PersonalData, broken_rules

    personal = PersonalData(
        nir="185057505600123", birth_date=dt.date(1985, 5, 14), names=("Camille Marie", "DUPONT")
    )
    assert rule in broken_rules(secret, personal)


def test_azertyuiop_is_in_the_breached_list():
    from assure.identity.rules import is_breached

    assert is_breached("azertyuiop")
    assert is_breached("password1234")


def test_good_code_is_nfkc_normalised_and_hashed_with_argon2id():
    member = MemberFactory()
    account = Account.objects.create(member=member)
    issued = services.provisional_code_issue(account=account, channel="email", actor=ACTOR)
    result = _login(member, issued.plain)
    # A full-width capital A (U+FF21) is NFKC-normalised to "A": both spellings log in.
    services.secret_code_set_with_challenge(
        challenge=result.challenge,
        new_secret_code="\uff21 la claire fontaine",
        device_hash="dev",
        device_label="",
    )
    account.refresh_from_db()
    assert account.secret_code_hash.startswith("argon2$argon2id$")
    assert "m=19456,t=2,p=1" in account.secret_code_hash
    assert check_password("A la claire fontaine", account.secret_code_hash)
    assert _login(member, "\uff21 la claire fontaine", device="dev").status == "authenticated"


def test_rehash_on_login_when_parameters_change(settings):
    settings.ARGON2_TIME_COST = 1
    account = active_account()
    assert ",t=1," in account.secret_code_hash
    settings.ARGON2_TIME_COST = 2
    _login(account.member, SECRET)
    account.refresh_from_db()
    assert ",t=2," in account.secret_code_hash


# --- Login, second factor, devices ---------------------------------------------------------------


def test_unknown_device_gets_an_email_code_then_is_remembered():
    account = active_account()
    result = _login(account.member, SECRET, device="laptop")
    assert result.status == "second_factor_required"
    assert result.methods == ["email_otp"]
    otp = otp_in(last_message("identity_login_otp", account.member))
    with pytest.raises(InvalidCode):
        services.second_factor_verify(
            challenge=result.challenge,
            method="email_otp",
            code="000000" if otp != "000000" else "111111",
            device_hash="laptop",
            device_label="",
        )
    services.second_factor_verify(
        challenge=result.challenge,
        method="email_otp",
        code=otp,
        device_hash="laptop",
        device_label="Firefox",
    )
    last_message("identity_new_device", account.member)
    assert _login(account.member, SECRET, device="laptop").status == "authenticated"
    # Remembered 90 days, not 91.
    with time_machine.travel(timezone.now() + dt.timedelta(days=91)):
        assert _login(account.member, SECRET, device="laptop").status == "second_factor_required"


def test_email_code_five_tries_and_ten_minutes():
    account = active_account()
    result = _login(account.member, SECRET, device="a")
    otp = otp_in(last_message("identity_login_otp", account.member))
    wrong = "000000" if otp != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(InvalidCode):
            services.second_factor_verify(
                challenge=result.challenge,
                method="email_otp",
                code=wrong,
                device_hash="a",
                device_label="",
            )
    with pytest.raises(InvalidCode):
        services.second_factor_verify(
            challenge=result.challenge,
            method="email_otp",
            code=otp,
            device_hash="a",
            device_label="",
        )
    # The 5 wrong codes also locked the NIR for 15 minutes; afterwards, a new challenge expires.
    later = timezone.now() + dt.timedelta(minutes=16)
    with time_machine.travel(later):
        result = _login(account.member, SECRET, device="a")
    otp = otp_in(last_message("identity_login_otp", account.member))
    with (
        time_machine.travel(later + dt.timedelta(minutes=10, seconds=1)),
        pytest.raises(InvalidCode),
    ):
        services.second_factor_verify(
            challenge=result.challenge,
            method="email_otp",
            code=otp,
            device_hash="a",
            device_label="",
        )


def test_totp_replaces_email_code_and_recovery_codes_work_once():
    import pyotp

    account = active_account()
    secret = services.totp_secret_new()
    codes = services.totp_enable(
        account=account, secret=secret, code=pyotp.TOTP(secret).now(), actor=ACTOR
    )
    assert len(codes) == 10
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60)):
        result = _login(account.member, SECRET, device="phone")
        assert result.methods == ["totp", "recovery_code"]
        assert not OutboxMessage.objects.filter(template="identity_login_otp").exists()
        services.second_factor_verify(
            challenge=result.challenge,
            method="totp",
            code=pyotp.TOTP(secret).now(),
            device_hash="phone",
            device_label="",
        )
    result = _login(account.member, SECRET, device="tablet")
    services.second_factor_verify(
        challenge=result.challenge,
        method="recovery_code",
        code=codes[0],
        device_hash="tablet",
        device_label="",
    )
    result = _login(account.member, SECRET, device="other")
    with pytest.raises(InvalidCode):
        services.second_factor_verify(
            challenge=result.challenge,
            method="recovery_code",
            code=codes[0],
            device_hash="other",
            device_label="",
        )


def test_member_without_email_gets_a_letter_instead_of_a_code():
    account = active_account(MemberFactory(email=None))
    assert _login(account.member, SECRET, device="x").status == "authenticated"
    assert last_message("identity_new_device", account.member).channel == "letter"
    assert KnownDevice.objects.filter(account=account).exists()


# --- Throttling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("has_account", [True, False])
def test_five_failures_lock_15_then_30_minutes(has_account):
    member = active_account().member if has_account else MemberFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for i in range(4):
            with pytest.raises(InvalidCredentials):
                _login(member, f"wrong code {i}")
        with pytest.raises(AccountLocked) as caught:
            _login(member, "wrong code 5")
        until = dt.datetime.fromisoformat(caught.value.extra["locked_until"])
        assert until == (start + dt.timedelta(minutes=15)).replace(microsecond=0)
        with pytest.raises(AccountLocked):
            _login(member, SECRET)  # even the right code waits
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        for i in range(4):
            with pytest.raises(InvalidCredentials):
                _login(member, f"wrong again {i}")
        with pytest.raises(AccountLocked) as caught:
            _login(member, "wrong again 5")
        until = dt.datetime.fromisoformat(caught.value.extra["locked_until"])
        assert until - timezone.now() >= dt.timedelta(minutes=29)
    if has_account:
        assert OutboxMessage.objects.filter(template="identity_locked").count() == 2


def test_success_resets_the_count():
    account = active_account()
    KnownDevice.objects.create(
        account=account, device_hash="d", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    for i in range(4):
        with pytest.raises(InvalidCredentials):
            _login(account.member, f"wrong {i}", device="d")
    assert _login(account.member, SECRET, device="d").status == "authenticated"
    for i in range(4):
        with pytest.raises(InvalidCredentials):
            _login(account.member, f"wrong {i}")


def test_never_more_than_100_failures_an_hour(settings):
    settings.IDENTITY_LOCK_AFTER_FAILURES = 1000  # isolate the hourly cap
    member = MemberFactory()
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        for i in range(99):
            with pytest.raises(InvalidCredentials):
                _login(member, f"wrong {i}", address=f"10.1.{i}.1")
        with pytest.raises(AccountLocked):
            _login(member, "wrong 100", address="10.9.9.9")


def test_address_spraying_many_nirs_is_blocked(settings):
    settings.IDENTITY_ADDRESS_FAILURES = 5
    members = MemberFactory.create_batch(6)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for member in members[:5]:
            with pytest.raises(InvalidCredentials):
                _login(member, "wrong code", address="192.0.2.1")
        with pytest.raises(AddressBlocked):
            _login(members[5], "wrong code", address="192.0.2.1")
        with pytest.raises(AddressBlocked):
            _login(members[5], "wrong code", address="192.0.2.1")
        with pytest.raises(InvalidCredentials):
            _login(members[5], "wrong code", address="192.0.2.2")
    with (
        time_machine.travel(start + dt.timedelta(minutes=11), tick=False),
        pytest.raises(InvalidCredentials),
    ):
        _login(members[5], "wrong code", address="192.0.2.1")


# --- Tokens, termination -------------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_family():
    account = active_account()
    pair = services.app_tokens_issue(account=account, device_label="app")
    assert services.access_token_session(pair.access_token) is not None
    second = services.app_tokens_refresh(refresh_token=pair.refresh_token)
    with pytest.raises(InvalidToken):
        services.app_tokens_refresh(refresh_token=pair.refresh_token)
    with pytest.raises(InvalidToken):
        services.app_tokens_refresh(refresh_token=second.refresh_token)
    assert services.access_token_session(second.access_token) is None


def test_access_token_lives_15_minutes_and_refresh_30_days():
    account = active_account()
    pair = services.app_tokens_issue(account=account, device_label="app")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15, seconds=1)):
        assert services.access_token_session(pair.access_token) is None
    with (
        time_machine.travel(timezone.now() + dt.timedelta(days=30, seconds=1)),
        pytest.raises(InvalidToken),
    ):
        services.app_tokens_refresh(refresh_token=pair.refresh_token)


def test_termination_needs_the_code_ends_sessions_and_reactivation_works():
    account = active_account()
    services.app_tokens_issue(account=account, device_label="app")
    with pytest.raises(InvalidCredentials):
        services.account_terminate(account=account, secret_code="wrong", address="", actor=ACTOR)
    services.account_terminate(account=account, secret_code=SECRET, address="", actor=ACTOR)
    account.refresh_from_db()
    assert account.status == Account.Status.TERMINATED
    assert not MemberSession.objects.filter(account=account, ended_at=None).exists()
    last_message("identity_terminated", account.member)
    with pytest.raises(InvalidCredentials):
        _login(account.member, SECRET)
    member = account.member
    services.forgot_code_request(
        nir=member.nir, birth_date=member.birth_date, channel="email", actor=ACTOR
    )
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    result = _login(member, plain)
    services.secret_code_set_with_challenge(
        challenge=result.challenge, new_secret_code=NEW_SECRET, device_hash="d", device_label=""
    )
    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE
    assert _login(member, NEW_SECRET, device="d").status == "authenticated"


def test_account_check_answers_by_mail_only_when_identity_matches():
    member = MemberFactory()
    services.account_check_request(
        nir=member.nir, birth_date=member.birth_date, vitale_serial="wrong", actor=ACTOR
    )
    assert not OutboxMessage.objects.exists()
    services.account_check_request(
        nir=member.nir,
        birth_date=member.birth_date,
        vitale_serial=member.vitale_serial,
        actor=ACTOR,
    )
    assert "pas encore de compte" in last_message("identity_account_check", member).body


def test_notices_carry_no_link():
    import re

    account = active_account()
    services.account_terminate(account=account, secret_code=SECRET, address="", actor=ACTOR)
    for message in OutboxMessage.objects.all():
        assert not re.search(r"https?://", message.body)


def test_wrong_second_factor_codes_count_towards_the_lock():
    account = active_account()
    for _ in range(5):
        result = _login(account.member, SECRET, device="stolen")
        otp = otp_in(last_message("identity_login_otp", account.member))
        with pytest.raises(InvalidCode):
            services.second_factor_verify(
                challenge=result.challenge,
                method="email_otp",
                code=f"{(int(otp) + 1) % 10**6:06d}",
                device_hash="stolen",
                device_label="",
            )
    with pytest.raises(AccountLocked):
        _login(account.member, SECRET, device="stolen")


def test_staff_unlock_and_termination_are_audited():
    from assure.core.models import AuditEvent

    account = active_account()
    for i in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            _login(account.member, f"wrong {i}")
    staff = Actor(kind="staff", id="7", display="Conseiller")
    services.account_unlock(account=account, actor=staff, reason="appel 3646, identité vérifiée")
    KnownDevice.objects.create(
        account=account, device_hash="d", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert _login(account.member, SECRET, device="d").status == "authenticated"
    services.account_terminate_by_staff(account=account, actor=staff, reason="fraude")
    account.refresh_from_db()
    assert account.status == Account.Status.TERMINATED
    actions = set(
        AuditEvent.objects.filter(member_id=account.member_id).values_list("action", flat=True)
    )
    assert {"identity.account_unlocked", "identity.account_terminated"} <= actions
