"""The one-page layout every certificate shares, drawn with ReportLab's canvas.

The page is described by `Page` (plain data) and drawn by `_draw`, which knows nothing of members
or the database. `page_render` gives the page as a file written by ReportLab (the benchmark's bare
page, to measure what the rest of a certificate costs); `page_draw` gives the drawing alone, which
the signature's own file then holds (assure.documents.signing.drawing_sign).
The standard Helvetica font covers French (accents, œ, €); text is wrapped to the column and the
table is cut to what one page holds, so a certificate is always exactly one page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4
MARGIN = 18 * mm
QR_SIZE = 32 * mm
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
MAX_TABLE_ROWS = 30
LANG = "fr-FR"  # every certificate is in French, whatever the reader's language


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    # Relative column widths; numbers align right in the columns listed.
    widths: list[float]
    numeric: frozenset[int] = frozenset()
    total: list[str] | None = None


@dataclass(frozen=True)
class Page:
    fund_name: str
    fund_address: list[str]
    title: str
    subtitle: str
    reference: str  # as displayed, with dashes
    verify_url: str
    author: str
    sections: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    table: Table | None = None
    notes: list[str] = field(default_factory=list)


def _qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as vector rectangles, one per run of dark modules (crisp, and small)."""
    matrix = segno.make(data, error="m").matrix
    count = len(matrix) + 8  # the quiet zone of four modules on each side
    module = size / count
    c.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 4 + 1) * module
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                c.rect(
                    x + (start + 4) * module,
                    top,
                    (col_index - start) * module,
                    module,
                    stroke=0,
                    fill=1,
                )
                start = None


def _lines(c: canvas.Canvas, text: str, x: float, y: float, width: float, size: float) -> float:
    for line in simpleSplit(text, FONT, size, width):
        c.drawString(x, y, line)
        y -= size * 1.35
    return y


def page_subject(page: Page) -> str:
    return f"{page.title} {page.reference}"


def page_render(page: Page) -> bytes:
    """The page as a whole file written by ReportLab: the layout's reference (the benchmark's
    bare page), and the way every page is made when `page_draw` cannot be used."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, lang=LANG)
    c.setTitle(page.title)
    c.setAuthor(page.author)
    c.setSubject(page_subject(page))
    c.setCreator(page.author)
    _draw(c, page)
    c.showPage()
    c.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class Drawing:
    """A page's drawing without a file around it: what pyHanko needs to write the signed file
    in one go (assure.documents.signing.drawing_sign)."""

    content: bytes  # the page's content stream, uncompressed
    fonts: dict[str, str]  # resource name ("/F1") → standard font ("Helvetica")
    width: float
    height: float


# What a page may use for its drawing to be taken alone: the standard fonts in ReportLab's
# default encoding, nothing else (no image or form, transparency, shading, colour space or link).
# (ReportLab's `hasImages` is set on every page: it only lists image procedure sets.)
_PAGE_EXTRAS = ("XObjects", "ExtGState", "_shadingUsed", "_colorsUsed", "Annots")
_STANDARD_FONTS = frozenset(pdfmetrics.standardFonts)


def page_draw(page: Page) -> Drawing | None:
    """The page drawn by ReportLab, without ReportLab writing it to a file; None when the page
    uses more than the standard fonts (it is then made by `page_render`).

    Writing the file was a sixth of a certificate's drawing, and pyHanko then read it back, in
    Python, to add the signature (docs/performance.md). ReportLab keeps the finished page in its
    document until `save()`; its operators and the fonts they name are taken from there. Tests
    check that they are exactly those of `page_render`'s file."""
    c = canvas.Canvas(io.BytesIO(), pagesize=A4)
    _draw(c, page)
    c.showPage()
    document = c._doc
    (finished,) = document.Pages.pages
    if any(getattr(finished, extra, None) for extra in _PAGE_EXTRAS):
        return None
    fonts = {}
    for font_name, resource in document.fontMapping.items():
        font = pdfmetrics.getFont(font_name)
        if font_name not in _STANDARD_FONTS or font.encoding.name != "WinAnsiEncoding":
            return None
        fonts[resource] = font_name
    return Drawing(
        content=finished.stream.encode("utf-8"),  # as ReportLab writes its streams
        fonts=fonts,
        width=finished.pagewidth,
        height=finished.pageheight,
    )


def _draw(c: canvas.Canvas, page: Page) -> None:
    column = WIDTH - 2 * MARGIN

    # Header: the fund on the left, the QR code on the right.
    y = HEIGHT - MARGIN - 4 * mm
    c.setFont(BOLD, 12)
    c.drawString(MARGIN, y, page.fund_name)
    c.setFont(FONT, 9.5)
    for line in page.fund_address:
        y -= 12
        c.drawString(MARGIN, y, line)
    qr_x, qr_y = WIDTH - MARGIN - QR_SIZE, HEIGHT - MARGIN - QR_SIZE
    _qr(c, page.verify_url, qr_x, qr_y, QR_SIZE)
    c.setFont(FONT, 7)
    c.drawCentredString(qr_x + QR_SIZE / 2, qr_y - 8, "Vérifier ce document")

    y = min(y, qr_y) - 16 * mm
    c.setFont(BOLD, 16)
    for line in simpleSplit(page.title, BOLD, 16, column):
        c.drawString(MARGIN, y, line)
        y -= 20
    c.setFont(FONT, 10)
    y = _lines(c, page.subtitle, MARGIN, y, column, 10)
    c.setFont(FONT, 9)
    c.drawString(MARGIN, y, f"Référence : {page.reference}")
    y -= 10 * mm

    label_width = 62 * mm
    for heading, rows in page.sections:
        c.setFont(BOLD, 11)
        c.drawString(MARGIN, y, heading)
        y -= 4
        c.setLineWidth(0.5)
        c.line(MARGIN, y, WIDTH - MARGIN, y)
        y -= 13
        for label, value in rows:
            c.setFont(FONT, 9.5)
            c.drawString(MARGIN, y, label)
            c.setFont(BOLD, 9.5)
            lines = simpleSplit(value, BOLD, 9.5, column - label_width) or [""]
            for line in lines:
                c.drawString(MARGIN + label_width, y, line)
                y -= 13
        y -= 6 * mm

    if page.table is not None:
        y = _table(c, page.table, y, column)

    c.setFont(FONT, 8.5)
    for note in page.notes:
        y = _lines(c, note, MARGIN, y, column, 8.5) - 3

    # Footer: how to check the document, and who signed it.
    c.setFont(FONT, 8)
    footer = (
        f"Authenticité : ce document porte la signature électronique de {page.fund_name}. "
        f"Toute personne peut le vérifier à l'adresse {page.verify_url} ou en lisant le code QR. "
        "La page de vérification montre seulement le type de document, sa date, sa validité, "
        "les initiales et l'année de naissance du titulaire."
    )
    fy = MARGIN + 18
    for line in simpleSplit(footer, FONT, 8, column):
        c.drawString(MARGIN, fy, line)
        fy -= 10


def _table(c: canvas.Canvas, table: Table, y: float, column: float) -> float:
    total_weight = sum(table.widths)
    widths = [column * w / total_weight for w in table.widths]
    xs = [MARGIN]
    for w in widths[:-1]:
        xs.append(xs[-1] + w)

    def row(cells: list[str], font: str) -> None:
        c.setFont(font, 8.5)
        for index, cell in enumerate(cells):
            if index in table.numeric:
                c.drawRightString(xs[index] + widths[index] - 3, y, cell)
            else:
                c.drawString(xs[index] + 2, y, cell)

    row(table.headers, BOLD)
    y -= 4
    c.line(MARGIN, y, MARGIN + column, y)
    y -= 11
    for cells in table.rows[:MAX_TABLE_ROWS]:
        row(cells, FONT)
        y -= 12
    if table.total is not None:
        y += 8
        c.line(MARGIN, y, MARGIN + column, y)
        y -= 12
        row(table.total, BOLD)
        y -= 12
    return y - 6 * mm
