"""The audit trail's hash chain: every way of writing events links them, and `assure audit
verify` finds an altered row and a deleted one (on SQLite by the chain alone; on PostgreSQL the
trigger refuses the edit first)."""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from assure.core.audit import GENESIS, chain_verify, event_digest
from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record

pytestmark = pytest.mark.django_db


def _events(n: int = 4) -> list[AuditEvent]:
    return [
        audit_record(actor=Actor.system(), action="test.step", member_id=i, data={"i": i})
        for i in range(n)
    ]


def _verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_each_event_carries_the_hash_of_the_previous_one():
    events = _events(3)
    before = AuditEvent.objects.filter(pk__lt=events[0].pk).order_by("-id")
    assert events[0].prev_hash == (before.values_list("hash", flat=True).first() or GENESIS)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    stored = AuditEvent.objects.get(pk=events[2].pk)
    assert event_digest(stored, stored.prev_hash) == stored.hash  # survives the database round trip


def test_bulk_created_events_are_chained_too():
    first = _events(1)[0]
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(actor_kind="feed", actor_id="f", action="test.bulk", member_id=i)
            for i in range(3)
        ]
    )
    rows = list(AuditEvent.objects.filter(pk__gte=first.pk).order_by("id"))
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert chain_verify().ok


def test_verify_passes_on_an_intact_trail():
    _events(5)
    code, out, _err = _verify()
    assert code == 0
    assert "intact" in out


def _tamper(edit) -> bool:
    """Runs `edit`; False when the database refused it (PostgreSQL's append-only trigger)."""
    try:
        with transaction.atomic():
            edit()
    except DatabaseError:
        assert connection.vendor == "postgresql"
        return False
    assert connection.vendor == "sqlite"  # PostgreSQL must never let an edit through
    return True


def test_an_altered_row_is_found():
    events = _events(4)
    if not _tamper(lambda: AuditEvent.objects.filter(pk=events[1].pk).update(reason="rien")):
        assert chain_verify().ok
        return
    code, _out, err = _verify()
    assert code == 1
    assert f"event {events[1].pk}" in err
    assert "altered" in err
    result = chain_verify()
    assert [(b.event_id, b.kind) for b in result.breaks] == [(events[1].pk, "altered")]


def test_an_altered_row_with_its_hash_recomputed_is_found():
    events = _events(4)
    row = AuditEvent.objects.get(pk=events[1].pk)
    row.actor_display = "someone else"
    forged = event_digest(row, row.prev_hash)
    if not _tamper(
        lambda: AuditEvent.objects.filter(pk=row.pk).update(
            actor_display=row.actor_display, hash=forged
        )
    ):
        assert chain_verify().ok
        return
    result = chain_verify()
    assert [(b.event_id, b.kind) for b in result.breaks] == [(events[2].pk, "missing")]


def test_a_deleted_row_is_found():
    events = _events(4)
    if not _tamper(lambda: AuditEvent.objects.filter(pk=events[2].pk).delete()):
        assert chain_verify().ok
        return
    code, _out, err = _verify()
    assert code == 1
    assert f"event {events[3].pk}" in err
    assert "deleted" in err
