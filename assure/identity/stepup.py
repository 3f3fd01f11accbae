"""A second factor asked again of a signed-in member before a sensitive change (the bank account).

Built on the login's challenges: a challenge of its own purpose, so that it can never finish a
login (login looks challenges up by their purpose) nor a login challenge stand in for it. It
lives as long as a step-up stays fresh (5 minutes), allows the same 5 tries, and a wrong code
counts against the account like a wrong login code.

The web keeps the time of the last step-up in the server-side session; the API sends the
challenge and its code with the change itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError, Throttled
from assure.core.services import Actor, audit_record
from assure.identity import throttling
from assure.identity.exceptions import InvalidCode
from assure.identity.models import Account, LoginChallenge, RecoveryCode
from assure.identity.services import _lock_error, _same, _totp_check
from assure.identity.tokens import (
    keyed_hash,
    otp_new,
    recovery_code_hash,
    token_hash,
    token_new,
)
from assure.members.changes import SECOND_FACTOR_MAX_AGE
from assure.notifications.services import email_queue

# Stored in LoginChallenge.purpose (16 characters), outside the login's own purposes.
STEP_UP_PURPOSE = "step_up"
# Each challenge allows 5 tries: without a cap on new challenges, a stolen session could guess an
# e-mailed code for ever (and fill the member's mailbox).
CHALLENGES_PER_HOUR = 5
SESSION_KEY = "identity_step_up"


class SecondFactorUnavailable(DomainError):
    """No e-mail address and no authenticator app: the change is made with an advisor."""

    code = "second_factor_unavailable"
    status = 403
    title = _(
        "Ce changement demande un code de sécurité, que nous ne pouvons pas vous envoyer : "
        "ajoutez une adresse électronique ou appelez votre caisse."
    )


def _check_lock(account: Account) -> None:
    """A lock from failed logins or failed step-ups stops step-ups too."""
    lock = throttling.login_lock(account.member.nir)
    if lock is not None:
        raise _lock_error(lock)


@dataclass(frozen=True)
class StepUp:
    challenge: str
    methods: list[str]


def step_up_methods(account: Account) -> list[str]:
    if account.totp_enabled:
        return ["totp", "recovery_code"]
    if account.contact_email:
        return ["email_otp"]
    return []


def step_up_start(*, account: Account, actor: Actor) -> StepUp:
    """A new challenge; with the e-mail method, its code is sent now."""
    methods = step_up_methods(account)
    if not methods:
        raise SecondFactorUnavailable()
    _check_lock(account)
    if not throttling.request_allowed(
        "step-up", str(account.pk), limit=CHALLENGES_PER_HOUR, window_seconds=3600
    ):
        raise Throttled()
    token = token_new()
    otp = otp_new() if methods == ["email_otp"] else ""
    with transaction.atomic():
        LoginChallenge.objects.create(
            account=account,
            token_hash=token_hash(token, purpose="challenge"),
            purpose=STEP_UP_PURPOSE,
            methods=methods,
            otp_hash=keyed_hash(otp, purpose="otp") if otp else "",
            expires_at=timezone.now() + SECOND_FACTOR_MAX_AGE,
        )
        if otp:
            email_queue(
                to=account.contact_email,
                template="profile_step_up_code",
                context={
                    "given_names": account.member.given_names,
                    "code": otp,
                    "minutes": int(SECOND_FACTOR_MAX_AGE.total_seconds()) // 60,
                },
                idempotency_key=f"identity:step-up:{token_hash(token, purpose='challenge')[:32]}",
                language=(translation.get_language() or "fr")[:2],
                member_id=account.member_id,
            )
        audit_record(actor=actor, action="identity.step_up_started", member_id=account.member_id)
    return StepUp(challenge=token, methods=methods)


def step_up_verify(
    *, account: Account, challenge: str, code: str, method: str = "", actor: Actor
) -> dt.datetime:
    """The time the second factor was done; InvalidCode for a wrong, used, expired or other
    account's challenge (all alike)."""
    now = timezone.now()
    _check_lock(account)
    with transaction.atomic():
        found = (
            LoginChallenge.objects.select_for_update()
            .filter(
                token_hash=token_hash(challenge or "", purpose="challenge"),
                purpose=STEP_UP_PURPOSE,
                account=account,
                used_at=None,
                expires_at__gt=now,
                failed_attempts__lt=settings.IDENTITY_CODE_TRIES,
            )
            .first()
        )
        ok = False
        if found is not None:
            method = method or found.methods[0]
            code = (code or "").strip()
            if method not in found.methods:
                ok = False
            elif method == "email_otp":
                ok = bool(found.otp_hash) and _same(found.otp_hash, keyed_hash(code, purpose="otp"))
            elif method == "totp":
                ok = _totp_check(account, code)
            else:
                recovery = RecoveryCode.objects.filter(
                    account=account, code_hash=recovery_code_hash(code), used_at=None
                ).first()
                if recovery is not None:
                    recovery.used_at = now
                    recovery.save(update_fields=["used_at"])
                    ok = True
            if ok:
                found.used_at = now
                found.save(update_fields=["used_at"])
                audit_record(
                    actor=actor, action="identity.step_up_done", member_id=account.member_id
                )
                return now
            found.failed_attempts += 1
            found.save(update_fields=["failed_attempts"])
    throttling.login_failure(account.member.nir)
    # Raised outside the transaction, so that the failed try stays counted.
    raise InvalidCode()


# --- Web: the step-up kept in the server-side session ---------------------------------------------


def step_up_session_mark(session: Any, *, account: Account, at: dt.datetime) -> None:
    session[SESSION_KEY] = {"account": account.pk, "at": at.isoformat()}


def step_up_session_challenge(session: Any, *, account: Account, challenge: str) -> None:
    session[f"{SESSION_KEY}_challenge"] = {"account": account.pk, "token": challenge}


def step_up_session_pending(session: Any, *, account: Account) -> str:
    data = session.get(f"{SESSION_KEY}_challenge") or {}
    return str(data.get("token", "")) if data.get("account") == account.pk else ""


def step_up_session_at(session: Any, *, account: Account) -> dt.datetime | None:
    """When this session last did a step-up for this account, if within the last 5 minutes."""
    data = session.get(SESSION_KEY) or {}
    if data.get("account") != account.pk:
        return None
    try:
        at = dt.datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None
    now = timezone.now()
    return at if now - SECOND_FACTOR_MAX_AGE < at <= now else None


def step_up_session_clear(session: Any) -> None:
    session.pop(SESSION_KEY, None)
    session.pop(f"{SESSION_KEY}_challenge", None)
