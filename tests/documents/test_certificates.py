"""Issuing certificates: what each says, its signature, its reference, its audit event."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from assure.core.models import AuditEvent
from assure.documents import exceptions
from assure.documents.models import Certificate
from assure.documents.references import ALPHABET, reference_normalize
from assure.documents.signing import signing_certificate_pem
from assure.payments.models import SickLeave
from tests.documents.conftest import issue, pdf_bytes, pdf_text
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory

pytestmark = pytest.mark.django_db


def _trust() -> ValidationContext:
    _type, _headers, der = pem.unarmor(signing_certificate_pem())
    return ValidationContext(trust_roots=[x509.Certificate.load(der)])


def _signature_status(data: bytes):
    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    return validate_pdf_signature(reader.embedded_signatures[0], _trust())


def test_entitlement_names_the_member_the_chosen_beneficiaries_and_the_fund(member):
    lea = member.beneficiaries.get()
    BeneficiaryFactory(member=member, given_names="Hugo", birth_date=dt.date(2018, 9, 21))
    certificate = issue(member, "entitlement", beneficiaries=[lea.pk])
    text = pdf_text(pdf_bytes(certificate))
    assert "Attestation de droits à l'assurance maladie" in text
    assert "Caisse d'assurance maladie de démonstration" in text
    assert "1 rue de la Santé" in text
    assert "Zoé Anne N'DIAYE" in text
    assert "14/05/1985" in text
    assert member.nir[:1] in text
    assert "Léa DUPONT" in text
    assert "Hugo" not in text  # not chosen
    assert "Délivrée le 26/11/2026" in text
    assert "valable jusqu'au 26/11/2027" in text
    assert certificate.display_reference in text
    assert f"/verifier/{certificate.display_reference}/" in text
    assert certificate.valid_until == dt.date(2027, 11, 26)
    assert certificate.holder_initials == "Z. N."
    assert certificate.holder_birth_year == 1985


def test_exemptions_appear_only_when_the_member_asks(member):
    without = pdf_text(pdf_bytes(issue(member, "entitlement")))
    assert "ALD" not in without
    assert "longue durée" not in without
    with_them = pdf_text(pdf_bytes(issue(member, "entitlement", exemptions=True)))
    assert "Affection de longue durée (ALD)" in with_them
    assert "depuis le 01/04/2019" in with_them


def test_entitlement_ends_with_the_coverage(member):
    member.coverage_end = dt.date(2027, 1, 31)
    member.save()
    assert issue(member, "entitlement").valid_until == dt.date(2027, 1, 31)


def test_no_certificate_of_rights_without_coverage(member):
    member.coverage_end = dt.date(2026, 10, 31)
    member.save()
    with pytest.raises(exceptions.CoverageInactive):
        issue(member, "entitlement")
    with pytest.raises(exceptions.CoverageInactive):
        issue(member, "ehic_provisional")
    assert not Certificate.objects.exists()


def test_another_members_beneficiary_cannot_be_named(member):
    stranger = BeneficiaryFactory(member=MemberFactory())
    with pytest.raises(exceptions.UnknownBeneficiary):
        issue(member, "entitlement", beneficiaries=[stranger.pk])
    with pytest.raises(exceptions.UnknownBeneficiary):
        issue(member, "ehic_provisional", person=str(stranger.pk))


def test_allowance_certificate_lists_payments_of_the_period_only(member):
    leave = SickLeaveFactory(member=member)
    AllowancePaymentFactory(sick_leave=leave, paid_on=dt.date(2026, 10, 24))
    AllowancePaymentFactory(
        sick_leave=leave,
        period_start=dt.date(2026, 10, 18),
        period_end=dt.date(2026, 10, 31),
        paid_on=dt.date(2026, 11, 7),
        net=Decimal("500.00"),
    )
    AllowancePaymentFactory(sick_leave=leave, paid_on=dt.date(2026, 6, 1), net=Decimal("999.99"))
    AllowancePaymentFactory(
        sick_leave=leave, status="processing", paid_on=None, net=Decimal("777.77")
    )
    certificate = issue(member, "allowance", start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 26))
    text = pdf_text(pdf_bytes(certificate))
    assert "Attestation de paiement des indemnités journalières" in text
    assert "payées du 01/10/2026 au 26/11/2026" in text
    assert "04/10/2026 au 17/10/2026" in text
    assert "541,68" in text
    assert "500,00" in text
    assert "1 041,68" in text  # the total net
    assert "999,99" not in text
    assert "777,77" not in text
    assert certificate.valid_until is None
    assert certificate.parameters == {"from": "2026-10-01", "to": "2026-11-26"}


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.date(2026, 11, 1), dt.date(2026, 10, 1), "to"),
        (dt.date(2026, 11, 1), dt.date(2026, 12, 1), "to"),
        (dt.date(2024, 1, 1), dt.date(2026, 1, 1), "from"),
        (None, dt.date(2026, 1, 1), "from"),
    ],
)
def test_allowance_period_must_make_sense(member, start, end, field):
    with pytest.raises(exceptions.InvalidPeriod) as raised:
        issue(member, "allowance", start=start, end=end)
    assert field in raised.value.errors


def test_an_empty_period_says_so(member):
    text = pdf_text(
        pdf_bytes(issue(member, "allowance", start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 1)))
    )
    assert "Aucune indemnité journalière n'a été payée pendant cette période." in text


def test_tax_statement_is_last_year_by_default_with_the_taxable_amount(member):
    illness = SickLeaveFactory(member=member, start=dt.date(2025, 3, 1))
    accident = SickLeaveFactory(
        member=member, kind=SickLeave.Kind.WORK_ACCIDENT, start=dt.date(2025, 6, 1)
    )
    AllowancePaymentFactory(sick_leave=illness, paid_on=dt.date(2025, 3, 20))
    AllowancePaymentFactory(
        sick_leave=accident,
        gross=Decimal("1000.00"),
        social_levies=Decimal("67.00"),
        net=Decimal("933.00"),
        paid_on=dt.date(2025, 12, 31),
    )
    AllowancePaymentFactory(sick_leave=illness, paid_on=dt.date(2026, 1, 2), gross=Decimal("1.11"))
    certificate = issue(member, "tax")
    text = pdf_text(pdf_bytes(certificate))
    assert "Relevé fiscal des indemnités journalières 2025" in text
    assert "du 01/01/2025 au 31/12/2025" in text
    # Illness: 580.58 - 3.8 % (22.06) = 558.52; work accident: (1000 - 38) / 2 = 481.00.
    assert "558,52" in text
    assert "481,00" in text
    assert "1 039,52" in text
    assert "1,11" not in text
    assert certificate.parameters == {"year": 2025}


def test_tax_statement_only_for_a_finished_year(member):
    with pytest.raises(exceptions.InvalidYear):
        issue(member, "tax", year=2026)
    assert issue(member, "tax", year=2024).parameters == {"year": 2024}


def test_provisional_certificate_for_a_beneficiary_lasts_three_months(member):
    lea = member.beneficiaries.get()
    certificate = issue(member, "ehic_provisional", person=str(lea.pk))
    text = pdf_text(pdf_bytes(certificate))
    assert "Certificat provisoire de remplacement" in text
    assert "3. Nom DUPONT" in text
    assert "4. Prénoms Léa" in text
    assert "02/03/2015" in text
    assert "b) Au 26/02/2027" in text
    assert certificate.valid_until == dt.date(2027, 2, 26)
    assert certificate.beneficiary == lea
    assert (certificate.holder_initials, certificate.holder_birth_year) == ("L. D.", 2015)


def test_every_certificate_is_signed_by_the_fund(member):
    for kind in ("entitlement", "allowance", "tax", "ehic_provisional"):
        extra = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 11, 1)}
        certificate = issue(member, kind, **(extra if kind == "allowance" else {}))
        status = _signature_status(pdf_bytes(certificate))
        assert status.intact, kind
        assert status.valid, kind
        assert status.trusted, kind
        assert status.bottom_line, kind


def test_a_tampered_certificate_fails_its_signature(member):
    data = pdf_bytes(issue(member, "entitlement"))
    # Change one character of the signed bytes (the document's title, stored in clear).
    tampered = data.replace(b"Attestation de droits", b"Attestation de dr0its", 1)
    assert tampered != data
    status = _signature_status(tampered)
    assert not status.intact
    assert not status.bottom_line


def test_the_stored_pdf_is_the_one_issued(member):
    import hashlib

    certificate = issue(member, "entitlement")
    data = pdf_bytes(certificate)
    assert hashlib.sha256(data).hexdigest() == certificate.sha256
    assert len(data) == certificate.size
    assert data.startswith(b"%PDF-")


def test_references_are_long_random_and_read_back_leniently(member):
    references = {issue(member, "tax", year=2025).reference for _ in range(5)}
    assert len(references) == 5
    for reference in references:
        assert len(reference) == 20
        assert set(reference) <= set(ALPHABET)
        shown = "-".join(reference[i : i + 4] for i in range(0, 20, 4))
        assert reference_normalize(shown.lower()) == reference
    assert reference_normalize("OOOO-IIII-LLLL-0000-1111") == "00001111111100001111"
    assert reference_normalize("UUUU-UUUU-UUUU-UUUU-UUUU") is None  # U is not in the alphabet
    assert reference_normalize("ABC") is None


def test_each_issue_is_an_audit_event(member):
    certificate = issue(member, "entitlement", exemptions=True)
    event = AuditEvent.objects.get(action="certificate.issued")
    assert event.member_id == member.pk
    assert event.object_id == str(certificate.pk)
    assert event.actor_kind == "member"
    assert event.data == {"kind": "entitlement", "beneficiaries": [], "exemptions": True}


def test_a_full_page_of_payments_stays_on_one_page(member):
    leave = SickLeaveFactory(member=member, start=dt.date(2025, 12, 1))
    for i in range(30):
        start = dt.date(2025, 12, 1) + dt.timedelta(days=11 * i)
        AllowancePaymentFactory(
            sick_leave=leave,
            period_start=start,
            period_end=start + dt.timedelta(days=10),
            paid_on=start + dt.timedelta(days=11),
        )
    certificate = issue(member, "allowance", start=dt.date(2025, 12, 1), end=dt.date(2026, 11, 26))
    text = pdf_text(pdf_bytes(certificate))  # asserts a single page
    assert text.count("541,68") == 30
    assert "16 250,40" in text  # 30 times 541.68, the total
    assert "Authenticité" in text


def test_more_payments_than_a_page_holds_asks_for_a_shorter_period(member):
    leave = SickLeaveFactory(member=member, start=dt.date(2025, 12, 1))
    for i in range(31):
        AllowancePaymentFactory(
            sick_leave=leave, paid_on=dt.date(2026, 1, 1) + dt.timedelta(days=i)
        )
    with pytest.raises(exceptions.TooManyPayments):
        issue(member, "allowance", start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 1))


@pytest.mark.django_db(transaction=True)
def test_the_pdf_is_on_disk_before_its_row_is_committed(member, monkeypatch):
    """A power cut between the two never leaves a certificate whose PDF is empty or gone."""
    import os
    import time
    from pathlib import Path

    from django.db import connection

    events: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        # A slow disk: the commit must still wait for the flush.
        time.sleep(0.05)
        real_fsync(fd)
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))

    def watch(execute, sql, params, many, context):
        events.append(("sql", sql))
        return execute(sql, params, many, context)

    real_commit = connection._commit

    def commit():
        events.append(("commit", ""))
        return real_commit()

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(connection, "_commit", commit)
    with connection.execute_wrapper(watch):
        certificate = issue(member, "entitlement")
    pdf = str(Path(certificate.pdf.path).resolve())
    inserted_at = next(
        i
        for i, (kind, text) in enumerate(events)
        if kind == "sql" and text.startswith('INSERT INTO "documents_certificate"')
    )
    committed_at = events.index(("commit", ""), inserted_at)
    assert events.index(("fsync", pdf)) < committed_at
    # The folder holding its name too.
    assert events.index(("fsync", str(Path(pdf).parent))) < committed_at
