from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from assure.core import audit
from assure.core.compiled import CompiledInsert


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Every way of adding events (`create`, `bulk_create`) links them into the hash chain."""

    def create(self, **kwargs: Any) -> AuditEvent:
        event = self.model(**kwargs)
        # No savepoint: the lock and the insert belong to the caller's transaction anyway, and
        # a savepoint would cost two more queries on every audited action.
        with transaction.atomic(using=self.db, savepoint=False):
            event.at = event.at or timezone.now()
            audit.chain([event], audit.lock_and_last_hash(self.db))
            _audit_insert.insert(event, using=self.db)
        return event

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        events = list(objs)
        if not events:
            return events
        with transaction.atomic(using=self.db, savepoint=False):
            now = timezone.now()
            for event in events:
                event.at = event.at or now
            audit.chain(events, audit.lock_and_last_hash(self.db))
            return super().bulk_create(events, *args, **kwargs)


class AuditEvent(models.Model):
    """Who did what to which member's data. Append-only: written by services, never changed.

    The member is kept as a plain id (not a foreign key) because `core` sits below `members`, and
    because the trail must outlive the rows it speaks of.
    """

    class ActorKind(models.TextChoices):
        MEMBER = "member"
        STAFF = "staff"
        SYSTEM = "system"
        FEED = "feed"

    # Set once, before hashing (not auto_now_add, which would change it after the hash is taken).
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_display = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    # The hash chain (assure/core/audit.py): the previous event's hash, and this event's own.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_kind}:{self.actor_id} {self.action}"


# Every audited action appends one: its INSERT compiled once (assure.core.compiled).
_audit_insert = CompiledInsert(AuditEvent)


class FeedRun(models.Model):
    """One load of a fund feed (FEEDS.md), by command line or endpoint, for the supervisor.

    Counts and a capped sample of rejects only: the full list of rejects goes back to the sender
    (the rejects file, the endpoint's answer), and no line's content is kept here.
    """

    class Source(models.TextChoices):
        CLI = "cli"
        API = "api"

    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    feed = models.CharField(max_length=32)
    source = models.CharField(max_length=8, choices=Source.choices)
    # The feed token's name for the endpoint, the system user for the command line.
    actor = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects_sample = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["feed", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.feed} {self.source} {self.started_at:%Y-%m-%d %H:%M}"


class RateCounter(models.Model):
    """A request count shared by every process when there is no Redis (or while it is down).

    Django's database cache increments by a read then a write, in several queries; this table is
    counted in one atomic statement (`assure.core.counters.increment`). Rows are fixed windows:
    `expires_at` (Unix seconds) ends the count, and expired rows are purged as counting goes on.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.BigIntegerField()
    expires_at = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
