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

    # Unique by constraint rather than `unique=True`: on PostgreSQL the latter adds a second,
    # pattern-matching index to each column, which the feed's bulk writes would pay for and no
    # query uses (both are only ever looked up whole).
    external_id = models.CharField(max_length=64)
    # 15 characters, key included, no spaces; 2A/2B kept as letters. The login identifier.
    nir = models.CharField(max_length=15)
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
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="member_external_id_unique"),
            models.UniqueConstraint(fields=["nir"], name="member_nir_unique"),
        ]

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
    external_id = models.CharField(max_length=64)  # unique by constraint, as Member's
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
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="beneficiary_external_id_unique"),
        ]

    def __str__(self) -> str:
        return f"Beneficiary {self.pk}"


class ProfileChange(models.Model):
    """A change of personal details made through the portal: the member's history of changes, and
    the outbound change feed from which the fund's register takes them (`assure export changes`).

    `values` holds the new values in full, as the fund's register needs them; `previous` holds
    what the member sees of the old ones (a bank account only masked).
    """

    class Kind(models.TextChoices):
        ADDRESS = "address"
        PHONE = "phone"
        EMAIL = "email"
        BANK_ACCOUNT = "bank_account"

    class Status(models.TextChoices):
        APPLIED = "applied"
        # A bank account: shown at once, used for payments once the fund has taken it.
        PENDING_FUND = "pending_fund"
        # An e-mail address until the link sent to it is followed.
        AWAITING_CONFIRMATION = "awaiting_confirmation"
        # An e-mail confirmation replaced by a newer request, or never confirmed in time.
        CANCELLED = "cancelled"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="profile_changes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=24, choices=Status.choices)
    values = models.JSONField(default=dict)
    previous = models.JSONField(default=dict)
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    # SHA-256 of the e-mail confirmation token (256 random bits: a plain hash is enough).
    token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # When the change reached the portal's register; the change feed is cut on this time.
    applied_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"ProfileChange {self.pk}"
