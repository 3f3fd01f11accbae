"""Attachments, trusted by nobody: what a file is, decided by its content alone.

A file is accepted only as a PDF, a JPEG or a PNG that a real parser reads. PDFs that can run
something or carry something (JavaScript, launch actions, embedded files) or that we cannot read
(encryption) are refused; images are decoded and written again, so that metadata and anything
appended or hidden in them is left behind. The member's file name is cleaned for display and never
becomes a path: files are stored under random names, in MEDIA_ROOT, which is never served.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import socket
import struct
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from assure.core.exceptions import DomainError

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
MAX_FILES = 3
# A 40-megapixel photo is larger than any phone takes; past that, a small file decoding to a huge
# image is a decompression bomb.
MAX_PIXELS = 40_000_000
STORAGE_DIR = "messaging"

# Keys and action types that make a PDF act (run script, start a program, submit a form) or carry
# other files. Looked for in the parsed objects (which also sees inside compressed object streams
# and #-escaped names), and in the raw bytes as a second net for objects no reference reaches.
# An /OpenAction or /AA that only goes to a page is harmless and common, so only what it does is
# judged. The raw net leaves out "/JS": four bytes that compressed streams contain by chance.
_PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/Launch"}
_PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE"}
_PDF_EMBED_KEYS = {"/EmbeddedFile", "/EmbeddedFiles", "/EF", "/RichMedia"}
_PDF_RAW = re.compile(rb"/(JavaScript|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9])")
_MAX_PDF_OBJECTS = 200_000


class AttachmentRefused(DomainError):
    code = "attachment_refused"
    status = 400
    title = _("Cette pièce jointe ne peut pas être acceptée.")

    def __init__(self, title: Any, *, reason: str, name: str = "") -> None:
        super().__init__(title, errors={"files": [str(title)]}, extra={"reason": reason})
        self.reason = reason
        self.name = name


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def clean_name(raw: str, content_type: str) -> str:
    """A name safe to show and to put in a header: no folders, no control characters, the
    extension of what the file really is."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in {"C"})
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^\w\s()'-]", "_", stem, flags=re.UNICODE)
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")[:100]
    return f"{stem or 'piece-jointe'}.{EXTENSIONS[content_type]}"


def _read_limited(upload: BinaryIO, limit: int, name: str) -> bytes:
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise AttachmentRefused(
            _("« %(name)s » dépasse la taille maximale de %(size)s Mo.")
            % {"name": name, "size": limit // (1024 * 1024)},
            reason="too_large",
            name=name,
        )
    return data


def _sniff(data: bytes) -> str | None:
    # The signature must open the file: a PDF header further in (allowed by lax readers) is how
    # polyglot files pass for two types at once.
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _walk_pdf(root: Any) -> Iterable[tuple[str, Any]]:
    """Every (key, value) of every dictionary reachable from `root`, each object visited once."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > _MAX_PDF_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                yield str(name), value
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)


def _check_pdf(data: bytes, name: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    unreadable = AttachmentRefused(
        _("« %(name)s » n'est pas un PDF lisible.") % {"name": name}, reason="unreadable", name=name
    )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise AttachmentRefused(
                _(
                    "« %(name)s » est protégé par un mot de passe : enregistrez-le sans protection "
                    "puis envoyez-le à nouveau."
                )
                % {"name": name},
                reason="pdf_encrypted",
                name=name,
            )
        if len(reader.pages) < 1:
            raise unreadable
        found_active = found_embedded = False
        for key, value in _walk_pdf(reader.trailer):
            if key in _PDF_EMBED_KEYS or (key == "/Type" and str(value) == "/EmbeddedFile"):
                found_embedded = True
            elif key in _PDF_ACTIVE_KEYS or (key == "/S" and str(value) in _PDF_ACTIVE_ACTIONS):
                found_active = True
    except AttachmentRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        raise unreadable from None
    for match in _PDF_RAW.finditer(data):
        if match.group(1).startswith(b"Embedded") or match.group(1) == b"RichMedia":
            found_embedded = True
        else:
            found_active = True
    if found_embedded:
        raise AttachmentRefused(
            _("« %(name)s » contient d'autres fichiers : envoyez chaque document séparément.")
            % {"name": name},
            reason="pdf_embedded_file",
            name=name,
        )
    if found_active:
        raise AttachmentRefused(
            _(
                "« %(name)s » contient du contenu actif (JavaScript ou lancement d'actions) : "
                "imprimez-le en PDF ou scannez-le, puis envoyez-le à nouveau."
            )
            % {"name": name},
            reason="pdf_active_content",
            name=name,
        )


def _reencode_image(data: bytes, content_type: str, name: str) -> bytes:
    """Decode and write again: only pixels survive (no EXIF, no comments, nothing appended)."""
    expected = "JPEG" if content_type == JPEG else "PNG"
    unreadable = AttachmentRefused(
        _("« %(name)s » n'est pas une image lisible.") % {"name": name},
        reason="unreadable",
        name=name,
    )
    bomb = AttachmentRefused(
        _("« %(name)s » est une image trop grande (plus de %(mp)s millions de pixels).")
        % {"name": name, "mp": MAX_PIXELS // 1_000_000},
        reason="image_too_large",
        name=name,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                # The header is read first: a bomb is refused before a single pixel is decoded.
                if width * height > MAX_PIXELS:
                    raise bomb
                # Only the first frame of an animated PNG is decoded and kept.
                image.load()
                upright = ImageOps.exif_transpose(image)
                if expected == "JPEG":
                    mode = "RGB"
                else:
                    mode = "RGBA" if upright.mode in {"RGBA", "LA", "P", "PA"} else "RGB"
                # A new image from the pixels alone: `convert` would carry the source's `info`
                # (comments, ICC profile, text chunks) into the file written.
                clean = Image.frombytes(mode, upright.size, upright.convert(mode).tobytes())
                out = io.BytesIO()
                if expected == "JPEG":
                    clean.save(out, format="JPEG", quality=90, optimize=True)
                else:
                    clean.save(out, format="PNG", optimize=True)
    except AttachmentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error, EOFError):
        raise unreadable from None
    return out.getvalue()


def _clamd_scan(data: bytes, name: str) -> None:
    """clamd's INSTREAM over its Unix socket. Fails closed: no verdict, no file."""
    path = settings.CLAMD_SOCKET
    unavailable = AttachmentRefused(
        _("Le contrôle antivirus est indisponible : merci de réessayer plus tard."),
        reason="scan_unavailable",
        name=name,
    )
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(path)
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), 65536):
                chunk = data[start : start + 65536]
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except OSError:
        raise unavailable from None
    verdict = reply.rstrip(b"\0").decode("ascii", "replace")
    if verdict.endswith("FOUND"):
        raise AttachmentRefused(
            _("« %(name)s » contient un virus et a été refusé.") % {"name": name},
            reason="virus_found",
            name=name,
        )
    if not verdict.endswith("OK"):
        raise unavailable


def attachment_check(*, upload: BinaryIO, declared_name: str) -> CheckedFile:
    """The checked, cleaned file, or `AttachmentRefused` saying why in words a member follows."""
    shown = clean_name(declared_name, PDF).rsplit(".", 1)[0]
    data = _read_limited(upload, settings.MESSAGING_MAX_ATTACHMENT_BYTES, shown)
    content_type = _sniff(data)
    if content_type is None:
        raise AttachmentRefused(
            _("« %(name)s » n'est ni un PDF, ni une image JPEG ou PNG.") % {"name": shown},
            reason="type_not_allowed",
            name=shown,
        )
    if settings.CLAMD_SOCKET:
        _clamd_scan(data, shown)
    if content_type == PDF:
        _check_pdf(data, shown)
    else:
        data = _reencode_image(data, content_type, shown)
    return CheckedFile(
        name=clean_name(declared_name, content_type), content_type=content_type, data=data
    )


def attachment_store(checked: CheckedFile) -> str:
    """Writes the file under a random name; returns that name (relative to MEDIA_ROOT)."""
    token = secrets.token_hex(16)
    return default_storage.save(f"{STORAGE_DIR}/{token[:2]}/{token}", ContentFile(checked.data))


def attachment_open(storage_name: str) -> Any:
    return default_storage.open(storage_name, "rb")


def attachment_delete(storage_name: str) -> None:
    default_storage.delete(storage_name)
