"""Writes of the back office: staff accounts and their sign-in, identity checks, and the member
actions advisors take, which call identity's services (the back office owns no member rule)."""

from __future__ import annotations

import datetime as dt
import hmac
import unicodedata
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assure.backoffice import roles
from assure.backoffice.exceptions import (
    CheckRequired,
    InvalidEnrolment,
    NoAccount,
    StaffInvalidCode,
    StaffInvalidCredentials,
    StaffLocked,
    WeakPassword,
)
from assure.backoffice.models import IdentityCheck, StaffEnrolment, StaffProfile
from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record
from assure.identity import services as identity_services
from assure.identity import throttling
from assure.identity.models import Account, Channel
from assure.identity.rules import RULE_MESSAGES, PersonalData, broken_rules, normalize_secret
from assure.identity.tokens import token_hash, token_new
from assure.members.models import Member

_ENROLMENT = "backoffice.enrolment"


def staff_actor(user: User) -> Actor:
    return Actor(
        kind=AuditEvent.ActorKind.STAFF,
        id=str(user.pk),
        display=user.get_full_name() or user.get_username(),
    )


def _profile(user: User) -> StaffProfile:
    profile, _created = StaffProfile.objects.get_or_create(user=user)
    return profile


# --- Staff accounts ------------------------------------------------------------------------------


def enrolment_link_issue(*, user: User, actor: Actor) -> str:
    """A new single-use link (the clear token, shown once); earlier links and the second factor
    stop working, so that a lost phone is handled by issuing a new link."""
    now = timezone.now()
    token = token_new()
    with transaction.atomic():
        StaffEnrolment.objects.filter(user=user, used_at=None).update(used_at=now)
        StaffEnrolment.objects.create(
            user=user,
            token_hash=token_hash(token, purpose=_ENROLMENT),
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.BACKOFFICE_ENROLMENT_HOURS),
        )
        profile = _profile(user)
        profile.totp_secret = ""
        profile.totp_enabled_at = None
        profile.save()
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action="backoffice.staff_enrolment_issued",
            object_type="user",
            object_id=user.pk,
        )
    return token


def staff_create(
    *,
    username: str,
    role: str,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> tuple[User, str]:
    """A staff account with its role and a one-time enrolment link (returned in clear)."""
    if role not in roles.ROLE_PERMISSIONS:
        raise ValueError(f"unknown role {role!r}")
    with transaction.atomic():
        groups = roles.roles_sync()
        user = User.objects.create_user(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email,
            is_staff=True,
        )
        user.groups.add(groups[role])
        audit_record(
            actor=actor,
            action="backoffice.staff_created",
            object_type="user",
            object_id=user.pk,
            data={"role": role},
        )
        token = enrolment_link_issue(user=user, actor=actor)
    return user, token


def staff_deactivate(*, user: User, actor: Actor) -> None:
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="backoffice.staff_deactivated",
            object_type="user",
            object_id=user.pk,
        )


def enrolment_get(token: str) -> StaffEnrolment:
    enrolment = (
        StaffEnrolment.objects.select_related("user")
        .filter(token_hash=token_hash(token, purpose=_ENROLMENT))
        .first()
    )
    if (
        enrolment is None
        or enrolment.used_at is not None
        or enrolment.expires_at <= timezone.now()
        or not enrolment.user.is_active
    ):
        raise InvalidEnrolment()
    return enrolment


def enrolment_totp_secret(enrolment: StaffEnrolment) -> str:
    """The secret shown while enrolling; kept on the profile, enabled only by a right code."""
    profile = _profile(enrolment.user)
    if not profile.totp_secret or profile.totp_enabled_at is not None:
        profile.totp_secret = pyotp.random_base32()
        profile.totp_enabled_at = None
        profile.save()
    return profile.totp_secret


def totp_provisioning_uri(*, user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.get_username(), issuer_name=f"{settings.ASSURE_FUND_SHORT_NAME} back office"
    )


def password_rules(user: User) -> PersonalData:
    return PersonalData(
        nir="", birth_date=None, names=(user.get_username(), user.first_name, user.last_name)
    )


def _totp_accept(profile: StaffProfile, code: str) -> bool:
    if not profile.totp_secret:
        return False
    totp = pyotp.TOTP(profile.totp_secret)
    now = timezone.now()
    code = "".join(code.split())
    for offset in (-1, 0, 1):
        at = now + dt.timedelta(seconds=30 * offset)
        counter = totp.timecode(at)
        if counter > profile.totp_last_counter and hmac.compare_digest(
            totp.at(at).encode(), code.encode()
        ):
            profile.totp_last_counter = counter
            profile.save(update_fields=["totp_last_counter"])
            return True
    return False


def enrolment_complete(*, token: str, password: str, code: str) -> User:
    """Sets the password (the members' code policy) and enables the authenticator app at once."""
    with transaction.atomic():
        enrolment = enrolment_get(token)
        user = enrolment.user
        broken = broken_rules(password, password_rules(user))
        if broken:
            raise WeakPassword(errors={"password": [str(RULE_MESSAGES[r]) for r in broken]})
        profile = StaffProfile.objects.select_for_update().get(user=user)
        if not _totp_accept(profile, code):
            raise StaffInvalidCode(errors={"code": [str(StaffInvalidCode.title)]})
        now = timezone.now()
        profile.totp_enabled_at = now
        profile.save()
        user.set_password(normalize_secret(password))
        user.save(update_fields=["password"])
        enrolment.used_at = now
        enrolment.save(update_fields=["used_at"])
        audit_record(
            actor=staff_actor(user),
            action="backoffice.staff_enrolled",
            object_type="user",
            object_id=user.pk,
        )
    return user


def _identifier(username: str) -> str:
    return "staff:" + unicodedata.normalize("NFKC", username).strip().casefold()


def _lock_error(lock: throttling.Lock) -> StaffLocked:
    return StaffLocked(extra={"locked_until": lock.until.isoformat(timespec="seconds")})


def _fail(identifier: str, address: str) -> None:
    lock = throttling.login_failure(identifier)
    throttling.address_failure(address)
    if lock is not None:
        raise _lock_error(lock)


def staff_password_check(*, username: str, password: str, address: str) -> User:
    """First step of the sign-in. Counts failures per username and per address, with the same
    counters and ladder as the members' logins; a right password alone signs no one in."""
    identifier = _identifier(username)
    state = throttling.login_state(identifier, address)
    if state.lock is not None:
        raise _lock_error(state.lock)
    if state.address_lock is not None:
        raise _lock_error(state.address_lock)
    user = User.objects.filter(username__iexact=username.strip(), is_staff=True).first()
    if user is None:
        # The same hash work as for a real user, so timing does not tell the names apart.
        check_password(password, identity_services.dummy_hash())
        _fail(identifier, address)
        raise StaffInvalidCredentials()
    if not (user.is_active and user.check_password(normalize_secret(password))):
        _fail(identifier, address)
        raise StaffInvalidCredentials()
    return user


def staff_totp_verify(*, user: User, code: str, address: str) -> None:
    """Second step: the authenticator app's code. Without an enrolled app, no sign-in at all."""
    identifier = _identifier(user.get_username())
    lock = throttling.login_lock(identifier)
    if lock is not None:
        raise _lock_error(lock)
    with transaction.atomic():
        profile = StaffProfile.objects.select_for_update().filter(user=user).first()
        if profile is None or not profile.totp_enabled or not _totp_accept(profile, code):
            _fail(identifier, address)
            raise StaffInvalidCode()
        throttling.login_success(identifier)
        audit_record(
            actor=staff_actor(user),
            action="backoffice.staff_signed_in",
            object_type="user",
            object_id=user.pk,
        )


# --- Identity check by phone ---------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    expected: str


def _fold(value: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def identity_check_questions(member: Member) -> list[str]:
    """Questions the register can answer: birth date and postcode always, then the end of the
    IBAN the fund pays, then the beneficiaries' first names, when the register has them."""
    keys = ["birth_date", "postal_code"]
    if member.iban:
        keys.append("iban_end")
    if member.beneficiaries.filter(active=True).exists():
        keys.append("beneficiaries")
    return keys


def _expected(member: Member, key: str) -> Any:
    if key == "birth_date":
        return member.birth_date
    if key == "postal_code":
        return _fold(member.postal_code)
    if key == "iban_end":
        return _fold(member.iban)[-4:]
    if key == "beneficiaries":
        return {
            _fold(b.given_names.split(" ")[0]) for b in member.beneficiaries.filter(active=True)
        }
    raise KeyError(key)


def _answer_matches(member: Member, key: str, answer: Any) -> bool:
    expected = _expected(member, key)
    if key == "birth_date":
        return bool(answer == expected)
    if key == "beneficiaries":
        given = {_fold(part) for part in str(answer or "").replace(",", " ").split() if part}
        return bool(given) and given <= expected
    return hmac.compare_digest(_fold(str(answer or "")).encode(), str(expected).encode())


def identity_check_record(
    *, member: Member, answers: dict[str, Any], staff: User, actor: Actor
) -> IdentityCheck:
    """Compares the caller's answers with the register; passed only when every one is right."""
    keys = identity_check_questions(member)
    passed = all(_answer_matches(member, key, answers.get(key)) for key in keys)
    now = timezone.now()
    with transaction.atomic():
        check = IdentityCheck.objects.create(
            staff=staff,
            member=member,
            passed=passed,
            questions=keys,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.BACKOFFICE_CHECK_MINUTES),
        )
        audit_record(
            actor=actor,
            action="backoffice.identity_check_passed"
            if passed
            else "backoffice.identity_check_failed",
            member_id=member.pk,
            object_type="identity_check",
            object_id=check.pk,
            data={"questions": keys},
        )
    return check


def _passed_check(*, member: Member, staff: User) -> IdentityCheck | None:
    return (
        IdentityCheck.objects.select_for_update()
        .filter(
            member=member,
            staff=staff,
            passed=True,
            used_at=None,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


# --- Member account actions ----------------------------------------------------------------------


def _account(member: Member) -> Account:
    account = Account.objects.select_related("member").filter(member=member).first()
    if account is None:
        raise NoAccount()
    return account


def provisional_code_send(
    *, member: Member, channel: str, staff: User, actor: Actor
) -> identity_services.IssuedCode:
    """A new provisional code to the contact on record (e-mail, else post), only after a passed
    identity check by the same advisor; the check is spent by it. A terminated account is
    reactivated by the code (identity's rule)."""
    if channel not in {Channel.EMAIL, Channel.POST}:
        raise ValueError(channel)
    with transaction.atomic():
        check = _passed_check(member=member, staff=staff)
        if check is None:
            raise CheckRequired()
        account = identity_services.account_get_or_create(member=member)
        issued = identity_services.provisional_code_issue(
            account=account, channel=channel, actor=actor, reason="Vérification téléphonique"
        )
        check.used_at = timezone.now()
        check.save(update_fields=["used_at"])
    return issued


def account_unlock(*, member: Member, reason: str, actor: Actor) -> None:
    """Lifts the lock (identity's service) and tells the member, in case it was not them."""
    account = _account(member)
    now = timezone.now()
    with transaction.atomic():
        identity_services.account_unlock(account=account, actor=actor, reason=reason)
        identity_services.member_notice_send(
            member=member,
            template="backoffice_account_unlocked",
            context={"at": now},
            key=f"backoffice:unlocked:{account.pk}:{now:%Y%m%d%H%M%S%f}",
        )


def account_terminate(*, member: Member, reason: str, actor: Actor) -> None:
    account = _account(member)
    if account.status == Account.Status.TERMINATED:
        return
    identity_services.account_terminate_by_staff(account=account, actor=actor, reason=reason)


def consultation_record(*, member: Member, reason: str, actor: Actor) -> AuditEvent:
    """Opening a member's file: the event the member sees in "who consulted my file"."""
    return audit_record(
        actor=actor,
        action="backoffice.member_viewed",
        member_id=member.pk,
        object_type="member",
        object_id=member.pk,
        reason=reason,
    )
