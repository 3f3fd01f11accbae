"""The outbox: every e-mail and postal letter the portal sends, written in the transaction of the
change that causes it and delivered afterwards by a task (DESIGN.md, "Data flows")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Courriel")
        LETTER = "letter", _("Courrier postal")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENDING = "sending", _("En cours d'envoi")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("En échec")

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The caller's key: queueing the same key twice returns the first message (never two sends).
    idempotency_key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=10, default="fr")
    # A plain id, not a foreign key: notifications sit below members in the layers (STYLE.md), and
    # a message already sent stays on record when the member's row goes.
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # E-mail: the address. Letter: the recipient (name, lines, postcode, city, country).
    recipient = models.JSONField(default=dict)
    # Rendered when queued, so that a later template change never alters what was promised.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When a delivery task was last put on the queue: the dispatcher re-enqueues a due message only
    # when no task has been queued for it lately, so a long queue does not fill with duplicates.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Where the delivered artefact lives (relative to OUTBOX_DIR) for file deliveries.
    artefact = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due"),
            models.Index(fields=["status", "lease_expires_at"], name="outbox_status_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        """The reference printed on letters and quoted to the fund's advisers."""
        return f"N{self.pk:09d}"
