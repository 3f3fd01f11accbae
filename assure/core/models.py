from __future__ import annotations

from django.db import models


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

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_display = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_kind}:{self.actor_id} {self.action}"
