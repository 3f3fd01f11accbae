"""The link between a FranceConnect identity and a member's account (docs FRANCECONNECT.md).

A link is keyed by `(issuer, sub)`: `sub` is pairwise (FranceConnect gives each service its own),
so it means nothing without its issuer. Links are never made from an e-mail address.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from assure.identity.models import Account


class FranceConnectLink(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="franceconnect_links"
    )
    issuer = models.CharField(max_length=255)
    sub = models.CharField(max_length=255)
    # The identity pivot as FranceConnect last returned it: shown to the member, refreshed at
    # each login, so that a change at the identity provider is visible rather than silent.
    given_name = models.CharField(max_length=255, blank=True, default="")
    family_name = models.CharField(max_length=255, blank=True, default="")
    preferred_username = models.CharField(max_length=255, blank=True, default="")
    birthdate = models.CharField(max_length=10, blank=True, default="")
    gender = models.CharField(max_length=10, blank=True, default="")
    birthplace = models.CharField(max_length=5, blank=True, default="")
    birthcountry = models.CharField(max_length=5, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    # How the person authenticated at the identity provider, for the last login.
    last_acr = models.CharField(max_length=64, blank=True, default="")
    last_amr = models.JSONField(default=list, blank=True)
    last_auth_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_login_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sub"], name="franceconnect_link_unique")
        ]

    def __str__(self) -> str:
        return f"FranceConnectLink {self.pk}"
