"""The audit trail's hash chain: each event carries the hash of the one before it.

An edited row no longer matches its own hash; a deleted row breaks the link of the row after it.
`assure audit verify` walks the chain. On PostgreSQL the trigger of migration 0001 also refuses
UPDATE and DELETE outright; on SQLite the chain is the only witness.

Appending takes a lock for the rest of the caller's transaction (an advisory lock on PostgreSQL,
the database's write lock on SQLite, held from BEGIN IMMEDIATE), so that two transactions never
link to the same predecessor and fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections

if TYPE_CHECKING:
    from assure.core.models import AuditEvent

GENESIS = "0" * 64
# Any constant will do: it names the one lock every writer of the trail takes.
_ADVISORY_LOCK_KEY = 0x61756469
# The table is the model's (core_auditevent); core.models imports this module, hence the literal.
_LAST_HASH = 'SELECT "hash" FROM "core_auditevent" ORDER BY "id" DESC LIMIT 1'


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over the previous hash and every recorded field, in a fixed canonical form."""
    payload = json.dumps(
        [
            prev_hash,
            _timestamp(event.at),
            event.actor_kind,
            event.actor_id,
            event.actor_display,
            event.action,
            event.member_id,
            event.object_type,
            event.object_id,
            event.reason,
            event.data,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_and_last_hash(using: str) -> str:
    """Takes the append lock (until the end of the transaction) and reads the chain's head."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        # The head by primary key, in plain SQL: this runs in every audited transaction, and the
        # ORM's compilation of the same query cost more than the query itself.
        cursor.execute(_LAST_HASH)
        row = cursor.fetchone()
    return row[0] if row else GENESIS


def chain(events: Iterable[AuditEvent], prev_hash: str) -> None:
    for event in events:
        event.prev_hash = prev_hash
        event.hash = event_digest(event, prev_hash)
        prev_hash = event.hash


@dataclass(frozen=True)
class Break:
    event_id: int
    kind: str  # "altered": the row differs from its hash; "missing": the row before it is gone

    def describe(self) -> str:
        if self.kind == "altered":
            return f"event {self.event_id}: content does not match its hash (altered)"
        return f"event {self.event_id}: the event before it is missing or was replaced (deleted)"


@dataclass(frozen=True)
class Verification:
    checked: int
    head: str
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _rows(using: str, chunk: int) -> Iterator[Any]:
    from assure.core.models import AuditEvent

    return AuditEvent.objects.using(using).order_by("id").iterator(chunk_size=chunk)


def chain_verify(*, using: str = "default", chunk: int = 2000, limit: int = 100) -> Verification:
    """Walks the whole trail in id order; reports at most `limit` breaks."""
    breaks: list[Break] = []
    expected_prev = GENESIS
    checked = 0
    for event in _rows(using, chunk):
        checked += 1
        if event.prev_hash != expected_prev:
            breaks.append(Break(event.pk, "missing"))
        if event_digest(event, event.prev_hash) != event.hash:
            breaks.append(Break(event.pk, "altered"))
        # Continue from what the row claims, so one break is reported once, not for every row after.
        expected_prev = event.hash
        if len(breaks) >= limit:
            break
    return Verification(checked=checked, head=expected_prev, breaks=breaks)
