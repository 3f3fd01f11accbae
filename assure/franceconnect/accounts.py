"""Thin adapters over identity for what a FranceConnect login needs and identity does not offer yet.

- starting a member's web session after a strong login (no e-mail code): identity's own
  `_sign_in` is private to its views, so the same three steps are done here with its public
  `session_start` service and its session key;
- creating the account of a member whose identity FranceConnect proved (no provisional code);
- checking a NIR and secret code once, without the second factor that `services.login` would start
  (and e-mail), with identity's throttling counting failures;
- setting a first secret code on an account created through FranceConnect.

Each one is small and meant to move into identity's services when it offers the same.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from assure.core.services import Actor, audit_record
from assure.identity import services as identity_services
from assure.identity import throttling
from assure.identity.devices import device_label
from assure.identity.exceptions import (
    AccountLocked,
    AddressBlocked,
    InvalidCredentials,
    WeakSecretCode,
)
from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from assure.identity.rules import RULE_MESSAGES, broken_rules, normalize_secret
from assure.members.models import Member
from assure.members.nir import InvalidNir, normalize_nir


def member_session_start(request: HttpRequest, account: Account) -> MemberSession:
    """A new session key (no fixation), its mirror row the member can list and end, signed in."""
    request.session.cycle_key()
    label = device_label(request.META.get("HTTP_USER_AGENT", ""), default="Navigateur")
    session = identity_services.session_start(
        account=account,
        kind=MemberSession.Kind.WEB,
        device_label=f"{label} (FranceConnect)",
        session_key=request.session.session_key or "",
    )
    request.session[SESSION_KEY] = session.pk
    Account.objects.filter(pk=account.pk).update(last_login_at=timezone.now())
    return session


def member_session_end(request: HttpRequest) -> None:
    session = getattr(request, "member_session", None)
    if session is not None:
        identity_services.session_end(session=session, reason="logout")
    request.session.flush()


def account_create_proven(*, member: Member, actor: Actor) -> Account:
    """FranceConnect proved who this is: the account exists at once, with no code to send."""
    now = timezone.now()
    account = Account.objects.create(member=member, activated_at=now)
    audit_record(
        actor=actor,
        action="identity.account_created",
        member_id=member.pk,
        object_type="account",
        object_id=account.pk,
        reason="franceconnect",
    )
    return account


def account_by_secret_code(*, nir: str, secret_code: str, address: str) -> Account:
    """The account whose NIR and definitive secret code these are, counted like a login.

    Raises InvalidCredentials (the same for an unknown NIR, a wrong code, a closed account),
    AccountLocked or AddressBlocked.
    """
    try:
        normalized: str | None = normalize_nir(nir)
    except InvalidNir:
        normalized = None
    identifier = normalized or "".join(nir.split()).upper()
    state = throttling.login_state(identifier, address)
    if state.address_lock is not None:
        raise AddressBlocked(
            extra={"locked_until": state.address_lock.until.isoformat(timespec="seconds")}
        )
    if state.lock is not None:
        raise AccountLocked(extra={"locked_until": state.lock.until.isoformat(timespec="seconds")})
    account = (
        Account.objects.select_related("member").filter(member__nir=normalized).first()
        if normalized
        else None
    )
    encoded = (
        account.secret_code_hash
        if account and account.secret_code_hash
        else identity_services.dummy_hash()
    )
    ok = check_password(normalize_secret(secret_code), encoded)
    if account is None or not ok or not account.is_active or not account.secret_code_hash:
        address_lock = throttling.address_failure(address)
        lock = throttling.login_failure(identifier)
        if lock is not None:
            raise AccountLocked(extra={"locked_until": lock.until.isoformat(timespec="seconds")})
        if address_lock is not None:
            raise AddressBlocked(
                extra={"locked_until": address_lock.until.isoformat(timespec="seconds")}
            )
        raise InvalidCredentials()
    throttling.login_success(identifier, state)
    return account


def secret_code_set_first(*, account: Account, new_secret_code: str, actor: Actor) -> None:
    """The first secret code of an account made through FranceConnect (none to confirm yet)."""
    secret = normalize_secret(new_secret_code)
    rules = broken_rules(secret, identity_services.secret_code_rules(account))
    if rules:
        raise WeakSecretCode(
            errors={"new_secret_code": [str(RULE_MESSAGES[r]) for r in rules]},
            extra={"rules": rules},
        )
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if locked.secret_code_hash:
            raise InvalidCredentials()
        locked.secret_code_hash = make_password(secret)
        locked.must_change_code = False
        locked.code_changed_at = timezone.now()
        locked.save(update_fields=["secret_code_hash", "must_change_code", "code_changed_at"])
        audit_record(
            actor=actor,
            action="identity.secret_code_set",
            member_id=locked.member_id,
            object_type="account",
            object_id=locked.pk,
            reason="franceconnect",
        )
