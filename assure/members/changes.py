"""Changes of personal details by the member: address, phone, e-mail, bank account.

Each service applies the change to the portal's register in one transaction with its audit event,
its line in the member's history (`ProfileChange`, also the outbound change feed) and its notices.
The fund's register stays the reference: it takes these changes from `assure export changes`
before it sends its next members feed (docs/profile.md says how the two meet).

Notices never carry a link, except the confirmation link sent to a new e-mail address; that link
confirms the address and nothing else (it is not a login).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError

from assure.core.exceptions import DomainError, ValidationFailed
from assure.core.services import Actor, audit_record
from assure.members.feed import COUNTRIES, E164, FRENCH_NATIONAL_PHONE
from assure.members.models import Member, ProfileChange
from assure.notifications.postal import MAX_WIDTH, PostalRecipient
from assure.notifications.services import email_queue, letter_queue

# "Within the last 5 minutes" (issue 5): how fresh a second factor must be to change the account
# into which the fund pays.
SECOND_FACTOR_MAX_AGE = dt.timedelta(minutes=5)
EMAIL_LINK_LIFETIME = dt.timedelta(hours=24)
# Departments 01-95, overseas 97x and 98x; "00" and "96" do not exist.
FRENCH_POSTAL_CODE = re.compile(r"(?:0[1-9]|[1-8]\d|9[0-578])\d{3}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# The town follows the postcode and a space on the same line of the address block.
CITY_MAX = MAX_WIDTH - 6
CONFIRM_PATH = "/mon-profil/courriel/confirmer/{token}/"


class SecondFactorRequired(DomainError):
    """The bank account changes only after a second factor done within the last 5 minutes."""

    code = "second_factor_required"
    status = 401
    title = _("Confirmez votre identité avec un code de sécurité pour faire ce changement.")


class InvalidLink(DomainError):
    """Unknown, used, replaced or expired: the same answer for all of them."""

    code = "invalid_link"
    status = 404
    title = _("Ce lien n'est pas valable ou a expiré.")


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str = "FR"


# --- Checks --------------------------------------------------------------------------------------


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def address_check(
    *, line1: str, line2: str = "", postal_code: str, city: str, country: str = "FR"
) -> Address:
    """French postal rules (NF Z10-011): each line fits 38 characters, a real French postcode."""
    errors: dict[str, list[str]] = {}
    line1, line2, city = _clean(line1), _clean(line2), _clean(city)
    country = _clean(country).upper() or "FR"
    postal_code = _clean(postal_code).upper()
    too_long = gettext("%(max)s caractères au plus.")
    if not line1:
        errors["line1"] = [gettext("Indiquez le numéro et la voie.")]
    elif len(line1) > MAX_WIDTH:
        errors["line1"] = [too_long % {"max": MAX_WIDTH}]
    if len(line2) > MAX_WIDTH:
        errors["line2"] = [too_long % {"max": MAX_WIDTH}]
    if country not in COUNTRIES:
        errors["country"] = [gettext("Choisissez un pays.")]
    if country == "FR":
        postal_code = postal_code.replace(" ", "")
        if not FRENCH_POSTAL_CODE.fullmatch(postal_code):
            errors["postal_code"] = [gettext("Un code postal français a 5 chiffres, comme 75014.")]
    elif not postal_code or len(postal_code) > 10:
        errors["postal_code"] = [gettext("Indiquez le code postal (10 caractères au plus).")]
    if not city:
        errors["city"] = [gettext("Indiquez la commune.")]
    elif len(city) > CITY_MAX:
        errors["city"] = [too_long % {"max": CITY_MAX}]
    if errors:
        raise ValidationFailed(errors=errors)
    return Address(line1=line1, line2=line2, postal_code=postal_code, city=city, country=country)


def phone_check(value: str) -> str:
    """E.164 (+33612345678) or French national (06 12 34 56 78), kept without separators."""
    compact = _PHONE_SEPARATORS.sub("", value or "")
    if E164.fullmatch(compact) or FRENCH_NATIONAL_PHONE.fullmatch(compact):
        return compact
    raise ValidationFailed(
        errors={"phone": [gettext("Indiquez un numéro comme 06 12 34 56 78 ou +33 6 12 34 56 78.")]}
    )


def email_check(value: str) -> str:
    email = (value or "").strip()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(
            errors={"email": [gettext("Indiquez une adresse comme nom@exemple.fr.")]}
        ) from None
    if len(email) > 254:
        raise ValidationFailed(errors={"email": [gettext("254 caractères au plus.")]})
    return email


@dataclass(frozen=True)
class BankAccount:
    iban: str
    bic: str
    holder: str


def bank_account_check(*, iban: str, bic: str, holder: str) -> BankAccount:
    """IBAN by its mod-97 key and its country's format (python-stdnum), BIC by its format."""
    errors: dict[str, list[str]] = {}
    clean_iban = clean_bic = ""
    try:
        clean_iban = str(stdnum_iban.validate(iban or ""))
    except StdnumValidationError:
        errors["iban"] = [gettext("Cet IBAN n'est pas valable : vérifiez-le sur votre RIB.")]
    try:
        clean_bic = str(stdnum_bic.validate(bic or ""))
    except StdnumValidationError:
        errors["bic"] = [gettext("Ce BIC n'est pas valable : il a 8 ou 11 caractères.")]
    holder = _clean(holder)
    if not holder:
        errors["holder"] = [gettext("Indiquez le titulaire du compte.")]
    elif len(holder) > 100:
        errors["holder"] = [gettext("%(max)s caractères au plus.") % {"max": 100}]
    if errors:
        raise ValidationFailed(errors=errors)
    return BankAccount(iban=clean_iban, bic=clean_bic, holder=holder)


def iban_mask(iban: str | None) -> str:
    """Country and key, then the last 3 characters: the last 7 are a sign-up proof (DESIGN.md),
    so a notice read over someone's shoulder must not give them away."""
    if not iban:
        return ""
    hidden = iban[:4] + "•" * (len(iban) - 7) + iban[-3:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


# --- Helpers -------------------------------------------------------------------------------------


def _recipient(member: Member) -> PostalRecipient:
    lines = [member.address_line1] + ([member.address_line2] if member.address_line2 else [])
    return PostalRecipient(
        name=f"{member.given_names} {member.family_name}",
        lines=tuple(lines),
        postal_code=member.postal_code,
        city=member.city,
        country="FRANCE" if member.country in {"", "FR"} else member.country,
    )


def _language() -> str:
    return (translation.get_language() or "fr")[:2]


def _context(member: Member, **extra: Any) -> dict[str, Any]:
    return {"given_names": member.given_names, "family_name": member.family_name} | extra


def _email(member: Member, *, template: str, key: str, to: str = "", **extra: Any) -> None:
    email_queue(
        to=to or member.email or "",
        template=template,
        context=_context(member, **extra),
        idempotency_key=key,
        language=_language(),
        member_id=member.pk,
    )


def _letter(member: Member, *, template: str, key: str, **extra: Any) -> None:
    letter_queue(
        recipient=_recipient(member),
        template=template,
        context=_context(member, **extra),
        idempotency_key=key,
        language=_language(),
        member_id=member.pk,
    )


def _notify(member: Member, *, template: str, key: str, **extra: Any) -> None:
    """By e-mail when the member has an address, else by letter."""
    if member.email:
        _email(member, template=template, key=key, **extra)
    else:
        _letter(member, template=template, key=key, **extra)


def _address_values(member: Member) -> dict[str, Any]:
    return {
        "line1": member.address_line1,
        "line2": member.address_line2 or None,
        "postal_code": member.postal_code,
        "city": member.city,
        "country": member.country or "FR",
    }


def _record(
    *,
    member: Member,
    kind: str,
    status: str,
    values: dict[str, Any],
    previous: dict[str, Any],
    actor: Actor,
    now: dt.datetime,
    **fields: Any,
) -> ProfileChange:
    change = ProfileChange.objects.create(
        member=member,
        kind=kind,
        status=status,
        values=values,
        previous=previous,
        actor_kind=actor.kind,
        actor_id=str(actor.id)[:64],
        created_at=now,
        applied_at=None if status == ProfileChange.Status.AWAITING_CONFIRMATION else now,
        **fields,
    )
    return change


def _locked(member: Member) -> Member:
    # Two changes at once (two tabs, app and web) apply one after the other, each on fresh values.
    return Member.objects.select_for_update().get(pk=member.pk)


# --- Services ------------------------------------------------------------------------------------


def member_address_change(*, member: Member, address: Address, actor: Actor) -> ProfileChange:
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(member)
        previous = _address_values(locked)
        locked.address_line1 = address.line1
        locked.address_line2 = address.line2 or None
        locked.postal_code = address.postal_code
        locked.city = address.city
        locked.country = address.country
        locked.save(
            update_fields=[
                "address_line1",
                "address_line2",
                "postal_code",
                "city",
                "country",
                "updated_at",
            ]
        )
        change = _record(
            member=locked,
            kind=ProfileChange.Kind.ADDRESS,
            status=ProfileChange.Status.APPLIED,
            values=_address_values(locked),
            previous=previous,
            actor=actor,
            now=now,
        )
        # A letter goes to the new address when there is no e-mail: it also proves it is right.
        _notify(locked, template="profile_address_changed", key=f"profile:change:{change.pk}")
        audit_record(
            actor=actor,
            action="members.address_changed",
            member_id=locked.pk,
            object_type="profile_change",
            object_id=change.pk,
        )
    _refresh(member, locked)
    return change


def member_phone_change(*, member: Member, phone: str, actor: Actor) -> ProfileChange:
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(member)
        previous = {"phone": locked.phone}
        locked.phone = phone or None
        locked.save(update_fields=["phone", "updated_at"])
        change = _record(
            member=locked,
            kind=ProfileChange.Kind.PHONE,
            status=ProfileChange.Status.APPLIED,
            values={"phone": locked.phone},
            previous=previous,
            actor=actor,
            now=now,
        )
        _notify(locked, template="profile_phone_changed", key=f"profile:change:{change.pk}")
        audit_record(
            actor=actor,
            action="members.phone_changed",
            member_id=locked.pk,
            object_type="profile_change",
            object_id=change.pk,
        )
    _refresh(member, locked)
    return change


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_url(token: str) -> str:
    return settings.ASSURE_SITE_URL.rstrip("/") + CONFIRM_PATH.format(token=token)


def member_email_change_request(*, member: Member, email: str, actor: Actor) -> ProfileChange:
    """Sends a single-use link to the new address; the change is made when it is followed.

    The token is 256 random bits in hexadecimal (the characters of no word a link check could
    mistake for a login page); only its hash is kept. A newer request cancels the older one.
    """
    now = timezone.now()
    token = secrets.token_hex(32)
    with transaction.atomic():
        locked = _locked(member)
        if email.lower() == (locked.email or "").lower():
            raise ValidationFailed(
                errors={"email": [gettext("C'est déjà votre adresse électronique.")]}
            )
        ProfileChange.objects.filter(
            member=locked,
            kind=ProfileChange.Kind.EMAIL,
            status=ProfileChange.Status.AWAITING_CONFIRMATION,
        ).update(status=ProfileChange.Status.CANCELLED, token_hash="")
        change = _record(
            member=locked,
            kind=ProfileChange.Kind.EMAIL,
            status=ProfileChange.Status.AWAITING_CONFIRMATION,
            values={"email": email},
            previous={"email": locked.email},
            actor=actor,
            now=now,
            token_hash=_token_hash(token),
            expires_at=now + EMAIL_LINK_LIFETIME,
        )
        _email(
            locked,
            template="profile_email_confirm",
            key=f"profile:email-link:{change.pk}",
            to=email,
            url=confirm_url(token),
            expires_at=change.expires_at,
        )
        audit_record(
            actor=actor,
            action="members.email_change_requested",
            member_id=locked.pk,
            object_type="profile_change",
            object_id=change.pk,
        )
    return change


def _pending_email(token: str) -> ProfileChange | None:
    if not token or len(token) > 128:
        return None
    change = (
        ProfileChange.objects.select_related("member")
        .filter(
            token_hash=_token_hash(token),
            kind=ProfileChange.Kind.EMAIL,
            status=ProfileChange.Status.AWAITING_CONFIRMATION,
        )
        .first()
    )
    if change is None or change.expires_at is None or change.expires_at <= timezone.now():
        return None
    return change


def email_change_pending_get(*, token: str) -> ProfileChange:
    """The request a confirmation link names, if it can still be confirmed; else InvalidLink."""
    change = _pending_email(token)
    if change is None:
        raise InvalidLink()
    return change


def member_email_change_confirm(*, token: str) -> ProfileChange:
    """The link was followed: the new address replaces the old one, which is told (no link).

    Whoever holds the link proves they read the new mailbox, nothing more: no session is opened.
    """
    now = timezone.now()
    with transaction.atomic():
        found = _pending_email(token)
        if found is None:
            raise InvalidLink()
        change = ProfileChange.objects.select_for_update().get(pk=found.pk)
        if change.status != ProfileChange.Status.AWAITING_CONFIRMATION:
            raise InvalidLink()
        locked = _locked(change.member)
        old = locked.email
        locked.email = change.values["email"]
        locked.save(update_fields=["email", "updated_at"])
        change.status = ProfileChange.Status.APPLIED
        change.applied_at = now
        change.token_hash = ""
        change.previous = {"email": old}
        change.save(update_fields=["status", "applied_at", "token_hash", "previous"])
        key = f"profile:change:{change.pk}"
        if old:
            _email(locked, template="profile_email_changed", key=key, to=old)
        else:
            _letter(locked, template="profile_email_changed", key=key)
        audit_record(
            actor=Actor(kind="member", id=str(locked.pk), display=locked.display_name),
            action="members.email_changed",
            member_id=locked.pk,
            object_type="profile_change",
            object_id=change.pk,
        )
    return change


def member_bank_account_change(
    *,
    member: Member,
    account: BankAccount,
    second_factor_at: dt.datetime | None,
    actor: Actor,
) -> ProfileChange:
    """The account into which the fund pays: only after a fresh second factor, told by e-mail and
    by letter. Shown (masked) at once; the fund pays into it once its register has taken it."""
    now = timezone.now()
    if second_factor_at is None or not (now - SECOND_FACTOR_MAX_AGE < second_factor_at <= now):
        raise SecondFactorRequired()
    with transaction.atomic():
        locked = _locked(member)
        previous = {"iban_masked": iban_mask(locked.iban), "holder": locked.bank_holder}
        locked.iban = account.iban
        locked.bic = account.bic
        locked.bank_holder = account.holder
        locked.save(update_fields=["iban", "bic", "bank_holder", "updated_at"])
        change = _record(
            member=locked,
            kind=ProfileChange.Kind.BANK_ACCOUNT,
            status=ProfileChange.Status.PENDING_FUND,
            values={"iban": account.iban, "bic": account.bic, "holder": account.holder},
            previous=previous,
            actor=actor,
            now=now,
        )
        context: dict[str, Any] = {"iban_masked": iban_mask(account.iban), "at": now}
        if locked.email:
            _email(
                locked,
                template="profile_bank_account_changed",
                key=f"profile:change:{change.pk}:email",
                **context,
            )
        # Always a letter too: someone who took over the mailbox cannot hide the change.
        _letter(
            locked,
            template="profile_bank_account_changed",
            key=f"profile:change:{change.pk}:letter",
            **context,
        )
        audit_record(
            actor=actor,
            action="members.bank_account_changed",
            member_id=locked.pk,
            object_type="profile_change",
            object_id=change.pk,
        )
    _refresh(member, locked)
    return change


def _refresh(member: Member, locked: Member) -> None:
    """The caller's instance shows the new values too (the request's member, for the answer)."""
    if member is not locked:
        for name in ("address_line1", "address_line2", "postal_code", "city", "country"):
            setattr(member, name, getattr(locked, name))
        for name in ("phone", "email", "iban", "bic", "bank_holder", "updated_at"):
            setattr(member, name, getattr(locked, name))


# --- Reads ---------------------------------------------------------------------------------------


def profile_change_list_for_member(*, member: Member) -> QuerySet[ProfileChange]:
    return ProfileChange.objects.filter(member_id=member.pk).order_by("-created_at", "-id")


def profile_change_feed(*, since: dt.datetime) -> QuerySet[ProfileChange]:
    """The changes the fund's register has to take, in the order they were made."""
    return (
        ProfileChange.objects.filter(
            applied_at__gte=since,
            status__in=[ProfileChange.Status.APPLIED, ProfileChange.Status.PENDING_FUND],
        )
        .select_related("member")
        .order_by("applied_at", "id")
    )


def profile_change_feed_line(change: ProfileChange) -> dict[str, Any]:
    """One line of the outbound change feed, with the field names of the members feed."""
    values = change.values
    data: dict[str, Any]
    if change.kind == ProfileChange.Kind.ADDRESS:
        data = {"address": values}
    elif change.kind == ProfileChange.Kind.BANK_ACCOUNT:
        data = {"bank_account": values}
    else:
        data = dict(values)
    return {
        "change_id": change.pk,
        "member_external_id": change.member.external_id,
        "kind": change.kind,
        "changed_at": change.applied_at.isoformat() if change.applied_at else None,
        "by": change.actor_kind,
        **data,
    }


def profile_change_shown(change: ProfileChange) -> str:
    """The new value as the member sees it in their history: a bank account only masked."""
    values = change.values
    if change.kind == ProfileChange.Kind.ADDRESS:
        parts = [values.get("line1"), values.get("line2")]
        parts.append(f"{values.get('postal_code', '')} {values.get('city', '')}".strip())
        if values.get("country") not in (None, "", "FR"):
            parts.append(values["country"])
        return ", ".join(p for p in parts if p)
    if change.kind == ProfileChange.Kind.BANK_ACCOUNT:
        return f"{iban_mask(values.get('iban'))} ({values.get('holder', '')})"
    return str(values.get(change.kind) or "")
