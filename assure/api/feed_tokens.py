"""Feed tokens: created, listed, revoked from the command line; checked by the feed endpoint.

A token is 32 random bytes; it is long enough that a plain SHA-256 (no salt, no slow hash) is
the right store: it cannot be guessed, and the lookup stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.api.models import FeedToken
from assure.core.exceptions import DomainError, NotFound, Unauthenticated
from assure.core.services import Actor, audit_record

TOKEN_PREFIX = "afd_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


class FeedTokenNameTaken(DomainError):
    code = "feed_token_name_taken"
    title = _("Un jeton de flux porte déjà ce nom.")


class InvalidFeedToken(Unauthenticated):
    code = "invalid_token"
    title = _("Jeton de flux absent, inconnu ou révoqué.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_create(*, name: str, actor: Actor) -> tuple[FeedToken, str]:
    """The new token and its clear value, which is never stored and cannot be shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            record = FeedToken.objects.create(name=name, token_sha256=_digest(token))
            audit_record(
                actor=actor,
                action="feed_token.created",
                object_type="feed_token",
                object_id=record.pk,
                data={"name": name},
            )
    except IntegrityError as exc:
        raise FeedTokenNameTaken() from exc
    return record, token


def feed_token_revoke(*, name: str, actor: Actor) -> FeedToken:
    with transaction.atomic():
        record = FeedToken.objects.select_for_update().filter(name=name).first()
        if record is None:
            raise NotFound()
        if record.revoked_at is None:
            record.revoked_at = timezone.now()
            record.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="feed_token.revoked",
                object_type="feed_token",
                object_id=record.pk,
                data={"name": name},
            )
    return record


def feed_token_list() -> list[FeedToken]:
    return list(FeedToken.objects.all())


def feed_token_authenticate(token: str | None) -> FeedToken:
    """The live token matching `token`; missing, unknown and revoked answer alike."""
    if not token:
        raise InvalidFeedToken()
    record = FeedToken.objects.filter(token_sha256=_digest(token), revoked_at=None).first()
    if record is None:
        raise InvalidFeedToken()
    FeedToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record
