"""Postal letters: one A4 PDF per letter in the day's print spool, and the spool's manifest.

The recipient block sits where the window of a French DL envelope (110 x 220 mm, window 45 x 100 mm
at 20 mm from the right edge and 15 mm from the bottom, La Poste's usual model) shows it once the
sheet is folded in three: from 100 mm to 190 mm across and 55 mm to 95 mm down the sheet.
"""

from __future__ import annotations

import csv
import fcntl
import io
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

from assure.notifications.files import atomic_write, day_folder, outbox_dir, relative, safe_key
from assure.notifications.models import OutboxMessage
from assure.notifications.postal import PostalRecipient, address_block

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
WINDOW_LEFT = 100 * mm
WINDOW_TOP = 55 * mm
WINDOW_WIDTH = 90 * mm
# The body starts below the fold line zone of the first third (99 mm) and the window.
FIRST_BODY_TOP = 110 * mm
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"

MANIFEST_NAME = "manifest.csv"
MANIFEST_FIELDS = ["file", "reference", "pages", "postal_code", "country", "created_at"]

_BODY_STYLE = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14, spaceAfter=7)
_SUBJECT_STYLE = ParagraphStyle(
    "subject", fontName=FONT_BOLD, fontSize=10.5, leading=14, spaceAfter=10
)


def _date_line(when: datetime, language: str) -> str:
    with translation.override(language):
        day = formats.date_format(timezone.localtime(when), "j F Y")
        return gettext("Le {date}").format(date=day)


def _draw_first_page(
    canvas: Canvas, *, block: list[str], reference: str, date_line: str, language: str
) -> None:
    canvas.saveState()
    # The fund, top left: name in bold, then its postal address.
    y = PAGE_HEIGHT - MARGIN
    canvas.setFont(FONT_BOLD, 11)
    canvas.drawString(MARGIN, y, settings.ASSURE_FUND_NAME)
    canvas.setFont(FONT, 9.5)
    for line in settings.ASSURE_FUND_ADDRESS:
        y -= 12
        canvas.drawString(MARGIN, y, line)
    # The recipient, in the envelope window.
    canvas.setFont(FONT, 10)
    y = PAGE_HEIGHT - WINDOW_TOP - 10
    for line in block:
        canvas.drawString(WINDOW_LEFT, y, line)
        y -= 12.5
    # Date and reference, on the left under the fund's address.
    with translation.override(language):
        ref_label = gettext("Référence : {reference}").format(reference=reference)
    canvas.setFont(FONT, 9.5)
    canvas.drawString(MARGIN, PAGE_HEIGHT - 75 * mm, ref_label)
    canvas.drawString(MARGIN, PAGE_HEIGHT - 80 * mm, date_line)
    canvas.restoreState()


def _draw_footer(canvas: Canvas, reference: str, language: str) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    with translation.override(language):
        text = gettext("Référence {reference} — page {page}").format(
            reference=reference, page=canvas.getPageNumber()
        )
    canvas.drawRightString(PAGE_WIDTH - MARGIN, 12 * mm, text)
    canvas.restoreState()


def letter_pdf(message: OutboxMessage, *, when: datetime) -> tuple[bytes, int]:
    """The letter as PDF bytes, and its page count (for the print house's manifest)."""
    recipient = PostalRecipient.from_dict(message.recipient)
    block = address_block(recipient)
    reference = message.reference
    date_line = _date_line(message.created_at or when, message.language)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=message.subject or settings.ASSURE_FUND_NAME,
        author=settings.ASSURE_FUND_NAME,
        subject=reference,
        creator="assure",
        invariant=True,  # same input, same bytes: a rewrite after a retry changes nothing
    )
    body_width = PAGE_WIDTH - 2 * MARGIN
    # No frame padding: the body's left edge lines up with the fund's name above it.
    padding = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    first = Frame(
        MARGIN, 20 * mm, body_width, PAGE_HEIGHT - FIRST_BODY_TOP - 20 * mm, id="first", **padding
    )
    later = Frame(
        MARGIN, 20 * mm, body_width, PAGE_HEIGHT - MARGIN - 20 * mm, id="later", **padding
    )

    def on_first(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        _draw_first_page(
            canvas, block=block, reference=reference, date_line=date_line, language=message.language
        )
        _draw_footer(canvas, reference, message.language)

    def on_later(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        _draw_footer(canvas, reference, message.language)

    doc.addPageTemplates(
        [
            PageTemplate(id="First", frames=[first], onPage=on_first, autoNextPageTemplate="Later"),
            PageTemplate(id="Later", frames=[later], onPage=on_later),
        ]
    )
    story: list = []
    if message.subject:
        with translation.override(message.language):
            subject = gettext("Objet : {subject}").format(subject=message.subject)
        story.append(Paragraph(escape(subject), _SUBJECT_STYLE))
    for paragraph in message.body.split("\n\n"):
        text = escape(paragraph.strip()).replace("\n", "<br/>")
        story.append(Paragraph(text, _BODY_STYLE) if text else Spacer(1, 7))
    doc.build(story)
    return buffer.getvalue(), doc.page


def manifest_add(folder: Path, row: dict[str, str]) -> None:
    """Append one row to the folder's manifest unless its file is already listed.

    Several workers may print letters at once: an exclusive lock on a side file serialises them,
    and the check on the file name makes a repeated delivery leave a single row.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST_NAME
    # The lock file sits beside the day's folder, so the folder holds only what the print house
    # collects.
    with open(folder.parent / f".{folder.name}.manifest.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            existing: set[str] = set()
            if manifest.exists():
                with open(manifest, newline="", encoding="utf-8") as handle:
                    existing = {r["file"] for r in csv.DictReader(handle)}
            if row["file"] in existing:
                return
            new_file = not manifest.exists()
            with open(manifest, "a", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
                if new_file:
                    writer.writeheader()
                writer.writerow(row)
                handle.flush()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def letter_deliver(message: OutboxMessage, *, now: datetime) -> str:
    # A retry writes into the folder chosen by the first attempt, so that one letter is never in
    # two days' spools.
    if message.artefact:
        path = outbox_dir() / message.artefact
    else:
        path = day_folder("letters", now) / f"{safe_key(message.idempotency_key)}.pdf"
        OutboxMessage.objects.filter(pk=message.pk).update(artefact=relative(path))
    data, pages = letter_pdf(message, when=now)
    atomic_write(path, data)
    recipient = PostalRecipient.from_dict(message.recipient)
    created = message.created_at or now
    manifest_add(
        path.parent,
        {
            "file": path.name,
            "reference": message.reference,
            "pages": str(pages),
            "postal_code": recipient.postal_code.strip(),
            "country": "FRANCE" if recipient.is_france else address_block(recipient)[-1],
            "created_at": timezone.localtime(created).isoformat(timespec="seconds"),
        },
    )
    return relative(path)
