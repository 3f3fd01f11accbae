"""Member accounts: codes, devices, sessions and API tokens (DESIGN.md, capability 1).

Every code and token is stored hashed: secret codes with Argon2id, random tokens and short-lived
one-time codes with an HMAC keyed by SECRET_KEY (a copy of the database alone reveals nothing).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from assure.members.models import Member


class Account(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        TERMINATED = "terminated"

    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="account")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    # Empty until the first login has replaced the provisional code by a definitive one.
    secret_code_hash = models.CharField(max_length=256, blank=True, default="")
    must_change_code = models.BooleanField(default=True)
    code_changed_at = models.DateTimeField(null=True, blank=True)
    # An address typed at sign-up when the register had none; used for contact once the first
    # login has proven that the member reads it.
    email = models.EmailField(max_length=254, blank=True, default="")
    email_verified = models.BooleanField(default=False)
    totp_secret = models.CharField(max_length=64, blank=True, default="")
    totp_enabled_at = models.DateTimeField(null=True, blank=True)
    # The last accepted time step: a TOTP code is never accepted twice.
    totp_last_counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Account {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def has_definitive_code(self) -> bool:
        return bool(self.secret_code_hash) and not self.must_change_code

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def contact_email(self) -> str:
        """Where e-mails go: the register's address, else the one proven at first login."""
        if self.member.email:
            return self.member.email
        return self.email if self.email_verified else ""


class Channel(models.TextChoices):
    EMAIL = "email", "e-mail"
    POST = "post", "courrier"


class ProvisionalCode(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="provisional_codes")
    code_hash = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"ProvisionalCode {self.pk}"


class LoginChallenge(models.Model):
    """A login half done: the secret or provisional code was right, one more step is due."""

    class Purpose(models.TextChoices):
        SECOND_FACTOR = "second_factor"
        CODE_CHANGE = "code_change"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="challenges")
    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    methods = models.JSONField(default=list)
    otp_hash = models.CharField(max_length=64, blank=True, default="")
    device_hash = models.CharField(max_length=64, blank=True, default="")
    provisional_code = models.ForeignKey(
        ProvisionalCode, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"LoginChallenge {self.pk}"


class KnownDevice(models.Model):
    """A browser (signed cookie) or an app install (device_id) that passed a second factor."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="devices")
    device_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "device_hash"], name="identity_device_unique"
            )
        ]

    def __str__(self) -> str:
        return f"KnownDevice {self.pk}"


class MemberSession(models.Model):
    """A web session or an app's token family, listed to the member who can end it."""

    class Kind(models.TextChoices):
        WEB = "web"
        APP = "app"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    # HMAC of the web session key: enough to say "this is the current one", useless if read.
    session_key_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    device_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"MemberSession {self.pk}"


class RefreshToken(models.Model):
    """One link of a rotating refresh-token family; the family is its MemberSession."""

    session = models.ForeignKey(MemberSession, on_delete=models.CASCADE, related_name="refresh")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"RefreshToken {self.pk}"


class RecoveryCode(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"RecoveryCode {self.pk}"
