"""Reads of the documents app: the member's own certificates, the facts a certificate states, and
the public verification answer."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.core.compiled import CompiledRead, compiled_per_size
from assure.core.exceptions import NotFound, ValidationFailed
from assure.documents.models import Certificate
from assure.documents.references import reference_normalize
from assure.members.models import Beneficiary, Member
from assure.payments.models import AllowancePayment

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    title = _("Le curseur de pagination est invalide.")


@dataclass(frozen=True)
class CertificatePage:
    items: list[Certificate]
    next_cursor: str | None


def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _newest_query(member_id: int, limit: int) -> QuerySet[Certificate]:
    return (
        Certificate.objects.filter(member_id=member_id)
        .order_by("-id")
        .select_related("beneficiary")[: limit + 1]
    )


# The first page of one size: Mes attestations and the advisors' member file read it on every
# visit, compiled once (assure.core.compiled).
_newest = compiled_per_size(Certificate, _newest_query, stand_ins=(-1,))


def certificate_list_for_member(
    *, member: Member, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> CertificatePage:
    """Newest first (ids grow with issue time), continued by id."""
    if not cursor and 0 < limit <= MAX_LIMIT:
        items = _newest(limit).all(member.pk)
    else:
        qs: QuerySet[Certificate] = Certificate.objects.filter(member_id=member.pk)
        if cursor:
            before = _cursor_decode(cursor)
            if before is None:
                raise InvalidCursor(errors={"cursor": ["invalid"]})
            qs = qs.filter(id__lt=before)
        items = list(qs.order_by("-id").select_related("beneficiary")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return CertificatePage(
        items=items, next_cursor=_cursor_encode(items[-1].pk) if more and items else None
    )


def _certificate_of_member_query(member_id: int, certificate_id: int) -> QuerySet[Certificate]:
    # A slice, not first(): the id is unique, so no ORDER BY to build and run.
    return Certificate.objects.filter(member_id=member_id, pk=certificate_id)[:1]


# Every download reads it: compiled once (assure.core.compiled).
_certificate_of_member = CompiledRead(Certificate, _certificate_of_member_query, stand_ins=(-1, -2))


def certificate_get_for_member(*, member: Member, certificate_id: int) -> Certificate:
    """The member's certificate; another member's is "not found", exactly as a missing one."""
    certificate = _certificate_of_member.first(member.pk, certificate_id)
    if certificate is None:
        raise NotFound()
    return certificate


def _active_beneficiaries_query(member_id: int) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.filter(member_id=member_id, active=True).order_by("birth_date", "pk")


# Read by each certificate form and each entitlement certificate: compiled once.
_active_beneficiaries = CompiledRead(Beneficiary, _active_beneficiaries_query, stand_ins=(-1,))


def beneficiaries_for_member(*, member: Member) -> list[Beneficiary]:
    """The member's beneficiaries covered today, eldest first."""
    return _active_beneficiaries.all(member.pk)


def allowances_paid_for_member(
    *, member: Member, start: dt.date, end: dt.date
) -> list[AllowancePayment]:
    """Allowances paid (not merely processed) between two dates, in the order they were paid."""
    return list(
        AllowancePayment.objects.filter(
            member_id=member.pk,
            status=AllowancePayment.Status.PAID,
            paid_on__gte=start,
            paid_on__lte=end,
        )
        .select_related("sick_leave")
        .order_by("paid_on", "period_start", "id")
    )


@dataclass(frozen=True)
class Verification:
    """What anyone holding the reference may learn: nothing that identifies the holder."""

    kind: str
    issued_at: dt.datetime
    valid_until: dt.date | None
    holder: str


def certificate_verify(reference: str) -> Verification | None:
    """The certificate behind a reference if it is valid today; None for every other case.

    Unknown, malformed, revoked and expired all give None, and a malformed reference still costs a
    lookup, so that neither the answer nor its timing tells the cases apart.
    """
    normalized = reference_normalize(reference) or "-"
    found = (
        Certificate.objects.filter(reference=normalized)
        .only(
            "kind", "issued_at", "valid_until", "holder_initials", "holder_birth_year", "revoked_at"
        )
        .first()
    )
    if found is None or found.revoked_at is not None:
        return None
    if found.valid_until is not None and found.valid_until < timezone.localdate():
        return None
    return Verification(
        kind=found.kind,
        issued_at=found.issued_at,
        valid_until=found.valid_until,
        holder=f"{found.holder_initials} {found.holder_birth_year}",
    )


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
