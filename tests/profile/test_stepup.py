"""The second factor asked again before a bank account change: fresh for 5 minutes, 5 tries."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.utils import timezone

from assure.core.exceptions import Throttled
from assure.identity import stepup, throttling
from assure.identity.exceptions import AccountLocked, InvalidCode
from assure.identity.models import LoginChallenge
from assure.identity.services import member_actor, second_factor_verify
from tests.identity.helpers import active_account, otp_in
from tests.members.factories import MemberFactory
from tests.profile.conftest import NOW, messages_for

pytestmark = pytest.mark.django_db


def _start(account):
    return stepup.step_up_start(account=account, actor=member_actor(account.member))


def _verify(account, challenge, code, method=""):
    return stepup.step_up_verify(
        account=account,
        challenge=challenge,
        code=code,
        method=method,
        actor=member_actor(account.member),
    )


def test_email_code_is_sent_and_gives_the_time_it_was_done(account):
    started = _start(account)
    assert started.methods == ["email_otp"]
    (message,) = messages_for(account.member, "profile_step_up_code")
    assert message.recipient == {"email": "zoe@example.org"}
    assert _verify(account, started.challenge, otp_in(message)) == NOW
    with pytest.raises(InvalidCode):  # single use
        _verify(account, started.challenge, otp_in(message))


def test_the_challenge_expires_after_5_minutes(account, clock):
    started = _start(account)
    code = otp_in(messages_for(account.member, "profile_step_up_code")[0])
    clock.shift(dt.timedelta(minutes=5))
    with pytest.raises(InvalidCode):
        _verify(account, started.challenge, code)


def test_five_wrong_codes_end_the_challenge_and_lock_like_a_login(account):
    started = _start(account)
    code = otp_in(messages_for(account.member, "profile_step_up_code")[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(InvalidCode):
            _verify(account, started.challenge, wrong)
    with pytest.raises(AccountLocked):
        _verify(account, started.challenge, code)
    throttling.login_unlock(account.member.nir)
    with pytest.raises(InvalidCode):  # the challenge itself is spent
        _verify(account, started.challenge, code)


def test_another_members_challenge_is_refused(account):
    started = _start(account)
    code = otp_in(messages_for(account.member, "profile_step_up_code")[0])
    other = active_account(MemberFactory())
    with pytest.raises(InvalidCode):
        _verify(other, started.challenge, code)
    assert _verify(account, started.challenge, code) == NOW


def test_a_step_up_challenge_cannot_finish_a_login(account):
    started = _start(account)
    code = otp_in(messages_for(account.member, "profile_step_up_code")[0])
    with pytest.raises(InvalidCode):
        second_factor_verify(
            challenge=started.challenge,
            method="email_otp",
            code=code,
            device_hash="",
            device_label="",
        )
    assert LoginChallenge.objects.get().used_at is None


def test_totp_members_use_their_app(db):
    secret = pyotp.random_base32()
    account = active_account(MemberFactory(), totp_secret=secret, totp_enabled_at=timezone.now())
    started = _start(account)
    assert started.methods == ["totp", "recovery_code"]
    assert messages_for(account.member, "profile_step_up_code") == []
    assert _verify(account, started.challenge, pyotp.TOTP(secret).now()) == NOW


def test_no_email_and_no_app_means_no_step_up(db):
    account = active_account(MemberFactory(email=None))
    with pytest.raises(stepup.SecondFactorUnavailable):
        _start(account)


class FakeSession(dict):
    pass


def test_session_step_up_is_fresh_for_5_minutes_and_for_its_account_only(account, clock):
    session = FakeSession()
    stepup.step_up_session_mark(session, account=account, at=timezone.now())
    assert stepup.step_up_session_at(session, account=account) == NOW
    other = active_account(MemberFactory())
    assert stepup.step_up_session_at(session, account=other) is None
    clock.shift(dt.timedelta(minutes=4, seconds=59))
    assert stepup.step_up_session_at(session, account=account) == NOW
    clock.shift(dt.timedelta(seconds=1))
    assert stepup.step_up_session_at(session, account=account) is None


def test_new_challenges_are_capped_so_codes_cannot_be_guessed_for_ever(account):
    for _ in range(stepup.CHALLENGES_PER_HOUR):
        _start(account)
    with pytest.raises(Throttled):
        _start(account)
    assert len(messages_for(account.member, "profile_step_up_code")) == 5


def test_a_locked_account_cannot_step_up(account):
    started = _start(account)
    code = otp_in(messages_for(account.member, "profile_step_up_code")[0])
    for _ in range(10):
        throttling.login_failure(account.member.nir)
    assert throttling.login_lock(account.member.nir) is not None
    with pytest.raises(AccountLocked):
        _verify(account, started.challenge, code)
    with pytest.raises(AccountLocked):
        _start(account)
