"""Writes of identity: accounts, codes, logins, second factor, sessions and tokens.

Each service runs in one transaction with its audit event and its outbox message. Answers that
could tell whether a NIR has an account (sign-up, forgotten code, account check, login) do the same
work either way: one Argon2id verification (against a dummy hash when there is no account), the
same queries, and nothing said on screen.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assure.core.compiled import CompiledInsert
from assure.core.exceptions import DomainError, NotFound, ValidationFailed
from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record
from assure.identity import selectors, signals, throttling
from assure.identity.exceptions import (
    AccountLocked,
    AddressBlocked,
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    SupersededCode,
    WeakSecretCode,
)
from assure.identity.models import (
    Account,
    Channel,
    KnownDevice,
    LoginChallenge,
    MemberSession,
    ProvisionalCode,
    RecoveryCode,
    RefreshToken,
)
from assure.identity.rules import RULE_MESSAGES, PersonalData, broken_rules, normalize_secret
from assure.identity.tokens import (
    keyed_hash,
    otp_new,
    provisional_code_hash,
    provisional_code_new,
    recovery_code_hash,
    recovery_code_new,
    token_hash,
    token_new,
)
from assure.members.models import Member
from assure.members.nir import InvalidNir, is_temporary_nir, normalize_nir
from assure.notifications.postal import PostalRecipient
from assure.notifications.services import email_queue, letter_queue

ACCESS_SALT = "assure.identity.access"
RECOVERY_CODES = 10


# --- Helpers -------------------------------------------------------------------------------------


def member_actor(member: Member) -> Actor:
    return Actor(kind=AuditEvent.ActorKind.MEMBER, id=str(member.pk), display=member.display_name)


@cache
def _dummy_hash(memory: int, time_cost: int) -> str:
    return make_password(secrets.token_urlsafe(24))


def dummy_hash() -> str:
    """A hash at the current cost, verified when there is no account so that timing matches."""
    return _dummy_hash(settings.ARGON2_MEMORY_COST_KIB, settings.ARGON2_TIME_COST)


def device_hash_for(device_id: str, *, kind: str) -> str:
    return keyed_hash(f"{kind}:{device_id}", purpose="device") if device_id else ""


def _nir_or_none(nir: str) -> str | None:
    try:
        return normalize_nir(nir)
    except InvalidNir:
        return None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _compact(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def _recipient(member: Member) -> PostalRecipient:
    lines = [member.address_line1] + ([member.address_line2] if member.address_line2 else [])
    return PostalRecipient(
        name=f"{member.given_names} {member.family_name}",
        lines=tuple(lines),
        postal_code=member.postal_code,
        city=member.city,
        country="FRANCE" if member.country in {"", "FR"} else member.country,
    )


def _contact_email(member: Member) -> str:
    account = Account.objects.filter(member=member).first()
    if account is not None:
        return account.contact_email
    return member.email or ""


def _send(
    *,
    member: Member,
    template: str,
    context: dict[str, Any],
    key: str,
    channel: str = Channel.EMAIL,
    email: str = "",
) -> str:
    """An e-mail when the member has an address (or `email` is given), else a letter."""
    to = email or (_contact_email(member) if channel == Channel.EMAIL else "")
    context = {"given_names": member.given_names, "family_name": member.family_name} | context
    language = translation.get_language() or "fr"
    if to:
        email_queue(
            to=to,
            template=template,
            context=context,
            idempotency_key=key,
            language=language[:2],
            member_id=member.pk,
        )
        return Channel.EMAIL
    letter_queue(
        recipient=_recipient(member),
        template=template,
        context=context,
        idempotency_key=key,
        language=language[:2],
        member_id=member.pk,
    )
    return Channel.POST


def _identity_matches(
    member: Member | None,
    *,
    birth_date: dt.date,
    vitale_serial: str | None = None,
    iban_end: str | None = None,
) -> bool:
    if member is None:
        return False
    ok = member.birth_date == birth_date
    if vitale_serial is not None:
        ok = _same(_compact(member.vitale_serial), _compact(vitale_serial)) and ok
    if iban_end is not None and member.iban:
        ok = _same(_compact(member.iban)[-7:], _compact(iban_end)) and ok
    return ok


def _member_for(nir: str) -> Member | None:
    normalized = _nir_or_none(nir)
    if normalized is None or is_temporary_nir(normalized):
        return None
    return Member.objects.filter(nir=normalized).first()


# --- Provisional codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    code: ProvisionalCode
    # The clear code, returned for the caller that must show it (a back-office phone check).
    plain: str = field(repr=False)


def provisional_code_issue(
    *, account: Account, channel: str, actor: Actor, reason: str = ""
) -> IssuedCode:
    """A new provisional code, sent by e-mail or post; any earlier one stops working now."""
    member = account.member
    now = timezone.now()
    with transaction.atomic():
        account.provisional_codes.filter(used_at=None, superseded_at=None).update(superseded_at=now)
        email = (member.email or account.email) if channel == Channel.EMAIL else ""
        actual = Channel.EMAIL if email else Channel.POST
        lifetime = (
            dt.timedelta(hours=settings.IDENTITY_PROVISIONAL_EMAIL_HOURS)
            if actual == Channel.EMAIL
            else dt.timedelta(days=settings.IDENTITY_PROVISIONAL_POST_DAYS)
        )
        plain = provisional_code_new()
        code = ProvisionalCode.objects.create(
            account=account,
            code_hash=provisional_code_hash(plain),
            channel=actual,
            created_at=now,
            expires_at=now + lifetime,
        )
        _send(
            member=member,
            template="identity_provisional_code",
            context={
                "code": plain,
                "expires_at": code.expires_at,
                "reactivation": account.status == Account.Status.TERMINATED,
            },
            key=f"identity:provisional:{code.pk}",
            channel=actual,
            email=email,
        )
        audit_record(
            actor=actor,
            action="identity.provisional_code_issued",
            member_id=member.pk,
            object_type="account",
            object_id=account.pk,
            reason=reason,
            data={"channel": actual},
        )
    return IssuedCode(code=code, plain=plain)


def _sends_left(member: Member) -> bool:
    since = timezone.now() - dt.timedelta(days=1)
    sent = ProvisionalCode.objects.filter(account__member=member, created_at__gte=since).count()
    return sent < settings.IDENTITY_CODE_SENDS_PER_DAY


def account_signup_request(
    *,
    nir: str,
    birth_date: dt.date,
    vitale_serial: str,
    iban_end: str,
    email: str,
    channel: str,
    actor: Actor,
) -> None:
    """Sign-up: a provisional code, or the notice "you already have an account". Says nothing back.

    The address typed is used only when the register has none for this member.
    """
    email = (email or "").strip()
    if email:
        # Checked before anything is looked up, so that the answer is the same for everyone.
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                errors={"email": [str(_("Adresse électronique invalide."))]}
            ) from exc
    member = _member_for(nir)
    matched = _identity_matches(
        member, birth_date=birth_date, vitale_serial=vitale_serial, iban_end=iban_end or ""
    )
    if member is None or not matched:
        # Recorded whether or not the NIR is in the register, so that the work (and the time)
        # is the same for both.
        audit_record(
            actor=actor,
            action="identity.signup_mismatch",
            member_id=member.pk if member is not None else None,
        )
        return
    with transaction.atomic():
        account, _created = Account.objects.select_for_update().get_or_create(member=member)
        if account.secret_code_hash and account.is_active:
            _send(
                member=member,
                template="identity_already_registered",
                context={},
                key=f"identity:already:{account.pk}:{timezone.now():%Y%m%d%H}",
                channel=channel,
            )
            audit_record(actor=actor, action="identity.signup_existing", member_id=member.pk)
            return
        if not _sends_left(member):
            return
        if not member.email and email and not account.email_verified:
            account.email = email.strip()
            account.save(update_fields=["email"])
        provisional_code_issue(account=account, channel=channel, actor=actor, reason="signup")


def forgot_code_request(*, nir: str, birth_date: dt.date, channel: str, actor: Actor) -> None:
    """A new provisional code to the contact on record; also how a closed account is reopened."""
    member = _member_for(nir)
    if not _identity_matches(member, birth_date=birth_date) or member is None:
        return
    account = Account.objects.filter(member=member).first()
    if account is None or not _sends_left(member):
        return
    provisional_code_issue(account=account, channel=channel, actor=actor, reason="forgot_code")


def account_check_request(
    *, nir: str, birth_date: dt.date, vitale_serial: str, actor: Actor
) -> None:
    """ "Do I have an account?": the answer goes to the member on record, never on screen."""
    member = _member_for(nir)
    if member is None or not _identity_matches(
        member, birth_date=birth_date, vitale_serial=vitale_serial
    ):
        return
    account = Account.objects.filter(member=member).first()
    has_account = bool(account and account.is_active and account.secret_code_hash)
    with transaction.atomic():
        _send(
            member=member,
            template="identity_account_check",
            context={
                "has_account": has_account,
                "terminated": bool(account and not account.is_active),
            },
            key=f"identity:check:{member.pk}:{timezone.now():%Y%m%d%H}",
        )
        audit_record(actor=actor, action="identity.account_check", member_id=member.pk)


# --- Login ---------------------------------------------------------------------------------------


@dataclass
class LoginResult:
    status: str  # "authenticated", "second_factor_required", "code_change_required"
    account: Account
    challenge: str = ""
    methods: list[str] = field(default_factory=list)


def _lock_error(lock: throttling.Lock) -> AccountLocked:
    return AccountLocked(extra={"locked_until": lock.until.isoformat(timespec="seconds")})


def _failure(*, identifier: str, address: str, account: Account | None) -> None:
    """Counts a failed login and raises the error the caller must answer."""
    address_lock = throttling.address_failure(address)
    lock = throttling.login_failure(identifier)
    with transaction.atomic():
        # A provisional code allows 5 tries; then a new one must be asked for. The same query
        # runs when there is no account, so that timing does not tell the two apart.
        ProvisionalCode.objects.filter(
            account_id=account.pk if account else 0,
            used_at=None,
            superseded_at=None,
            expires_at__gt=timezone.now(),
        ).update(failed_attempts=F("failed_attempts") + 1)
        if account is not None and lock is not None:
            _send(
                member=account.member,
                template="identity_locked",
                context={"locked_until": lock.until},
                key=f"identity:locked:{account.pk}:{int(lock.until.timestamp())}",
            )
            audit_record(
                actor=Actor.system(),
                action="identity.account_locked",
                member_id=account.member_id,
                data={"until": lock.until.isoformat()},
            )
    if lock is not None:
        raise _lock_error(lock)
    if address_lock is not None:
        raise AddressBlocked(
            extra={"locked_until": address_lock.until.isoformat(timespec="seconds")}
        )


def _challenge_create(
    *,
    account: Account,
    purpose: str,
    methods: list[str],
    device_hash: str,
    otp_hash: str = "",
    provisional: ProvisionalCode | None = None,
) -> str:
    token = token_new()
    LoginChallenge.objects.create(
        account=account,
        token_hash=token_hash(token, purpose="challenge"),
        purpose=purpose,
        methods=methods,
        otp_hash=otp_hash,
        device_hash=device_hash,
        provisional_code=provisional,
        expires_at=timezone.now() + dt.timedelta(seconds=settings.IDENTITY_OTP_SECONDS),
    )
    return token


def login(
    *, nir: str, secret_code: str, device_hash: str, address: str, device_label: str = ""
) -> LoginResult:
    """NIR + code. Raises InvalidCredentials, SupersededCode, AccountLocked or AddressBlocked.

    Each outcome is announced by `signals.login_attempted` ("success", "failure" or "locked"), for
    the layers above that count them; an outage is none of these and announces nothing.
    """
    try:
        result = _login(
            nir=nir,
            secret_code=secret_code,
            device_hash=device_hash,
            address=address,
            device_label=device_label,
        )
    except (AccountLocked, AddressBlocked):
        signals.login_attempted.send(sender=login, outcome="locked")
        raise
    except DomainError:
        signals.login_attempted.send(sender=login, outcome="failure")
        raise
    signals.login_attempted.send(sender=login, outcome="success")
    return result


def _login(
    *, nir: str, secret_code: str, device_hash: str, address: str, device_label: str
) -> LoginResult:
    normalized = _nir_or_none(nir)
    identifier = normalized or _compact(nir)
    state = throttling.login_state(identifier, address)
    if state.address_lock is not None:
        raise AddressBlocked(
            extra={"locked_until": state.address_lock.until.isoformat(timespec="seconds")}
        )
    if state.lock is not None:
        raise _lock_error(state.lock)

    account = None
    if normalized is not None:
        account = selectors.account_for_nir(normalized)
    secret = normalize_secret(secret_code)
    encoded = account.secret_code_hash if account and account.secret_code_hash else dummy_hash()

    def rehash(raw: str) -> None:
        if account is not None and account.secret_code_hash:
            account.secret_code_hash = make_password(raw)
            account.save(update_fields=["secret_code_hash"])

    secret_ok = check_password(secret, encoded, setter=rehash) and bool(
        account and account.secret_code_hash and account.is_active
    )
    # One query for every failed check, with or without account, so that timing does not tell
    # them apart; a right secret code needs none.
    provisional = (
        None
        if secret_ok
        else ProvisionalCode.objects.filter(
            account_id=account.pk if account else 0, code_hash=provisional_code_hash(secret)
        )
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if account is not None and provisional is not None and not secret_ok:
        if provisional.superseded_at is not None:
            latest = account.provisional_codes.order_by("-created_at").first()
            _failure(identifier=identifier, address=address, account=None)
            raise SupersededCode(
                extra={
                    "replaced_on": timezone.localdate(provisional.superseded_at).isoformat(),
                    "channel": latest.channel if latest else provisional.channel,
                }
            )
        usable = (
            provisional.used_at is None
            and provisional.expires_at > now
            and provisional.failed_attempts < settings.IDENTITY_CODE_TRIES
        )
        if usable:
            throttling.login_success(identifier, state)
            with transaction.atomic():
                challenge = _challenge_create(
                    account=account,
                    purpose=LoginChallenge.Purpose.CODE_CHANGE,
                    methods=[],
                    device_hash=device_hash,
                    provisional=provisional,
                )
            return LoginResult("code_change_required", account, challenge=challenge)
    if account is None or not secret_ok:
        _failure(identifier=identifier, address=address, account=account)
        raise InvalidCredentials()

    if account.must_change_code:
        throttling.login_success(identifier, state)
        with transaction.atomic():
            challenge = _challenge_create(
                account=account,
                purpose=LoginChallenge.Purpose.CODE_CHANGE,
                methods=[],
                device_hash=device_hash,
            )
        return LoginResult("code_change_required", account, challenge=challenge)
    if device_hash:
        known = selectors.known_device(account=account, device_hash=device_hash, now=now)
        if known is not None:
            # A read, and a write at most daily: the login's cost should be the hash alone.
            if now - known.last_seen_at > dt.timedelta(days=1):
                KnownDevice.objects.filter(pk=known.pk).update(last_seen_at=now)
            throttling.login_success(identifier, state)
            return LoginResult("authenticated", account)
    if account.totp_enabled:
        with transaction.atomic():
            challenge = _challenge_create(
                account=account,
                purpose=LoginChallenge.Purpose.SECOND_FACTOR,
                methods=["totp", "recovery_code"],
                device_hash=device_hash,
            )
        return LoginResult(
            "second_factor_required",
            account,
            challenge=challenge,
            methods=["totp", "recovery_code"],
        )
    email = account.contact_email
    if email:
        otp = otp_new()
        with transaction.atomic():
            challenge = _challenge_create(
                account=account,
                purpose=LoginChallenge.Purpose.SECOND_FACTOR,
                methods=["email_otp"],
                device_hash=device_hash,
                otp_hash=keyed_hash(otp, purpose="otp"),
            )
            email_queue(
                to=email,
                template="identity_login_otp",
                context={
                    "given_names": account.member.given_names,
                    "code": otp,
                    "minutes": settings.IDENTITY_OTP_SECONDS // 60,
                },
                idempotency_key=f"identity:otp:{token_hash(challenge, purpose='challenge')[:32]}",
                language=(translation.get_language() or "fr")[:2],
                member_id=account.member_id,
            )
        return LoginResult(
            "second_factor_required", account, challenge=challenge, methods=["email_otp"]
        )
    # No e-mail and no authenticator: the device is trusted at once and a letter tells the member,
    # so that nobody is locked out for want of a mailbox.
    throttling.login_success(identifier, state)
    with transaction.atomic():
        _device_remember(account=account, device_hash=device_hash, label=device_label)
    return LoginResult("authenticated", account)


def _challenge_get(token: str, *, purpose: str) -> LoginChallenge | None:
    challenge = (
        LoginChallenge.objects.select_for_update(of=("self",))
        .select_related("account__member")
        .filter(token_hash=token_hash(token or "", purpose="challenge"), purpose=purpose)
        .first()
    )
    if (
        challenge is None
        or challenge.used_at is not None
        or challenge.expires_at <= timezone.now()
        or challenge.failed_attempts >= settings.IDENTITY_CODE_TRIES
        # A closed account is reopened through the code-change step only.
        or (purpose == LoginChallenge.Purpose.SECOND_FACTOR and not challenge.account.is_active)
    ):
        return None
    return challenge


def _device_remember(*, account: Account, device_hash: str, label: str) -> None:
    """Trust a device 90 days and tell the member, who can end it if it was not them."""
    now = timezone.now()
    if device_hash:
        KnownDevice.objects.update_or_create(
            account=account,
            device_hash=device_hash,
            defaults={
                "label": label[:100],
                "last_seen_at": now,
                "expires_at": now + dt.timedelta(days=settings.IDENTITY_DEVICE_DAYS),
            },
        )
    _send(
        member=account.member,
        template="identity_new_device",
        context={"device": label, "at": now},
        key=f"identity:device:{account.pk}:{device_hash[:16] or 'none'}:{now:%Y%m%d%H%M%S%f}",
    )
    audit_record(
        actor=member_actor(account.member),
        action="identity.device_added",
        member_id=account.member_id,
        data={"device": label[:100]},
    )


def _totp_check(account: Account, code: str) -> bool:
    if not account.totp_secret:
        return False
    totp = pyotp.TOTP(account.totp_secret)
    now = timezone.now()
    for offset in (-1, 0, 1):
        at = now + dt.timedelta(seconds=30 * offset)
        counter = totp.timecode(at)
        if counter > account.totp_last_counter and _same(totp.at(at), code.strip()):
            account.totp_last_counter = counter
            account.save(update_fields=["totp_last_counter"])
            return True
    return False


def second_factor_verify(
    *, challenge: str, method: str, code: str, device_hash: str, device_label: str
) -> Account:
    """The e-mailed code, the authenticator's code or a recovery code: 5 tries, 10 minutes."""
    with transaction.atomic():
        found = _challenge_get(challenge, purpose=LoginChallenge.Purpose.SECOND_FACTOR)
        if found is None or method not in found.methods:
            ok = False
        elif method == "email_otp":
            ok = bool(found.otp_hash) and _same(
                found.otp_hash, keyed_hash(code.strip(), purpose="otp")
            )
        elif method == "totp":
            ok = _totp_check(found.account, code)
        else:
            recovery = RecoveryCode.objects.filter(
                account=found.account, code_hash=recovery_code_hash(code), used_at=None
            ).first()
            ok = recovery is not None
            if recovery is not None:
                recovery.used_at = timezone.now()
                recovery.save(update_fields=["used_at"])
        if found is not None and ok:
            throttling.login_success(found.account.member.nir)
            found.used_at = timezone.now()
            found.save(update_fields=["used_at"])
            account = found.account
            _device_remember(
                account=account, device_hash=device_hash or found.device_hash, label=device_label
            )
            return account
        if found is not None:
            found.failed_attempts += 1
            found.save(update_fields=["failed_attempts"])
    if found is not None:
        # A wrong second factor also counts against the NIR: without it, someone who knows the
        # secret code could start new challenges for ever and guess 5 e-mailed codes each time.
        throttling.login_failure(found.account.member.nir)
    # Raised outside the transaction, so that the failed try stays counted.
    raise InvalidCode()


def secret_code_rules(account: Account) -> PersonalData:
    member = account.member
    names = tuple(n for n in (member.given_names, member.birth_name, member.usual_name) if n)
    return PersonalData(nir=member.nir, birth_date=member.birth_date, names=names)


def _weak(rules: list[str], field_name: str) -> WeakSecretCode:
    return WeakSecretCode(
        errors={field_name: [str(RULE_MESSAGES[r]) for r in rules]}, extra={"rules": rules}
    )


def _secret_code_store(*, account: Account, secret: str, actor: Actor) -> None:
    now = timezone.now()
    reactivated = account.status == Account.Status.TERMINATED
    account.secret_code_hash = make_password(secret)
    account.must_change_code = False
    account.code_changed_at = now
    account.status = Account.Status.ACTIVE
    account.terminated_at = None
    if account.activated_at is None or reactivated:
        account.activated_at = now
    account.save()
    account.provisional_codes.filter(used_at=None).update(used_at=now)
    _send(
        member=account.member,
        template="identity_code_changed",
        context={"at": now},
        key=f"identity:code-changed:{account.pk}:{now:%Y%m%d%H%M%S%f}",
    )
    audit_record(
        actor=actor,
        action="identity.account_reactivated" if reactivated else "identity.secret_code_set",
        member_id=account.member_id,
        object_type="account",
        object_id=account.pk,
    )


def secret_code_set_with_challenge(
    *, challenge: str, new_secret_code: str, device_hash: str, device_label: str
) -> Account:
    """First login (or after a forgotten code): the definitive code replaces the provisional one.

    The provisional code came through the member's own mailbox or letterbox, so this device is
    trusted without a further e-mailed code.
    """
    with transaction.atomic():
        found = _challenge_get(challenge, purpose=LoginChallenge.Purpose.CODE_CHANGE)
        if found is None:
            raise InvalidToken()
        account = found.account
        secret = normalize_secret(new_secret_code)
        rules = broken_rules(secret, secret_code_rules(account))
        provisional = found.provisional_code
        if (
            not rules
            and provisional
            and _same(provisional.code_hash, provisional_code_hash(secret))
        ):
            rules = ["provisional"]
        if rules:
            raise _weak(rules, "new_secret_code")
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
        if account.email and not account.member.email:
            # The provisional code reached this address: it is now proven to be the member's.
            account.email_verified = True
        account.last_login_at = timezone.now()
        _secret_code_store(account=account, secret=secret, actor=member_actor(account.member))
        trusted = device_hash or found.device_hash
        if trusted:
            now = timezone.now()
            KnownDevice.objects.update_or_create(
                account=account,
                device_hash=trusted,
                defaults={
                    "label": device_label[:100],
                    "last_seen_at": now,
                    "expires_at": now + dt.timedelta(days=settings.IDENTITY_DEVICE_DAYS),
                },
            )
    return account


def secret_code_change(
    *, account: Account, current_secret_code: str, new_secret_code: str, actor: Actor
) -> None:
    """A signed-in member changes their code; the current one is asked again."""
    if not check_password(normalize_secret(current_secret_code), account.secret_code_hash):
        raise InvalidCredentials()
    secret = normalize_secret(new_secret_code)
    rules = broken_rules(secret, secret_code_rules(account))
    if rules:
        raise _weak(rules, "new_secret_code")
    with transaction.atomic():
        _secret_code_store(account=account, secret=secret, actor=actor)


# --- Sessions and API tokens ---------------------------------------------------------------------


# Written by every login: their INSERTs compiled once (assure.core.compiled).
_new_session = CompiledInsert(MemberSession)
_new_refresh_token = CompiledInsert(RefreshToken)


def session_start(
    *, account: Account, kind: str, device_label: str, session_key: str = ""
) -> MemberSession:
    with transaction.atomic(savepoint=False):
        session = _new_session.create(
            account=account,
            kind=kind,
            session_key_hash=token_hash(session_key, purpose="session") if session_key else "",
            device_label=device_label[:100],
        )
        audit_record(
            actor=member_actor(account.member),
            action="identity.login",
            member_id=account.member_id,
            object_type="session",
            object_id=session.pk,
            data={"kind": kind},
        )
    return session


def session_end(*, session: MemberSession, reason: str) -> None:
    if session.ended_at is None:
        MemberSession.objects.filter(pk=session.pk, ended_at=None).update(
            ended_at=timezone.now(), end_reason=reason[:20]
        )
        session.ended_at = timezone.now()


def session_end_for_member(*, account: Account, session_id: int, actor: Actor) -> None:
    """The member ends one of their sessions; another's looks exactly like a missing one."""
    with transaction.atomic():
        session = MemberSession.objects.filter(
            pk=session_id, account=account, ended_at=None
        ).first()
        if session is None:
            raise NotFound()
        session_end(session=session, reason="member")
        audit_record(
            actor=actor,
            action="identity.session_ended",
            member_id=account.member_id,
            object_type="session",
            object_id=session.pk,
        )


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _refresh_create(session: MemberSession) -> str:
    token = token_new()
    _new_refresh_token.create(
        session=session,
        token_hash=token_hash(token, purpose="refresh"),
        expires_at=timezone.now() + dt.timedelta(days=settings.IDENTITY_REFRESH_TOKEN_DAYS),
    )
    return token


def _access_create(session: MemberSession) -> str:
    return signing.dumps({"s": session.pk}, salt=ACCESS_SALT, compress=False)


def app_tokens_issue(*, account: Account, device_label: str) -> TokenPair:
    with transaction.atomic():
        session = session_start(
            account=account, kind=MemberSession.Kind.APP, device_label=device_label
        )
        refresh = _refresh_create(session)
    return TokenPair(_access_create(session), refresh, settings.IDENTITY_ACCESS_TOKEN_SECONDS)


def app_tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotates the refresh token; one used twice ends its whole family (it was copied)."""
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("session__account")
            .filter(token_hash=token_hash(refresh_token or "", purpose="refresh"))
            .first()
        )
        if row is None:
            raise InvalidToken()
        session = row.session
        if row.used_at is not None:
            session_end(session=session, reason="reuse")
            audit_record(
                actor=Actor.system(),
                action="identity.refresh_reuse",
                member_id=session.account.member_id,
                object_type="session",
                object_id=session.pk,
            )
            reused = True
        else:
            reused = False
    if reused:
        raise InvalidToken()
    with transaction.atomic():
        if (
            row.expires_at <= timezone.now()
            or session.ended_at is not None
            or not session.account.is_active
        ):
            raise InvalidToken()
        updated = RefreshToken.objects.filter(pk=row.pk, used_at=None).update(
            used_at=timezone.now()
        )
        if not updated:  # a concurrent refresh won the race: treat as reuse
            raise InvalidToken()
        MemberSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now())
        refresh = _refresh_create(session)
    return TokenPair(_access_create(session), refresh, settings.IDENTITY_ACCESS_TOKEN_SECONDS)


def access_token_session(token: str) -> MemberSession | None:
    """The live app session an access token belongs to, or None (expired, revoked, forged)."""
    try:
        data = signing.loads(
            token, salt=ACCESS_SALT, max_age=settings.IDENTITY_ACCESS_TOKEN_SECONDS
        )
    except signing.BadSignature:
        return None
    session = selectors.live_session(data.get("s"), MemberSession.Kind.APP)
    if session is None or not session.account.is_active:
        return None
    return session


# --- Second factor enrolment ---------------------------------------------------------------------


def totp_secret_new() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(*, account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=account.member.display_name, issuer_name=settings.ASSURE_FUND_SHORT_NAME
    )


def totp_enable(*, account: Account, secret: str, code: str, actor: Actor) -> list[str]:
    """Turns the authenticator on once it has shown a right code; returns the recovery codes."""
    totp = pyotp.TOTP(secret)
    if not totp.verify(code.strip(), valid_window=1):
        raise InvalidCode()
    plain = [recovery_code_new() for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        account.totp_secret = secret
        account.totp_enabled_at = timezone.now()
        account.totp_last_counter = totp.timecode(timezone.now())
        account.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_counter"])
        account.recovery_codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(account=account, code_hash=recovery_code_hash(c)) for c in plain
        )
        audit_record(actor=actor, action="identity.totp_enabled", member_id=account.member_id)
    return plain


def totp_disable(*, account: Account, actor: Actor) -> None:
    with transaction.atomic():
        account.totp_secret = ""
        account.totp_enabled_at = None
        account.save(update_fields=["totp_secret", "totp_enabled_at"])
        account.recovery_codes.all().delete()
        audit_record(actor=actor, action="identity.totp_disabled", member_id=account.member_id)


# --- Termination ---------------------------------------------------------------------------------


def account_terminate(*, account: Account, secret_code: str, address: str, actor: Actor) -> None:
    """Closes the account after the secret code is typed again; every session ends.

    Reopening it goes through a forgotten-code request and a new definitive code.
    """
    identifier = account.member.nir
    lock = throttling.login_lock(identifier)
    if lock is not None:
        raise _lock_error(lock)
    if not check_password(normalize_secret(secret_code), account.secret_code_hash or dummy_hash()):
        _failure(identifier=identifier, address=address, account=None)
        raise InvalidCredentials()
    _close(account=account, actor=actor, reason="member")


def account_terminate_by_staff(*, account: Account, actor: Actor, reason: str) -> None:
    """Closing by an advisor (at the member's request on the phone, or after a fraud): same effects,
    the reason recorded in the audit trail."""
    _close(account=account, actor=actor, reason=reason)


def account_unlock(*, account: Account, actor: Actor, reason: str) -> None:
    """An advisor lifts a lock after checking the caller's identity; the lock ladder starts over."""
    throttling.login_unlock(account.member.nir)
    audit_record(
        actor=actor,
        action="identity.account_unlocked",
        member_id=account.member_id,
        object_type="account",
        object_id=account.pk,
        reason=reason,
    )


def _close(*, account: Account, actor: Actor, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        account.status = Account.Status.TERMINATED
        account.terminated_at = now
        account.secret_code_hash = ""
        account.must_change_code = True
        account.totp_secret = ""
        account.totp_enabled_at = None
        account.save()
        account.devices.all().delete()
        account.recovery_codes.all().delete()
        account.provisional_codes.filter(used_at=None).update(used_at=now)
        account.sessions.filter(ended_at=None).update(ended_at=now, end_reason="terminated")
        _send(
            member=account.member,
            template="identity_terminated",
            context={"at": now},
            key=f"identity:terminated:{account.pk}:{now:%Y%m%d%H%M%S}",
        )
        audit_record(
            actor=actor,
            action="identity.account_terminated",
            member_id=account.member_id,
            object_type="account",
            object_id=account.pk,
            reason=reason,
        )


def account_get_or_create(*, member: Member) -> Account:
    """The member's account, created empty (no code yet) when an advisor sends the first
    provisional code to someone who never signed up online."""
    account, _created = Account.objects.get_or_create(member=member)
    return account


def member_notice_send(*, member: Member, template: str, context: dict[str, Any], key: str) -> str:
    """A notice to the member's contact on record (e-mail, else a letter), for another area's
    event (an advisor's unlock); queued in the caller's transaction. Returns the channel used."""
    return _send(member=member, template=template, context=context, key=key)
