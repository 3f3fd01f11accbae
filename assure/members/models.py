"""The register the fund sends (FEEDS.md, "members"): who is insured, and who is covered by them.

One row per member with address, bank account and coverage inline: the register is loaded in bulk
every day and read whole on nearly every page, so fewer joins win on both sides.
"""

from __future__ import annotations

from django.db import models


class Member(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "F"
        MALE = "M", "M"

    external_id = models.CharField(max_length=64, unique=True)
    # 15 characters, key included, no spaces; 2A/2B kept as letters. The login identifier.
    nir = models.CharField(max_length=15, unique=True)
    birth_name = models.CharField(max_length=100)
    usual_name = models.CharField(max_length=100, null=True, blank=True)
    given_names = models.CharField(max_length=150)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    birth_place_insee = models.CharField(max_length=5, null=True, blank=True)
    birth_country_insee = models.CharField(max_length=5, null=True, blank=True)
    vitale_serial = models.CharField(max_length=32, null=True, blank=True)

    email = models.EmailField(max_length=254, null=True, blank=True)
    phone = models.CharField(max_length=32, null=True, blank=True)

    address_line1 = models.CharField(max_length=100)
    address_line2 = models.CharField(max_length=100, null=True, blank=True)
    postal_code = models.CharField(max_length=10)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")

    iban = models.CharField(max_length=34, null=True, blank=True)
    bic = models.CharField(max_length=11, null=True, blank=True)
    bank_holder = models.CharField(max_length=100, null=True, blank=True)

    coverage_start = models.DateField()
    coverage_end = models.DateField(null=True, blank=True)
    # [{"kind": "ald"|"maternity"|"css"|"ame", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"|null}]
    exemptions = models.JSONField(default=list, blank=True)

    complementary_name = models.CharField(max_length=100, null=True, blank=True)
    complementary_contract = models.CharField(max_length=64, null=True, blank=True)

    # Digest of the last feed line applied: a line with the same digest is "unchanged" without
    # comparing every field, which keeps a daily re-run of millions of lines cheap.
    feed_digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Member {self.pk}"

    @property
    def family_name(self) -> str:
        return self.usual_name or self.birth_name

    @property
    def display_name(self) -> str:
        return f"{self.given_names.split(' ')[0]} {self.family_name}"


class Beneficiary(models.Model):
    """A person covered through a member (ayant droit)."""

    class Relation(models.TextChoices):
        CHILD = "child"
        SPOUSE = "spouse"
        OTHER = "other"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="beneficiaries")
    external_id = models.CharField(max_length=64, unique=True)
    nir = models.CharField(max_length=15, null=True, blank=True)
    birth_name = models.CharField(max_length=100)
    given_names = models.CharField(max_length=150)
    sex = models.CharField(max_length=1, choices=Member.Sex.choices)
    birth_date = models.DateField()
    relation = models.CharField(max_length=10, choices=Relation.choices)
    # A beneficiary missing from a later line of its member is no longer shown; history stays.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["birth_date", "id"]

    def __str__(self) -> str:
        return f"Beneficiary {self.pk}"
