"""`assure feed-token create|list|revoke`: the token is shown once and stored only hashed."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assure.api.models import FeedToken
from assure.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def command(*args: str) -> str:
    out = StringIO()
    call_command("feed-token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_once_and_stores_its_sha256_only():
    out = command("create", "register-nightly")
    token = out.strip().splitlines()[-1]
    record = FeedToken.objects.get(name="register-nightly")
    assert record.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(FeedToken.objects.values().get())
    assert len(token) > 40
    assert AuditEvent.objects.filter(action="feed_token.created").count() == 1

    listing = command("list")
    assert "register-nightly" in listing
    assert "active" in listing
    assert token not in listing


def test_a_name_is_used_once():
    command("create", "register-nightly")
    with pytest.raises(CommandError, match="already exists"):
        command("create", "register-nightly")


def test_revoke_marks_the_token_revoked():
    command("create", "register-nightly")
    assert "revoked" in command("revoke", "register-nightly")
    assert FeedToken.objects.get().revoked
    assert "revoked" in command("list")
    with pytest.raises(CommandError, match="No feed token"):
        command("revoke", "unknown")
