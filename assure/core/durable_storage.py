"""Members' files written to disk before the rows that point at them are committed.

Django's FileSystemStorage leaves a new file in the kernel's cache: a power cut a few seconds
later can leave a committed row (a certificate, an attachment) whose file is empty or gone, and
PostgreSQL's commit is durable. This storage flushes the file, and the directory entries that
name it, before `save()` returns; services save the file first and write the row after, so a row
never outlives its file. A flush waits for the disk (0.3 ms alone on this project's machine, up
to 0.9 ms while the database writes too: docs/performance.md), so `save_flushing` lets a caller
write its rows meanwhile and wait for the flush just before it commits.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage, Storage


def _fsync(path: Path) -> None:
    # A read-only descriptor is enough for fsync on Linux, for files and directories alike.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableFileSystemStorage(FileSystemStorage):
    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        saved, made = self._save_unflushed(name, content, max_length)
        self._flush(saved, made)
        return saved

    def save_flushing(
        self, name: str | None, content: Any, max_length: int | None = None
    ) -> tuple[str, Future[None]]:
        """`save()` whose flush runs beside the caller: the caller waits for the future before
        it commits anything that names the file."""
        saved, made = self._save_unflushed(name, content, max_length)
        return saved, _flusher().submit(self._flush, saved, made)

    def _save_unflushed(
        self, name: str | None, content: Any, max_length: int | None
    ) -> tuple[str, list[Path]]:
        # The folders this save is about to make: each is a new entry in its own parent. (The
        # storage may change the file's name to a free one, never its folder.)
        made = []
        folder = Path(self.path(name if name is not None else content.name)).parent
        while not folder.exists():
            made.append(folder)
            folder = folder.parent
        return super().save(name, content, max_length=max_length), made

    def _flush(self, saved: str, made: list[Path]) -> None:
        path = Path(self.path(saved))
        _fsync(path)
        for entry_holder in dict.fromkeys([path.parent, *(new.parent for new in made)]):
            _fsync(entry_holder)


def save_flushing(storage: Storage, name: str, content: Any) -> tuple[str, Future[None]]:
    """`storage.save()`, flushing beside the caller when the storage flushes at all (another
    storage, an object store say, is durable when its save returns)."""
    if isinstance(storage, DurableFileSystemStorage):
        return storage.save_flushing(name, content)
    done: Future[None] = Future()
    saved = storage.save(name, content)
    done.set_result(None)
    return saved, done


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _flusher() -> ThreadPoolExecutor:
    """This process's flushing threads, made on first use: a worker forked from gunicorn's
    master gets its own (threads do not cross a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="fsync"))
        return _pool[1]
