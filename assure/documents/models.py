"""Certificates issued to members: signed one-page PDFs that anyone can verify by their reference.

The row keeps what the public verification page may show (kind, dates, initials, birth year), so
that answering a verification never needs the member's record; the PDF itself is kept as issued so
the member can download it again byte for byte.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary, Member


class Certificate(models.Model):
    class Kind(models.TextChoices):
        ENTITLEMENT = "entitlement", _("Attestation de droits")
        ALLOWANCE = "allowance", _("Attestation de paiement des indemnités journalières")
        TAX = "tax", _("Relevé fiscal des indemnités journalières")
        EHIC_PROVISIONAL = (
            "ehic_provisional",
            _("Certificat provisoire de remplacement de la carte européenne"),
        )

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="certificates", db_index=False
    )
    # The person a provisional certificate is for, when it is a beneficiary rather than the member.
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="certificates", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # 100 random bits in Crockford base32 (20 characters), stored without the display dashes.
    reference = models.CharField(max_length=20, unique=True)
    issued_at = models.DateTimeField()
    valid_until = models.DateField(null=True, blank=True)
    holder_initials = models.CharField(max_length=12)
    holder_birth_year = models.PositiveSmallIntegerField()
    # What the member chose (beneficiaries, period, year, exemptions shown): enough to explain
    # the document later, never needed to verify it.
    parameters = models.JSONField(default=dict, blank=True)
    pdf = models.FileField(upload_to="certificates/%Y/%m/", max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(
                "member",
                models.F("issued_at").desc(),
                models.F("id").desc(),
                name="certificate_member_newest",
            )
        ]

    def __str__(self) -> str:
        return f"Certificate {self.pk}"

    @property
    def display_reference(self) -> str:
        return "-".join(self.reference[i : i + 4] for i in range(0, len(self.reference), 4))

    @property
    def filename(self) -> str:
        return f"attestation-{self.kind}-{self.issued_at:%Y%m%d}-{self.reference[:8]}.pdf"
