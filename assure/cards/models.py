"""European Health Insurance Card orders (CEAM): one card per person, followed to the letterbox.

`person_key` ("self" or "b<beneficiary id>") names the person the card is for, so that "one open
order per person" is a unique index the database itself enforces, on SQLite as on PostgreSQL,
rather than a check two simultaneous requests could both pass.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary, Member


class CardOrder(models.Model):
    class Status(models.TextChoices):
        ORDERED = "ordered", _("Commandée")
        IN_PRODUCTION = "in_production", _("En fabrication")
        SENT = "sent", _("Envoyée")
        DELIVERED = "delivered", _("Distribuée")
        RETURNED = "returned", _("Revenue à la caisse")

    class ReturnReason(models.TextChoices):
        ADDRESS_UNKNOWN = "address_unknown", _("Adresse inconnue ou incomplète")
        NOT_COLLECTED = "not_collected", _("Pli non réclamé")
        DAMAGED = "damaged", _("Carte endommagée")
        OTHER = "other", _("Autre motif")

    OPEN = (Status.ORDERED, Status.IN_PRODUCTION, Status.SENT)

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="card_orders", db_index=False
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="card_orders", null=True, blank=True
    )
    person_key = models.CharField(max_length=24)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.ORDERED)
    ordered_at = models.DateTimeField()
    expected_by = models.DateField()
    departure_date = models.DateField(null=True, blank=True)
    certificate_offered = models.BooleanField(default=False)
    exported_at = models.DateTimeField(null=True, blank=True)
    export_batch = models.CharField(max_length=40, blank=True, default="")
    sent_at = models.DateField(null=True, blank=True)
    delivered_at = models.DateField(null=True, blank=True)
    returned_at = models.DateField(null=True, blank=True)
    return_reason = models.CharField(
        max_length=20, choices=ReturnReason.choices, blank=True, default=""
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(
                "member",
                models.F("ordered_at").desc(),
                models.F("id").desc(),
                name="cardorder_member_newest",
            ),
            models.Index("status", "ordered_at", name="cardorder_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                "member",
                "person_key",
                condition=models.Q(status__in=["ordered", "in_production", "sent"]),
                name="cardorder_one_open_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"CardOrder {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def person(self) -> Member | Beneficiary:
        return self.beneficiary if self.beneficiary_id else self.member  # type: ignore[return-value]
