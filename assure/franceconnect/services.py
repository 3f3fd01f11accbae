"""Writes of FranceConnect: linking an identity to an account, logging in, removing a link.

Linking follows FRANCECONNECT.md: a known `(issuer, sub)` logs its account in; otherwise the
identity pivot is compared with the register, field by field, after folding case and accents.
One member matches: log in (and link), or create the account when there is none. No member or
several: the person proves who they are once with NIR + secret code, then the link is made.
Nothing of the pivot identity goes to logs or to the audit trail's data.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from assure.core.exceptions import NotFound
from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record
from assure.franceconnect.accounts import account_create_proven
from assure.franceconnect.exceptions import AccountClosed
from assure.franceconnect.models import FranceConnectLink
from assure.identity.models import Account
from assure.members.models import Member

FRANCE = "99100"
PIVOT_CLAIMS = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry")
_GENDERS = {"male": Member.Sex.MALE, "female": Member.Sex.FEMALE}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def fc_actor() -> Actor:
    return Actor(kind=AuditEvent.ActorKind.SYSTEM, id="", display="franceconnect")


def fold(value: str | None) -> str:
    """Upper case, accents removed, one space between words, one kind of apostrophe."""
    text = unicodedata.normalize("NFKD", (value or "").translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.upper().split())


@dataclass(frozen=True)
class Pivot:
    """The identity pivot as FranceConnect returned it, plus the usage name and e-mail."""

    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    preferred_username: str = ""
    email: str = ""

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Pivot:
        def text(name: str) -> str:
            value = claims.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            given_name=text("given_name"),
            family_name=text("family_name"),
            birthdate=text("birthdate"),
            gender=text("gender").lower(),
            birthplace=text("birthplace").upper(),
            birthcountry=text("birthcountry"),
            preferred_username=text("preferred_username"),
            email=text("email"),
        )

    def as_snapshot(self) -> dict[str, str]:
        return {
            "given_name": self.given_name[:255],
            "family_name": self.family_name[:255],
            "preferred_username": self.preferred_username[:255],
            "birthdate": self.birthdate[:10],
            "gender": self.gender[:10],
            "birthplace": self.birthplace[:5],
            "birthcountry": self.birthcountry[:5],
            "email": self.email[:254],
        }


@dataclass(frozen=True)
class LoginFacts:
    """How the person authenticated at FranceConnect (recorded on each login)."""

    acr: str = ""
    amr: list[str] = field(default_factory=list)
    auth_time: dt.datetime | None = None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> LoginFacts:
        amr = claims.get("amr")
        auth_time = claims.get("auth_time")
        return cls(
            acr=str(claims.get("acr") or "")[:64],
            amr=[str(a)[:32] for a in amr] if isinstance(amr, list) else [],
            auth_time=dt.datetime.fromtimestamp(auth_time, tz=dt.UTC)
            if isinstance(auth_time, int | float)
            else None,
        )


def _register_birthplace(member: Member) -> tuple[str, str]:
    """(commune, country) of the register, as FranceConnect states them.

    Someone born abroad has no commune at FranceConnect; the register may hold nothing there, or
    the "99" + country code the NIR itself carries in place of a commune.
    """
    place = (member.birth_place_insee or "").strip().upper()
    country = (member.birth_country_insee or "").strip()
    if place.startswith("99"):
        return "", country or place
    if not country:
        country = FRANCE if place else ""
    return place, country


def pivot_matches(member: Member, pivot: Pivot) -> bool:
    """All six fields equal after folding: a near miss is no match (then NIR + code decide)."""
    place, country = _register_birthplace(member)
    return (
        fold(member.birth_name) == fold(pivot.family_name)
        and fold(member.given_names) == fold(pivot.given_name)
        and _GENDERS.get(pivot.gender) == member.sex
        and member.birth_date.isoformat() == pivot.birthdate
        and country == pivot.birthcountry
        and place == (pivot.birthplace if pivot.birthcountry == FRANCE else "")
    )


def members_matching(pivot: Pivot) -> list[Member]:
    """Register members with this identity; the birth date and sex narrow it down in SQL."""
    try:
        born = dt.date.fromisoformat(pivot.birthdate)
    except ValueError:
        return []
    sex = _GENDERS.get(pivot.gender)
    if sex is None:
        return []
    candidates = Member.objects.filter(birth_date=born, sex=sex).select_related("account")
    return [m for m in candidates if pivot_matches(m, pivot)]


@dataclass(frozen=True)
class Outcome:
    """What the callback does next: log `account` in, or ask for NIR + secret code."""

    kind: str  # "linked", "matched", "created", "needs_proof"
    account: Account | None = None


def _link_refresh(link: FranceConnectLink, pivot: Pivot, facts: LoginFacts) -> None:
    for name, value in pivot.as_snapshot().items():
        setattr(link, name, value)
    link.last_acr = facts.acr
    link.last_amr = facts.amr
    link.last_auth_time = facts.auth_time
    link.last_login_at = timezone.now()


def _link_create(
    *, account: Account, issuer: str, sub: str, pivot: Pivot, facts: LoginFacts, actor: Actor
) -> FranceConnectLink:
    link = FranceConnectLink(account=account, issuer=issuer, sub=sub)
    _link_refresh(link, pivot, facts)
    link.save()
    audit_record(
        actor=actor,
        action="franceconnect.linked",
        member_id=account.member_id,
        object_type="franceconnect_link",
        object_id=link.pk,
    )
    return link


def franceconnect_login(*, issuer: str, sub: str, pivot: Pivot, facts: LoginFacts) -> Outcome:
    """Finds (or makes) the account for this FranceConnect identity; see the module docstring."""
    actor = fc_actor()
    with transaction.atomic():
        link = (
            FranceConnectLink.objects.select_for_update()
            .select_related("account")
            .filter(issuer=issuer, sub=sub)
            .first()
        )
        if link is not None:
            if not link.account.is_active:
                audit_record(
                    actor=actor,
                    action="franceconnect.account_closed",
                    member_id=link.account.member_id,
                )
                raise AccountClosed()
            _link_refresh(link, pivot, facts)
            link.save()
            return Outcome("linked", link.account)
        matches = members_matching(pivot)
        if len(matches) != 1:
            audit_record(
                actor=actor,
                action="franceconnect.no_match" if not matches else "franceconnect.ambiguous",
                data={"candidates": len(matches)},
            )
            return Outcome("needs_proof")
        member = matches[0]
        account = Account.objects.filter(member=member).first()
        if account is not None and not account.is_active:
            audit_record(actor=actor, action="franceconnect.account_closed", member_id=member.pk)
            raise AccountClosed()
        kind = "matched"
        if account is None:
            account = account_create_proven(member=member, actor=actor)
            kind = "created"
        _link_create(account=account, issuer=issuer, sub=sub, pivot=pivot, facts=facts, actor=actor)
    return Outcome(kind, account)


def franceconnect_link_with_proof(
    *, account: Account, issuer: str, sub: str, pivot: Pivot, facts: LoginFacts
) -> FranceConnectLink:
    """After NIR + secret code were right once: the link is made, later logins need neither."""
    actor = Actor(
        kind=AuditEvent.ActorKind.MEMBER, id=str(account.member_id), display="franceconnect"
    )
    try:
        with transaction.atomic():
            return _link_create(
                account=account, issuer=issuer, sub=sub, pivot=pivot, facts=facts, actor=actor
            )
    except IntegrityError:
        # The same identity was linked meanwhile (two tabs): keep the first link.
        return FranceConnectLink.objects.get(issuer=issuer, sub=sub)


def franceconnect_link_remove(*, account: Account, link_id: int, actor: Actor) -> None:
    """The member removes a link; another member's link looks exactly like a missing one."""
    with transaction.atomic():
        deleted, _ = FranceConnectLink.objects.filter(pk=link_id, account=account).delete()
        if not deleted:
            raise NotFound()
        audit_record(
            actor=actor,
            action="franceconnect.unlinked",
            member_id=account.member_id,
            object_type="franceconnect_link",
            object_id=link_id,
        )


def franceconnect_error_record(*, action: str, reason: str, member_id: int | None = None) -> None:
    """An audit event for a failed callback: the reason code only, never a claim or a token."""
    audit_record(actor=fc_actor(), action=action, member_id=member_id, data={"reason": reason[:80]})
