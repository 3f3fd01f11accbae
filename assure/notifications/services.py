"""Writes of the outbox: queue an e-mail or a letter in the caller's transaction.

The message is rendered and stored with the change that causes it; a task delivers it once the
transaction commits (STYLE.md, convention 5). A rolled-back change therefore sends nothing, and a
crash after commit loses nothing: `outbox_dispatch_due` finds what was not delivered.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import ValidationFailed
from assure.notifications.delivery import outbox_dispatch_due, outbox_enqueue
from assure.notifications.models import OutboxMessage
from assure.notifications.postal import PostalRecipient, address_block
from assure.notifications.rendering import email_render, letter_render

__all__ = ["email_queue", "letter_queue", "outbox_dispatch_due"]

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200


def _check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            _("La clé d'idempotence est obligatoire (200 caractères au plus)."),
            errors={"idempotency_key": ["invalid"]},
        )


def _existing(idempotency_key: str) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()


def _store(*, idempotency_key: str, fields: dict[str, Any]) -> OutboxMessage:
    """Insert once; a concurrent insert of the same key yields the row the other caller wrote."""
    now = timezone.now()
    with transaction.atomic():
        try:
            # A savepoint, so that a duplicate key leaves the caller's transaction usable.
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    idempotency_key=idempotency_key,
                    next_attempt_at=now,
                    dispatched_at=now,
                    **fields,
                )
        except IntegrityError:
            existing = _existing(idempotency_key)
            if existing is None:  # not a duplicate key: a real integrity problem
                raise
            return existing
        message_id = message.pk
        transaction.on_commit(lambda: outbox_enqueue(message_id))
    logger.info("outbox message %s queued (%s, %s)", message_id, message.channel, message.template)
    return message


def email_queue(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    idempotency_key: str,
    language: str = "fr",
    member_id: int | None = None,
) -> OutboxMessage:
    """Queue one e-mail. Queueing the same key again returns the first message and sends nothing."""
    _check_key(idempotency_key)
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    to = to.strip()
    try:
        validate_email(to)
    except ValidationError as exc:
        raise ValidationFailed(
            _("L'adresse électronique est invalide."), errors={"to": ["invalid"]}
        ) from exc
    rendered = email_render(template=template, context=context, language=language)
    return _store(
        idempotency_key=idempotency_key,
        fields={
            "channel": OutboxMessage.Channel.EMAIL,
            "template": template,
            "language": language,
            "member_id": member_id,
            "recipient": {"email": to},
            "subject": rendered.subject[:300],
            "body": rendered.body,
        },
    )


def letter_queue(
    *,
    recipient: PostalRecipient,
    template: str,
    context: dict[str, Any],
    idempotency_key: str,
    language: str = "fr",
    member_id: int | None = None,
) -> OutboxMessage:
    """Queue one postal letter, printed as a PDF in the day's spool for the print house."""
    _check_key(idempotency_key)
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    block = address_block(recipient)
    if len(block) < 2 or not recipient.postal_code.strip() or not recipient.city.strip():
        raise ValidationFailed(
            _("L'adresse postale est incomplète."), errors={"recipient": ["incomplete"]}
        )
    rendered = letter_render(template=template, context=context, language=language)
    return _store(
        idempotency_key=idempotency_key,
        fields={
            "channel": OutboxMessage.Channel.LETTER,
            "template": template,
            "language": language,
            "member_id": member_id,
            "recipient": recipient.as_dict(),
            "subject": rendered.subject[:300],
            "body": rendered.body,
        },
    )
