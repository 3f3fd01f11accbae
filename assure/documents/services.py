"""Writes of the documents app: issuing a certificate, revoking one.

A certificate is drawn and signed before the transaction opens (milliseconds of CPU that should
not hold a database write lock), its PDF stored, then the row and its audit event are written
together; the PDF is flushed to disk while they are, and the commit waits for it. A failed write
removes the stored file, so nothing refers to a missing PDF and no PDF is left without its row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import wait
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assure.core.compiled import CompiledInsert
from assure.core.durable_storage import save_flushing
from assure.core.exceptions import NotFound
from assure.core.services import Actor, audit_record
from assure.documents import content, selectors
from assure.documents.exceptions import (
    CoverageInactive,
    InvalidPeriod,
    InvalidYear,
    TooManyPayments,
    UnknownBeneficiary,
)
from assure.documents.models import Certificate
from assure.documents.pdf import MAX_TABLE_ROWS, page_draw, page_render, page_subject
from assure.documents.references import reference_display, reference_new
from assure.documents.signing import drawing_sign, pdf_sign
from assure.members.models import Beneficiary, Member
from assure.payments.selectors import months_before

Kind = Certificate.Kind
SELF = "self"


@dataclass(frozen=True)
class CertificateRequest:
    """What the member asked for; only the fields of the chosen kind are read."""

    kind: str
    beneficiaries: list[int] = field(default_factory=list)
    exemptions: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    year: int | None = None
    person: str = SELF  # "self" or a beneficiary id, for the provisional certificate


def months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


def coverage_active(member: Member, today: dt.date) -> bool:
    return member.coverage_start <= today and (
        member.coverage_end is None or member.coverage_end >= today
    )


def _beneficiary(member: Member, beneficiary_id: int | str) -> Beneficiary:
    try:
        pk = int(beneficiary_id)
    except (TypeError, ValueError):
        raise UnknownBeneficiary(errors={"person": ["unknown"]}) from None
    found = Beneficiary.objects.filter(member_id=member.pk, pk=pk, active=True).first()
    if found is None:
        raise UnknownBeneficiary(errors={"person": ["unknown"]})
    return found


def _beneficiaries(member: Member, beneficiary_ids: list) -> list[Beneficiary]:
    """The member's active beneficiaries named, in the order given (a family is a few people:
    all of them are read, by the compiled read the certificate form uses too)."""
    try:
        pks = [int(pk) for pk in beneficiary_ids]
    except (TypeError, ValueError):
        raise UnknownBeneficiary(errors={"person": ["unknown"]}) from None
    if not pks:
        return []
    found = {b.pk: b for b in selectors.beneficiaries_for_member(member=member)}
    if any(pk not in found for pk in pks):
        raise UnknownBeneficiary(errors={"person": ["unknown"]})
    return [found[pk] for pk in pks]


def initials(person: Member | Beneficiary) -> str:
    given = person.given_names.strip()[:1]
    family = (person.family_name if isinstance(person, Member) else person.birth_name).strip()
    return f"{given.upper()}. {family[:1].upper()}."


@dataclass(frozen=True)
class _Draft:
    page: content.Page
    holder: Member | Beneficiary
    valid_until: dt.date | None
    parameters: dict
    beneficiary: Beneficiary | None = None


def _draft(member: Member, request: CertificateRequest, today: dt.date, stamp: content.Stamp):
    if request.kind == Kind.ENTITLEMENT:
        if not coverage_active(member, today):
            raise CoverageInactive()
        chosen = sorted(set(request.beneficiaries))
        people = _beneficiaries(member, chosen)
        valid_until = months_after(today, settings.DOCUMENTS_ENTITLEMENT_VALIDITY_MONTHS)
        if member.coverage_end is not None:
            valid_until = min(valid_until, member.coverage_end)
        page = content.entitlement_page(
            member=member,
            beneficiaries=people,
            show_exemptions=request.exemptions,
            valid_until=valid_until,
            stamp=stamp,
        )
        return _Draft(
            page, member, valid_until, {"beneficiaries": chosen, "exemptions": request.exemptions}
        )
    if request.kind == Kind.ALLOWANCE:
        start, end = request.start, request.end
        errors: dict[str, list[str]] = {}
        if start is None:
            errors["from"] = ["required"]
        if end is None:
            errors["to"] = ["required"]
        if start and end:
            if end < start:
                errors["to"] = ["before_start"]
            elif end > today:
                errors["to"] = ["in_future"]
            elif (end - start).days > settings.DOCUMENTS_ALLOWANCE_MAX_DAYS:
                errors["from"] = ["too_long"]
        if errors or start is None or end is None:
            raise InvalidPeriod(errors=errors)
        payments = selectors.allowances_paid_for_member(member=member, start=start, end=end)
        if len(payments) > MAX_TABLE_ROWS:
            # A certificate is one page; cutting the list would misstate what was paid.
            raise TooManyPayments(errors={"from": ["too_many_payments"]})
        page = content.allowance_page(
            member=member, payments=payments, start=start, end=end, stamp=stamp
        )
        return _Draft(page, member, None, {"from": start.isoformat(), "to": end.isoformat()})
    if request.kind == Kind.TAX:
        year = request.year if request.year is not None else today.year - 1
        if not 2000 <= year < today.year:
            raise InvalidYear(errors={"year": ["out_of_range"]})
        payments = selectors.allowances_paid_for_member(
            member=member, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31)
        )
        page = content.tax_page(member=member, payments=payments, year=year, stamp=stamp)
        return _Draft(page, member, None, {"year": year})
    if request.kind == Kind.EHIC_PROVISIONAL:
        if not coverage_active(member, today):
            raise CoverageInactive()
        beneficiary = None if request.person == SELF else _beneficiary(member, request.person)
        person: Member | Beneficiary = beneficiary or member
        valid_until = months_after(today, settings.DOCUMENTS_CPR_VALIDITY_MONTHS)
        if member.coverage_end is not None:
            valid_until = min(valid_until, member.coverage_end)
        page = content.ehic_provisional_page(
            member=member, person=person, valid_until=valid_until, stamp=stamp
        )
        return _Draft(
            page,
            person,
            valid_until,
            {"person": SELF if beneficiary is None else beneficiary.pk},
            beneficiary,
        )
    raise NotFound()


def page_signed(page: content.Page) -> bytes:
    """The page as a signed PDF: drawn by ReportLab, written and signed by pyHanko in one go, or
    written by ReportLab then signed when the page needs more than ReportLab's drawing alone."""
    reason = page.title[:100]
    drawing = page_draw(page)
    if drawing is None:
        return pdf_sign(page_render(page), reason=reason)
    return drawing_sign(
        drawing, title=page.title, author=page.author, subject=page_subject(page), reason=reason
    )


def verify_url(reference: str) -> str:
    path = reverse("documents:verify", kwargs={"reference": reference_display(reference)})
    return settings.ASSURE_SITE_URL.rstrip("/") + path


# Compiled once: an INSERT of about fifteen columns cost more to build than to run.
_new_certificate = CompiledInsert(Certificate)


def certificate_issue(*, actor: Actor, member: Member, request: CertificateRequest) -> Certificate:
    """Draw, sign and store one certificate for `member`; an audit event records the issue."""
    now = timezone.now()
    today = timezone.localdate(now)
    reference = reference_new()
    stamp = content.Stamp(
        reference=reference_display(reference), verify_url=verify_url(reference), issued_on=today
    )
    draft = _draft(member, request, today, stamp)
    data = page_signed(draft.page)
    name, flushed = save_flushing(
        default_storage, f"certificates/{now:%Y/%m}/{reference}.pdf", ContentFile(data)
    )
    try:
        with transaction.atomic():
            certificate = _new_certificate.create(
                member=member,
                beneficiary=draft.beneficiary,
                kind=request.kind,
                reference=reference,
                issued_at=now,
                valid_until=draft.valid_until,
                holder_initials=initials(draft.holder),
                holder_birth_year=draft.holder.birth_date.year,
                parameters=draft.parameters,
                pdf=name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
            audit_record(
                actor=actor,
                action="certificate.issued",
                member_id=member.pk,
                object_type="certificate",
                object_id=certificate.pk,
                data={"kind": request.kind, **draft.parameters},
            )
            # The PDF on disk before its row commits (flushed while the rows were written).
            flushed.result()
    except BaseException:
        wait([flushed])  # not deleted under a flush still running
        default_storage.delete(name)
        raise
    return certificate


def certificate_revoke(*, actor: Actor, certificate: Certificate, reason: str) -> Certificate:
    """From now on the verification page answers "not valid" for this certificate."""
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_reason = reason[:200]
            locked.save(update_fields=["revoked_at", "revoked_reason"])
            audit_record(
                actor=actor,
                action="certificate.revoked",
                member_id=locked.member_id,
                object_type="certificate",
                object_id=locked.pk,
                reason=reason,
            )
    return locked
