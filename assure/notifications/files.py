"""Files of the outbox spool: safe names from idempotency keys, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_key(idempotency_key: str) -> str:
    """A file name for a key: readable when the key is already safe, otherwise suffixed with a hash
    so that two keys differing only in unsafe characters never share a file."""
    cleaned = _UNSAFE.sub("_", idempotency_key).strip("._-")[:80] or "message"
    if cleaned == idempotency_key:
        return cleaned
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"{cleaned}-{digest}"


def outbox_dir() -> Path:
    return Path(settings.OUTBOX_DIR)


def day_folder(kind: str, when: datetime) -> Path:
    """`OUTBOX_DIR/<kind>/<YYYY-MM-DD>`, the day in the fund's time zone."""
    return outbox_dir() / kind / timezone.localdate(when).isoformat()


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over `path`:
    a reader (the print house, the demo viewer) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def relative(path: Path) -> str:
    return path.relative_to(outbox_dir()).as_posix()
