"""Files made by the tests themselves, honest and hostile (none is committed as a binary)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def _pdf(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    return writer


def pdf() -> bytes:
    return _pdf(_writer())


def pdf_with_javascript() -> bytes:
    writer = _writer()
    try:
        from pypdf.actions import JavaScript
    except ImportError:  # pypdf < 6: the older call
        writer.add_js("app.alert('bonjour');")
    else:
        writer.add_open_action(JavaScript("app.alert('bonjour');"))
    return _pdf(writer)


def pdf_with_embedded_file() -> bytes:
    writer = _writer()
    writer.add_attachment("facture.exe", b"MZ\x90\x00 not really a program")
    return _pdf(writer)


def pdf_with_launch_action() -> bytes:
    writer = _writer()
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return _pdf(writer)


def pdf_encrypted() -> bytes:
    writer = _writer()
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    return _pdf(writer)


def jpeg(*, with_exif: bool = False, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if with_exif:
        exif = Image.Exif()
        exif[0x010F] = "Fabricant secret"  # Make
        exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS
        image.save(out, format="JPEG", exif=exif, comment=b"hidden comment")
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 128, 255, 255)).save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 100_000) -> bytes:
    """A valid PNG header announcing side by side pixels: a few hundred bytes that would decode to
    gigabytes (the first rows of zeros compress to almost nothing)."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\x00" * ((side // 8 + 1) * 64), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def polyglot_jpeg_pdf() -> bytes:
    """A JPEG that is also a PDF: readers that look for %PDF anywhere open the PDF part."""
    return jpeg() + pdf_with_javascript()


def polyglot_pdf_jpeg() -> bytes:
    """Starts as a PDF header, continues as a JPEG: not a PDF any parser can read."""
    return b"%PDF-1.4\n%" + jpeg()


def fake_executable() -> bytes:
    """The first bytes of a Windows program, named `releve.pdf` by the tests."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"PE\x00\x00"


def oversize(limit: int) -> bytes:
    return b"%PDF-1.4\n" + b"0" * limit


def pdf_with_hidden_javascript() -> bytes:
    """The same script, its names written with #-escapes (/J#61vaScript): a byte search misses it,
    a parser reads it as /JavaScript."""
    return pdf_with_javascript().replace(b"/JavaScript", b"/J#61vaScript")
