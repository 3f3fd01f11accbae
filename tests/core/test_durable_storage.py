"""Members' files are on disk, with the directory entries naming them, when save() returns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from assure.core.durable_storage import DurableFileSystemStorage


@pytest.fixture
def flushed(monkeypatch) -> list[Path]:
    """What os.fsync was asked to flush, by path."""
    seen: list[Path] = []
    real = os.fsync

    def recording(fd: int) -> None:
        seen.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return seen


def test_the_default_storage_is_the_durable_one():
    assert isinstance(default_storage, DurableFileSystemStorage)


def test_the_file_and_every_new_folder_entry_are_flushed(tmp_path, flushed):
    storage = DurableFileSystemStorage(location=tmp_path / "media")
    name = storage.save("certificates/2026/11/ABC.pdf", ContentFile(b"%PDF-1.7 signed"))
    path = tmp_path / "media" / name
    assert path.read_bytes() == b"%PDF-1.7 signed"
    # The file's data, then the folders holding the entries this save made: the file's own
    # folder, and each folder made on the way (media did not exist either).
    assert flushed[0] == path
    assert set(flushed[1:]) == {
        tmp_path / "media" / "certificates" / "2026" / "11",
        tmp_path / "media" / "certificates" / "2026",
        tmp_path / "media" / "certificates",
        tmp_path / "media",
        tmp_path,
    }


def test_a_second_file_in_a_known_folder_flushes_the_file_and_its_folder(tmp_path, flushed):
    storage = DurableFileSystemStorage(location=tmp_path)
    storage.save("certificates/one.pdf", ContentFile(b"1"))
    flushed.clear()
    name = storage.save("certificates/two.pdf", ContentFile(b"2"))
    assert flushed == [tmp_path / name, tmp_path / "certificates"]


def test_a_taken_name_gets_another_as_with_django(tmp_path, flushed):
    storage = DurableFileSystemStorage(location=tmp_path)
    first = storage.save("letters/a.pdf", ContentFile(b"first"))
    second = storage.save("letters/a.pdf", ContentFile(b"second"))
    assert first != second
    assert (tmp_path / first).read_bytes() == b"first"
    assert (tmp_path / second).read_bytes() == b"second"
    assert tmp_path / second in flushed


def test_a_flush_beside_the_caller_is_done_when_its_future_is(tmp_path, flushed):
    from assure.core.durable_storage import save_flushing

    storage = DurableFileSystemStorage(location=tmp_path)
    name, done = save_flushing(storage, "certificates/2026/11/X.pdf", ContentFile(b"pdf"))
    assert done.result(timeout=10) is None
    assert tmp_path / name in flushed
    assert tmp_path / "certificates" / "2026" / "11" in flushed
    assert (tmp_path / name).read_bytes() == b"pdf"


def test_a_storage_that_does_not_flush_gives_a_finished_future(tmp_path):
    from django.core.files.storage import FileSystemStorage

    from assure.core.durable_storage import save_flushing

    name, done = save_flushing(FileSystemStorage(location=tmp_path), "a/b.pdf", ContentFile(b"x"))
    assert done.done()
    assert (tmp_path / name).read_bytes() == b"x"
