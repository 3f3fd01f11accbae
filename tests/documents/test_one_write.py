"""A certificate's file written by pyHanko from ReportLab's drawing is the page ReportLab's own
file holds, signed: same operators, fonts and size, same text, same metadata."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from assure.documents import content, pdf
from assure.documents.services import page_signed
from assure.documents.signing import signing_certificate_pem
from tests.members.factories import BeneficiaryFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory

pytestmark = pytest.mark.django_db

STAMP = content.Stamp(
    reference="ABCD-EFGH-JKMN-PQRS-TVW0",
    verify_url="https://assure.example/verifier/ABCD-EFGH-JKMN-PQRS-TVW0/",
    issued_on=dt.date(2026, 11, 26),
)


def _pages(member) -> dict[str, pdf.Page]:
    child = BeneficiaryFactory(member=member, given_names="Hugo", birth_date=dt.date(2018, 9, 21))
    leave = SickLeaveFactory(member=member)
    payments = [
        AllowancePaymentFactory(
            member=member,
            sick_leave=leave,
            paid_on=dt.date(2026, 3, day),
            net=Decimal("48.31"),
        )
        for day in (2, 16)
    ]
    return {
        "entitlement": content.entitlement_page(
            member=member,
            beneficiaries=[child],
            show_exemptions=True,
            valid_until=dt.date(2027, 11, 26),
            stamp=STAMP,
        ),
        "allowance": content.allowance_page(
            member=member,
            payments=payments,
            start=dt.date(2026, 3, 1),
            end=dt.date(2026, 3, 31),
            stamp=STAMP,
        ),
        "tax": content.tax_page(member=member, payments=payments, year=2026, stamp=STAMP),
        "ehic": content.ehic_provisional_page(
            member=member, person=child, valid_until=dt.date(2027, 2, 26), stamp=STAMP
        ),
    }


def _reportlab_page(data: bytes):
    (page,) = PdfReader(io.BytesIO(data)).pages
    return page


def test_the_drawing_is_the_page_of_reportlabs_own_file(member):
    for kind, page in _pages(member).items():
        drawing = pdf.page_draw(page)
        assert drawing is not None, kind
        reference = _reportlab_page(pdf.page_render(page))
        # The operators, byte for byte, once ReportLab's file is decoded.
        assert drawing.content == reference.get_contents().get_data(), kind
        fonts = reference["/Resources"]["/Font"]
        assert {name: str(fonts[name]["/BaseFont"])[1:] for name in fonts} == drawing.fonts
        assert all(fonts[name]["/Encoding"] == "/WinAnsiEncoding" for name in fonts)
        # ReportLab writes the size to four decimals, a ten-thousandth of a point.
        assert [float(v) for v in reference.mediabox] == pytest.approx(
            [0, 0, drawing.width, drawing.height], abs=1e-4
        )


def _trust() -> ValidationContext:
    _type, _headers, der = pem.unarmor(signing_certificate_pem())
    return ValidationContext(trust_roots=[x509.Certificate.load(der)])


def test_the_signed_file_says_what_reportlabs_says_and_its_signature_validates(member):
    for kind, page in _pages(member).items():
        signed = page_signed(page)
        reader = PdfFileReader(io.BytesIO(signed))
        (signature,) = reader.embedded_signatures
        status = validate_pdf_signature(signature, _trust())
        assert status.intact, kind
        assert status.valid, kind
        assert status.coverage.name == "ENTIRE_FILE", kind
        ours = PdfReader(io.BytesIO(signed))
        theirs = PdfReader(io.BytesIO(pdf.page_render(page)))
        assert len(ours.pages) == 1
        assert ours.pages[0].extract_text() == theirs.pages[0].extract_text(), kind
        assert ours.metadata.title == page.title
        assert ours.metadata.author == page.author
        assert ours.metadata.subject == pdf.page_subject(page)
        assert ours.metadata.creation_date is not None
        assert ours.trailer["/Root"]["/Lang"] == "fr-FR"
        xmp = ours.xmp_metadata
        assert xmp is not None
        assert xmp.dc_title == {"x-default": page.title}
        assert xmp.dc_description == {"x-default": pdf.page_subject(page)}


def test_a_page_that_needs_more_than_its_drawing_is_written_by_reportlab(member, monkeypatch):
    """Transparency needs a graphics state in the page's resources, which the drawing alone
    does not carry: such a page is written by ReportLab, then signed, as before."""
    page = _pages(member)["entitlement"]
    draw = pdf._draw

    def with_transparency(c, page):
        draw(c, page)
        c.setFillAlpha(0.5)
        c.rect(10, 10, 20, 20, fill=1)

    monkeypatch.setattr(pdf, "_draw", with_transparency)
    assert pdf.page_draw(page) is None
    signed = page_signed(page)
    assert b"ReportLab" in signed  # ReportLab's file, with the signature appended
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(signed)).embedded_signatures[0], _trust()
    )
    assert status.intact
    assert status.valid
    assert "/ExtGState" in _reportlab_page(signed)["/Resources"]


def test_a_font_other_than_the_standard_ones_goes_to_reportlab(member, monkeypatch):
    page = _pages(member)["tax"]
    monkeypatch.setattr(pdf, "_STANDARD_FONTS", frozenset({"Courier"}))
    assert pdf.page_draw(page) is None
