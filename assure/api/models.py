"""Credentials of the fund's systems for the feed endpoint (API.md, "Fund systems")."""

from __future__ import annotations

from django.db import models


class FeedToken(models.Model):
    """A named token for `POST /api/v1/feeds/...`. Only its SHA-256 is kept: the token itself is
    shown once, at creation, and a leaked database does not let anyone send feeds.
    """

    name = models.CharField(max_length=100, unique=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
