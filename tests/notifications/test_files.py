"""What lands in the spool: .eml files for e-mails, PDFs and a manifest for the print house."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from assure.notifications import delivery
from assure.notifications.letters import MANIFEST_FIELDS, manifest_add
from assure.notifications.mail import message_id_for
from assure.notifications.models import OutboxMessage
from assure.notifications.postal import PostalRecipient, address_block
from assure.notifications.services import email_queue, letter_queue

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=PARIS)


def _eml_files(root):
    return sorted((root / "email").rglob("*.eml"))


def test_eml_file_headers_and_body(file_delivery, settings):
    with time_machine.travel(NOON, tick=False):
        message = email_queue(
            to="zoe@example.org",
            template="test_notice",
            context={"first_name": "Zoé"},
            idempotency_key="notice:42/é",
        )
        assert delivery.outbox_deliver(message_id=message.pk)
    files = _eml_files(file_delivery)
    assert len(files) == 1
    path = files[0]
    assert path.parent.name == "2026-11-26"
    assert path.name.endswith(".eml")
    assert "/" not in path.stem
    assert ":" not in path.name
    raw = path.read_bytes()
    assert b"\r\n" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    # The subject is encoded on the wire (RFC 2047) and decodes back with its accents.
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert re.search(rb"Subject:\s+=\?utf-8\?", headers)
    headers.decode("ascii")  # every header is 7-bit on the wire
    # Django folds the encoded subject onto a continuation line; unfolding leaves a leading space.
    assert parsed["Subject"].strip() == (
        "Votre avis de test — Caisse d'assurance maladie de démonstration"
    )
    assert parsed["From"] == settings.DEFAULT_FROM_EMAIL
    assert parsed["To"] == "zoe@example.org"
    assert parsed["Message-ID"] == message_id_for("notice:42/é")
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Content-Language"] == "fr"
    assert parsed.get_content_type() == "text/plain"
    body = parsed.get_content()
    assert "Bonjour Zoé," in body
    assert "ne met jamais dans ses messages de lien" in body
    message.refresh_from_db()
    assert message.artefact == path.relative_to(file_delivery).as_posix()


def test_rewriting_the_same_key_is_harmless(file_delivery):
    with time_machine.travel(NOON, tick=False):
        message = email_queue(
            to="zoe@example.org",
            template="test_notice",
            context={"first_name": "Zoé"},
            idempotency_key="same",
        )
        delivery.outbox_deliver(message_id=message.pk)
        first = _eml_files(file_delivery)[0].read_bytes()
        # A crash between writing and recording: the message is delivered again.
        OutboxMessage.objects.filter(pk=message.pk).update(status="pending")
        delivery.outbox_deliver(message_id=message.pk)
    files = _eml_files(file_delivery)
    assert len(files) == 1
    assert files[0].read_bytes() == first
    assert not list((file_delivery / "email").rglob(".tmp-*"))


def test_message_id_is_stable_and_hides_the_key():
    assert message_id_for("member-7:payment-9") == message_id_for("member-7:payment-9")
    assert message_id_for("a") != message_id_for("b")
    assert "member-7" not in message_id_for("member-7:payment-9")
    assert message_id_for("a").endswith("@assure.invalid>")


def _deliver_letter(recipient, key="letter-1"):
    message = letter_queue(
        recipient=recipient,
        template="test_notice",
        context={"last_name": "Lefèvre"},
        idempotency_key=key,
    )
    assert delivery.outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_letter_pdf_carries_the_address_block(outbox_dir, recipient, settings):
    with time_machine.travel(NOON, tick=False):
        message = _deliver_letter(recipient)
    path = outbox_dir / message.artefact
    assert path.parent == outbox_dir / "letters" / "2026-11-26"
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=0.1)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    for line in address_block(recipient):
        assert line in text
    assert "75014 PARIS" in text
    assert settings.ASSURE_FUND_NAME in text
    assert "Le 26 novembre 2026" in text
    assert message.reference in text
    assert "Objet : avis de test" in text
    assert "Madame, Monsieur Lefèvre," in text


def test_letter_address_block_is_in_the_window(outbox_dir, recipient):
    """Every address line is drawn inside the window zone of a DL envelope (100 to 190 mm across,
    55 to 95 mm down the sheet)."""
    from reportlab.lib.units import mm

    message = _deliver_letter(recipient)
    reader = PdfReader(outbox_dir / message.artefact)
    block = set(address_block(recipient))
    positions: dict[str, tuple[float, float]] = {}

    def visit(text, _cm, tm, _font, _size):
        if text.strip() in block:
            positions[text.strip()] = (tm[4], tm[5])

    reader.pages[0].extract_text(visitor_text=visit)
    assert set(positions) == block
    height = float(reader.pages[0].mediabox.height)
    for x, y in positions.values():
        assert 100 * mm <= x <= 110 * mm
        assert 55 * mm <= height - y <= 95 * mm


def test_manifest_lists_each_letter_once(outbox_dir, recipient):
    abroad = PostalRecipient(
        name="M. Hans Müller",
        lines=("Hauptstraße 5",),
        postal_code="10115",
        city="Berlin",
        country="Allemagne",
    )
    with time_machine.travel(NOON, tick=False):
        first = _deliver_letter(recipient, key="l-1")
        second = _deliver_letter(abroad, key="l-2")
        # Delivered again after a crash: the manifest keeps one row for it.
        OutboxMessage.objects.filter(pk=first.pk).update(status="pending")
        delivery.outbox_deliver(message_id=first.pk)
    manifest = outbox_dir / "letters" / "2026-11-26" / "manifest.csv"
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == MANIFEST_FIELDS
    assert [r["file"] for r in rows] == ["l-1.pdf", "l-2.pdf"]
    assert rows[0]["reference"] == first.reference
    assert rows[0]["pages"] == "1"
    assert rows[0]["postal_code"] == "75014"
    assert rows[0]["country"] == "FRANCE"
    assert rows[1]["country"] == "ALLEMAGNE"
    assert rows[1]["reference"] == second.reference
    assert rows[0]["created_at"].startswith("2026-11-26T12:00:00")


def test_manifest_under_concurrent_writers(tmp_path):
    """Threads appending at once leave a well-formed file with every row exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    def add(i: int) -> None:
        row = dict.fromkeys(MANIFEST_FIELDS, "x") | {"file": f"{i}.pdf"}
        manifest_add(tmp_path, row)
        manifest_add(tmp_path, row)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(60)))
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["file"] for r in rows) == sorted(f"{i}.pdf" for i in range(60))


def test_long_letter_has_several_pages(outbox_dir, recipient, monkeypatch):
    from assure.notifications import services

    original = services.letter_render

    def long_render(**kwargs):
        rendered = original(**kwargs)
        return type(rendered)(subject=rendered.subject, body="\n\n".join([rendered.body] * 12))

    monkeypatch.setattr(services, "letter_render", long_render)
    message = _deliver_letter(recipient)
    reader = PdfReader(outbox_dir / message.artefact)
    assert len(reader.pages) >= 2
    manifest = (outbox_dir / message.artefact).parent / "manifest.csv"
    assert f",{len(reader.pages)}," in manifest.read_text()


def test_incomplete_address_is_refused(outbox_dir):
    from assure.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        letter_queue(
            recipient=PostalRecipient(name="X", lines=(), postal_code="", city=""),
            template="test_notice",
            context={},
            idempotency_key="bad",
        )


def test_letter_same_key_twice_is_one_letter(outbox_dir, recipient):
    first = letter_queue(
        recipient=recipient, template="test_notice", context={}, idempotency_key="once"
    )
    again = letter_queue(
        recipient=recipient, template="test_notice", context={}, idempotency_key="once"
    )
    assert first.pk == again.pk
    assert OutboxMessage.objects.count() == 1


def test_english_letter(outbox_dir, recipient):
    with time_machine.travel(NOON, tick=False):
        message = letter_queue(
            recipient=recipient,
            template="test_notice",
            context={"last_name": "Lefèvre"},
            idempotency_key="english",
            language="en",
        )
        delivery.outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    text = PdfReader(outbox_dir / message.artefact).pages[0].extract_text()
    assert "Subject: test notice" in text
    assert "26 November 2026" in text
    assert f"Reference: {message.reference}" in text
    assert "75014 PARIS" in text
