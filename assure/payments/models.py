"""Reimbursement statements and daily allowances, as the fund's payment systems send them.

The feed's amounts are the truth (FEEDS.md); `rules.py` checks them and works out what the
member is shown about the yearly caps. Rows are written in bulk by the feeds and read a page at a
time, newest first, by the member who owns them: the indexes serve exactly those two paths.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary, Member


class Category(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    PHARMACY = "pharmacy", _("Pharmacie")
    HOSPITAL = "hospital", _("Hospitalisation")
    PARAMEDICAL = "paramedical", _("Auxiliaires médicaux")
    TRANSPORT = "transport", _("Transport")
    DENTAL = "dental", _("Dentaire")
    OPTICAL = "optical", _("Optique")
    LABORATORY = "laboratory", _("Analyses")
    IMAGING = "imaging", _("Imagerie")
    OTHER = "other", _("Autre")


class Statement(models.Model):
    """One line of a décompte: an act, what it cost, what the fund pays and to whom."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Reçu")
        PROCESSING = "processing", _("En cours de traitement")
        PAID = "paid", _("Payé")
        REJECTED = "rejected", _("Refusé")

    class PaidTo(models.TextChoices):
        MEMBER = "member", _("Vous")
        PROVIDER = "provider", _("Le professionnel de santé")

    external_id = models.CharField(max_length=64, unique=True)
    # The composite indexes below lead with the member: a separate index would only slow imports.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="statements", db_index=False
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="statements", null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    care_date = models.DateField()
    received_on = models.DateField()
    paid_on = models.DateField(null=True, blank=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    act_code = models.CharField(max_length=16)
    label = models.CharField(max_length=200)
    provider = models.CharField(max_length=200, null=True, blank=True)
    amount_charged = models.DecimalField(max_digits=10, decimal_places=2)
    base_amount = models.DecimalField(max_digits=10, decimal_places=2)
    rate = models.PositiveSmallIntegerField()
    reimbursed = models.DecimalField(max_digits=10, decimal_places=2)
    flat_fee = models.DecimalField(max_digits=10, decimal_places=2)
    deductible = models.DecimalField(max_digits=10, decimal_places=2)
    paid_to = models.CharField(max_length=10, choices=PaidTo.choices)
    complementary_forwarded = models.BooleanField(default=False)
    payment_reference = models.CharField(max_length=64, null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, null=True, blank=True)
    # Digest of the normalised feed line: an unchanged re-send is recognised without a write.
    feed_digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-care_date", "-id"]
        indexes = [
            # "My lines, newest first", continued by keyset (care_date, id): one index range scan.
            models.Index(
                "member",
                models.F("care_date").desc(),
                models.F("id").desc(),
                name="statement_member_newest",
            ),
            models.Index(
                "member",
                "status",
                models.F("care_date").desc(),
                models.F("id").desc(),
                name="statement_member_status",
            ),
            # The total of one payment, whatever page its lines fall on.
            models.Index("member", "payment_reference", name="statement_member_payment"),
        ]

    def __str__(self) -> str:
        return f"Statement {self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.RECEIVED, self.Status.PROCESSING}


class SickLeave(models.Model):
    """An arrêt de travail: the period the daily allowances cover."""

    class Kind(models.TextChoices):
        ILLNESS = "illness", _("Maladie")
        WORK_ACCIDENT = "work_accident", _("Accident du travail")
        MATERNITY = "maternity", _("Maternité")
        PATERNITY = "paternity", _("Paternité")

    external_id = models.CharField(max_length=64, unique=True)
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="sick_leaves", db_index=False
    )
    kind = models.CharField(max_length=14, choices=Kind.choices)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(
                "member",
                models.F("start").desc(),
                models.F("id").desc(),
                name="sickleave_member_newest",
            )
        ]

    def __str__(self) -> str:
        return f"SickLeave {self.pk}"

    @property
    def ongoing(self) -> bool:
        return self.end is None


class AllowancePayment(models.Model):
    """One payment of indemnités journalières for a period of a sick leave."""

    class Status(models.TextChoices):
        PROCESSING = "processing", _("En cours de traitement")
        PAID = "paid", _("Payé")

    class PaidTo(models.TextChoices):
        MEMBER = "member", _("Vous")
        EMPLOYER = "employer", _("Votre employeur")

    external_id = models.CharField(max_length=64, unique=True)
    sick_leave = models.ForeignKey(SickLeave, on_delete=models.CASCADE, related_name="payments")
    # Kept on the row too, so that "my allowances" never needs a join to be scoped.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="allowance_payments", db_index=False
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    days = models.PositiveSmallIntegerField()
    daily_gross = models.DecimalField(max_digits=10, decimal_places=2)
    gross = models.DecimalField(max_digits=10, decimal_places=2)
    social_levies = models.DecimalField(max_digits=10, decimal_places=2)
    net = models.DecimalField(max_digits=10, decimal_places=2)
    paid_on = models.DateField(null=True, blank=True)
    paid_to = models.CharField(max_length=10, choices=PaidTo.choices)
    feed_digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(
                "member",
                models.F("period_start").desc(),
                models.F("id").desc(),
                name="allowance_member_newest",
            )
        ]

    def __str__(self) -> str:
        return f"AllowancePayment {self.pk}"
