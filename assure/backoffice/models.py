"""Staff of the fund: their second factor, one-time enrolment links, and identity checks by phone.

Staff are Django `auth.User` rows (members are not); roles are groups holding the permissions
declared on `StaffProfile` (see `assure/backoffice/roles.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from assure.members.models import Member


class StaffProfile(models.Model):
    """What Django's user lacks: the authenticator app (TOTP), mandatory from the first sign-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    totp_secret = models.CharField(max_length=64, blank=True, default="")
    totp_enabled_at = models.DateTimeField(null=True, blank=True)
    # The last accepted time step: a code is never accepted twice.
    totp_last_counter = models.BigIntegerField(default=0)

    class Meta:
        permissions = [
            ("view_member", "Can search members and open a member's file"),
            ("check_identity", "Can run the identity check of a caller"),
            ("send_code", "Can send a provisional code after a passed check"),
            ("unlock_account", "Can unlock a member's account"),
            ("terminate_account", "Can terminate or reactivate a member's account"),
            ("view_dashboard", "Can see the supervisor dashboard"),
            ("view_audit", "Can search the audit trail"),
            ("manage_staff", "Can create and deactivate staff accounts"),
            ("process_cards", "Can follow card orders and export them to the card maker"),
        ]

    def __str__(self) -> str:
        return f"StaffProfile {self.pk}"

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)


class StaffEnrolment(models.Model):
    """A one-time link to choose a password and enrol the authenticator app."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_enrolments"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"StaffEnrolment {self.pk}"


class IdentityCheck(models.Model):
    """The outcome of a caller's identity check; a passed one allows one code to be sent."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="identity_checks"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identity_checks")
    passed = models.BooleanField()
    # The names of the questions asked, never the answers.
    questions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"IdentityCheck {self.pk}"
