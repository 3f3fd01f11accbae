"""Attachments from the attacker's side: each rule with a hostile file made here, the storage,
and who may download what."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from assure.core.models import AuditEvent
from assure.messaging.attachments import AttachmentRefused, attachment_check, clean_name
from assure.messaging.models import Attachment
from tests.members.factories import MemberFactory
from tests.messaging import files
from tests.messaging.conftest import TODAY
from tests.messaging.helpers import advisor, sign_in, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def member(db):
    return MemberFactory(given_names="Zoé Anne", birth_name="N'DIAYE")


@pytest.fixture
def other_member(db):
    return MemberFactory(given_names="Marc", birth_name="LEROY")


def check(data: bytes, name: str = "document.pdf"):
    return attachment_check(upload=io.BytesIO(data), declared_name=name)


@pytest.mark.parametrize(
    ("make", "reason", "words"),
    [
        (files.pdf_with_javascript, "pdf_active_content", "JavaScript"),
        (files.pdf_with_hidden_javascript, "pdf_active_content", "JavaScript"),
        (files.pdf_with_launch_action, "pdf_active_content", "lancement"),
        (files.pdf_with_embedded_file, "pdf_embedded_file", "contient d'autres fichiers"),
        (files.pdf_encrypted, "pdf_encrypted", "mot de passe"),
        (files.png_bomb, "image_too_large", "trop grande"),
        (files.fake_executable, "type_not_allowed", "ni un PDF"),
        (files.polyglot_pdf_jpeg, "unreadable", "pas un PDF lisible"),
        (lambda: b"", "type_not_allowed", "ni un PDF"),
        (lambda: b"<html><script>alert(1)</script></html>", "type_not_allowed", "ni un PDF"),
        (lambda: files.jpeg()[:40], "unreadable", "pas une image lisible"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_message(make, reason, words):
    with pytest.raises(AttachmentRefused) as refused:
        check(make(), "releve.pdf")
    assert refused.value.reason == reason
    assert words in str(refused.value.title)
    assert "releve" in str(refused.value.title)  # the member knows which file
    assert refused.value.code == "attachment_refused"


def test_a_renamed_executable_is_refused_whatever_its_name():
    for name in ["releve.pdf", "photo.jpg", "scan.png"]:
        with pytest.raises(AttachmentRefused):
            check(files.fake_executable(), name)


def test_oversize_is_refused_before_any_parsing(settings):
    limit = settings.MESSAGING_MAX_ATTACHMENT_BYTES
    assert limit == 5 * 1024 * 1024
    with pytest.raises(AttachmentRefused) as refused:
        check(files.oversize(limit))
    assert refused.value.reason == "too_large"
    assert "5 Mo" in str(refused.value.title)


def test_a_file_at_the_limit_is_judged_on_its_content(settings):
    settings.MESSAGING_MAX_ATTACHMENT_BYTES = len(files.pdf())
    assert check(files.pdf()).content_type == "application/pdf"


def test_a_clean_pdf_is_kept_as_it_is():
    data = files.pdf()
    checked = check(data, "relevé de soins.pdf")
    assert checked.data == data
    assert checked.name == "relevé de soins.pdf"


def test_a_polyglot_jpeg_pdf_is_only_a_jpeg_and_loses_its_pdf():
    data = files.polyglot_jpeg_pdf()
    assert b"%PDF" in data
    assert b"/JavaScript" in data
    checked = check(data, "photo.pdf")
    assert checked.content_type == "image/jpeg"
    assert checked.name == "photo.jpg"  # named for what it is
    assert b"%PDF" not in checked.data
    assert b"JavaScript" not in checked.data
    assert Image.open(io.BytesIO(checked.data)).format == "JPEG"


def test_images_are_reencoded_without_metadata():
    data = files.jpeg(with_exif=True)
    assert b"Fabricant secret" in data
    assert b"hidden comment" in data
    checked = check(data, "carte.jpg")
    assert b"Fabricant secret" not in checked.data
    assert b"hidden comment" not in checked.data
    image = Image.open(io.BytesIO(checked.data))
    assert not image.getexif()
    assert image.size == (64, 48)


def test_a_png_with_text_chunks_and_trailing_data_is_cleaned():
    data = files.png()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "tracking-id-123")
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, format="PNG", pnginfo=info)
    hostile = out.getvalue() + b"<?php system($_GET['c']); ?>"
    checked = check(hostile, "scan.png")
    assert b"tracking-id-123" not in checked.data
    assert b"<?php" not in checked.data


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\zoe\\relevé.PDF", "application/pdf", "relevé.pdf"),
        ("photo.php.jpg", "image/jpeg", "photo_php.jpg"),
        ("a\x00b\r\nc.png", "image/png", "abc.png"),
        ('"; filename=evil.exe', "application/pdf", "filename_evil.pdf"),
        ("", "image/png", "piece-jointe.png"),
        ("....", "application/pdf", "piece-jointe.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 100 + ".pdf"),
    ],
)
def test_names_are_cleaned(raw, kind, expected):
    assert clean_name(raw, kind) == expected


def test_stored_under_a_random_name_inside_media_root(member, settings):
    thread = write(member, files=[("../../../tmp/evil.pdf", files.pdf())])
    attachment = thread.messages.get().attachments.get()
    assert attachment.name == "evil.pdf"
    assert "evil" not in attachment.storage_name
    assert attachment.storage_name.startswith("messaging/")
    stored = Path(settings.MEDIA_ROOT) / attachment.storage_name
    assert stored.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert stored.read_bytes() == files.pdf()
    assert settings.MEDIA_URL == "/media-not-served/"


def _assert_download(response, attachment: Attachment) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == attachment.content_type
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_owner_downloads_as_an_attachment(client, member):
    thread = write(member, files=[("relevé.pdf", files.pdf())])
    attachment = thread.messages.get().attachments.get()
    sign_in(client, member)
    response = client.get(reverse("messaging:attachment", args=[attachment.pk]))
    _assert_download(response, attachment)
    assert b"".join(response.streaming_content) == files.pdf()


def _page(response, url: str) -> bytes:
    """The page without what differs on every request: the address (repeated by the language
    switcher) and the CSRF token (masked anew each time)."""
    body = response.content.replace(url.encode(), b"")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def test_another_member_gets_the_same_404_as_for_a_missing_file(client, member, other_member):
    thread = write(other_member, files=[("a.pdf", files.pdf())])
    attachment = thread.messages.get().attachments.get()
    sign_in(client, member)
    theirs_url = reverse("messaging:attachment", args=[attachment.pk])
    missing_url = reverse("messaging:attachment", args=[attachment.pk + 1000])
    theirs, missing = client.get(theirs_url), client.get(missing_url)
    assert theirs.status_code == missing.status_code == 404
    assert _page(theirs, theirs_url) == _page(missing, missing_url)


def test_anonymous_cannot_download(client, member):
    thread = write(member, files=[("a.pdf", files.pdf())])
    attachment = thread.messages.get().attachments.get()
    response = client.get(reverse("messaging:attachment", args=[attachment.pk]))
    assert response.status_code == 302


def test_staff_with_the_permission_download_and_it_is_recorded(client, member):
    thread = write(member, files=[("a.png", files.png())])
    attachment = thread.messages.get().attachments.get()
    client.force_login(advisor())
    response = client.get(reverse("backoffice:messaging:attachment", args=[attachment.pk]))
    _assert_download(response, attachment)
    assert AuditEvent.objects.filter(
        action="messaging.attachment_viewed", member_id=member.pk
    ).exists()


# --- the clamd hook ----------------------------------------------------------------------------


@pytest.fixture
def fake_clamd(tmp_path, settings) -> Iterator[list[str]]:
    """A clamd speaking INSTREAM on a Unix socket; answers the verdicts the test pushes."""
    path = str(tmp_path / "clamd.sock")
    verdicts: list[str] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                command = b""
                while not command.endswith(b"\0"):
                    command += conn.recv(1)
                while True:
                    size = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))[0]
                    if size == 0:
                        break
                    conn.recv(size, socket.MSG_WAITALL)
                conn.sendall(verdicts.pop(0).encode() + b"\0")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings.CLAMD_SOCKET = path
    yield verdicts
    server.close()


def test_clamd_clean_file_passes(fake_clamd):
    fake_clamd.append("stream: OK")
    assert check(files.pdf()).content_type == "application/pdf"


def test_clamd_virus_is_refused(fake_clamd):
    fake_clamd.append("stream: Eicar-Test-Signature FOUND")
    with pytest.raises(AttachmentRefused) as refused:
        check(files.pdf())
    assert refused.value.reason == "virus_found"


def test_clamd_unreachable_refuses_rather_than_letting_through(settings, tmp_path):
    settings.CLAMD_SOCKET = str(tmp_path / "absent.sock")
    with pytest.raises(AttachmentRefused) as refused:
        check(files.pdf())
    assert refused.value.reason == "scan_unavailable"


def test_no_scan_by_default(settings):
    assert settings.CLAMD_SOCKET == ""


def test_an_animated_png_keeps_its_first_frame_only():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])
    checked = check(out.getvalue(), "anim.png")
    image = Image.open(io.BytesIO(checked.data))
    assert getattr(image, "n_frames", 1) == 1
    assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_a_jpeg_bomb_is_refused_from_its_header():
    # A 10,000 by 10,000 JPEG of one colour is small on disk and 100 million pixels decoded.
    out = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(out, format="JPEG", quality=1)
    assert len(out.getvalue()) < 2_000_000
    with pytest.raises(AttachmentRefused) as refused:
        check(out.getvalue(), "photo.jpg")
    assert refused.value.reason == "image_too_large"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from([b"", b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n"]),
    tail=st.binary(max_size=4096),
    name=st.text(max_size=200),
)
def test_no_input_crashes_the_checks(prefix, tail, name):
    """Whatever the bytes and the name, the answer is a checked file or a clear refusal."""
    try:
        checked = check(prefix + tail, name)
    except AttachmentRefused:
        return
    assert checked.content_type in {"application/pdf", "image/jpeg", "image/png"}
    assert "/" not in checked.name
    assert "\\" not in checked.name


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=1, max_value=400), flip=st.integers(min_value=0, max_value=255))
def test_damaged_real_files_are_refused_or_accepted_never_crash(cut, flip):
    for data in (files.pdf(), files.png(), files.jpeg()):
        damaged = bytearray(data[: max(8, len(data) - cut)])
        damaged[min(len(damaged) - 1, 20 + cut % 50)] ^= flip
        with contextlib.suppress(AttachmentRefused):
            check(bytes(damaged))
