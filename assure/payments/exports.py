"""CSV and PDF of the member's statement lines over a chosen period.

The CSV is for spreadsheets as French members have them: semicolon-separated, decimal commas,
UTF-8 with a byte-order mark so that accents survive the double click. The PDF is for printing or
sending to a complementary insurer: one table, the period and the holder's name at the top.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from assure.members.models import Beneficiary, Member
from assure.payments.models import Statement
from assure.payments.selectors import StatementFilters
from assure.payments.templatetags.payments_format import format_date, format_euros

CSV_FIELDS = [
    "care_date",
    "person",
    "label",
    "category",
    "provider",
    "status",
    "amount_charged",
    "base_amount",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
    "paid_to",
    "paid_on",
    "payment_reference",
    "complementary_forwarded",
    "rejection_reason",
]


def _person(line: Statement, member: Member) -> str:
    person: Member | Beneficiary = line.beneficiary or member
    return f"{person.given_names} {person.birth_name}"


def _decimal(value: object) -> str:
    return f"{value:.2f}".replace(".", ",")


def _neutralise(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet: the provider and
    # label come from the fund's systems, but an export must never execute anything.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def statements_csv(*, member: Member, lines: Sequence[Statement]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Date des soins"),
            _("Personne soignée"),
            _("Acte"),
            _("Type de soins"),
            _("Professionnel de santé"),
            _("État"),
            _("Montant payé"),
            _("Base de remboursement"),
            _("Taux"),
            _("Montant remboursé"),
            _("Participation forfaitaire"),
            _("Franchise médicale"),
            _("Payé à"),
            _("Date de paiement"),
            _("Référence du paiement"),
            _("Transmis à la complémentaire"),
            _("Motif du refus"),
        ]
    )
    for line in lines:
        writer.writerow(
            [
                format_date(line.care_date),
                _neutralise(_person(line, member)),
                _neutralise(line.label),
                str(line.get_category_display()),  # type: ignore[attr-defined]
                _neutralise(line.provider or ""),
                str(line.get_status_display()),  # type: ignore[attr-defined]
                _decimal(line.amount_charged),
                _decimal(line.base_amount),
                f"{line.rate} %",
                _decimal(line.reimbursed),
                _decimal(line.flat_fee),
                _decimal(line.deductible),
                str(line.get_paid_to_display()),  # type: ignore[attr-defined]
                format_date(line.paid_on),
                line.payment_reference or "",
                _("oui") if line.complementary_forwarded else _("non"),
                _neutralise(line.rejection_reason or ""),
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def statements_pdf(
    *, member: Member, lines: Sequence[Statement], filters: StatementFilters, fund_name: str
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_("Relevé de vos remboursements"),
        author=fund_name,
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    period = _("du %(start)s au %(end)s") % {
        "start": format_date(filters.start) if filters.start else "—",
        "end": format_date(filters.end or timezone.localdate()),
    }
    story = [
        Paragraph(fund_name, styles["Heading2"]),
        Paragraph(_("Relevé de vos remboursements"), styles["Title"]),
        Paragraph(f"{member.given_names} {member.family_name} — {period}", styles["BodyText"]),
        Spacer(1, 4 * mm),
    ]
    header = [
        _("Soins"),
        _("Personne"),
        _("Acte"),
        _("État"),
        _("Base"),
        _("Taux"),
        _("Remboursé"),
        _("Particip."),
        _("Franchise"),
        _("Payé à"),
        _("Payé le"),
    ]
    rows: list[list[object]] = [list(header)]
    for line in lines:
        rows.append(
            [
                format_date(line.care_date),
                Paragraph(_person(line, member), small),
                Paragraph(line.label, small),
                str(line.get_status_display()),  # type: ignore[attr-defined]
                format_euros(line.base_amount),
                f"{line.rate} %",
                format_euros(line.reimbursed),
                format_euros(line.flat_fee),
                format_euros(line.deductible),
                str(line.get_paid_to_display()),  # type: ignore[attr-defined]
                format_date(line.paid_on),
            ]
        )
    if len(rows) == 1:
        story.append(Paragraph(_("Aucun remboursement sur cette période."), styles["BodyText"]))
    else:
        table = Table(
            rows,
            repeatRows=1,
            colWidths=[
                20 * mm,
                38 * mm,
                60 * mm,
                24 * mm,
                20 * mm,
                12 * mm,
                22 * mm,
                18 * mm,
                18 * mm,
                24 * mm,
                20 * mm,
            ],
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef3")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("ALIGN", (4, 1), (8, -1), "RIGHT"),
                ]
            )
        )
        story.append(table)
    doc.build(story)
    return buffer.getvalue()
