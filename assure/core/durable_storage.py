"""Members' files written to disk before the rows that point at them are committed.

Django's FileSystemStorage leaves a new file in the kernel's cache: a power cut a few seconds
later can leave a committed row (a certificate, an attachment) whose file is empty or gone, and
PostgreSQL's commit is durable. This storage flushes the file, and the directory entries that
name it, before `save()` returns; services save the file first and write the row after, so a row
never outlives its file. Measured on this project's machine: 0.24 ms for a 10 KB file and 0.09 ms
per directory (docs/performance.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage


def _fsync(path: Path) -> None:
    # A read-only descriptor is enough for fsync on Linux, for files and directories alike.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableFileSystemStorage(FileSystemStorage):
    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        # The folders this save is about to make: each is a new entry in its own parent. (The
        # storage may change the file's name to a free one, never its folder.)
        made = []
        folder = Path(self.path(name if name is not None else content.name)).parent
        while not folder.exists():
            made.append(folder)
            folder = folder.parent
        saved = super().save(name, content, max_length=max_length)
        path = Path(self.path(saved))
        _fsync(path)
        for entry_holder in dict.fromkeys([path.parent, *(new.parent for new in made)]):
            _fsync(entry_holder)
        return saved
