"""Delivery of outbox messages: claim, send, record the outcome, retry with back-off.

Every step is safe to repeat. A message is claimed by one atomic update (pending → sending with a
lease); a worker killed while sending leaves a lease that expires, after which the dispatcher hands
the message to another worker. E-mails carry a Message-ID derived from the idempotency key and
files are written under the key's name, so the rare repeat after such a crash is recognisable as the
same message by whoever receives it.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from assure.core.services import Actor, audit_record
from assure.notifications.models import OutboxMessage

logger = logging.getLogger(__name__)

# Long enough for a slow SMTP server (EMAIL_TIMEOUT is 10 s) or a long letter; short enough that a
# killed worker's message goes out again within minutes (settings.OUTBOX_LEASE_SECONDS).
LEASE_SECONDS = 300


def lease_seconds() -> int:
    return int(getattr(settings, "OUTBOX_LEASE_SECONDS", LEASE_SECONDS))


# A message whose task was queued this recently is left alone by the dispatcher.
REDISPATCH_SECONDS = 120
# Back-off stops growing at six hours: with the default 12 attempts, a message is retried for
# about two days before operators see it as failed.
MAX_BACKOFF_SECONDS = 6 * 3600
DISPATCH_BATCH = 500

_ACTOR = Actor.system("outbox")


class PermanentDeliveryError(Exception):
    """The receiving side refused for good: retrying would not help."""


def _claimable(now: datetime) -> Q:
    return Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxMessage.Status.SENDING, lease_expires_at__lt=now
    )


def _locked(queryset: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """Row locks where the database has them; SQLite serialises writers by itself."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def backoff_seconds(attempts: int) -> int:
    """Delay before the next attempt after `attempts` failed ones: base * 2^(attempts - 1)."""
    base = int(settings.OUTBOX_RETRY_BASE_SECONDS)
    exponent = max(0, attempts - 1)
    if exponent > 30:  # beyond any cap; avoids computing huge integers
        return MAX_BACKOFF_SECONDS
    return int(min(base * (2**exponent), MAX_BACKOFF_SECONDS))


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    with transaction.atomic():
        message = _locked(OutboxMessage.objects.filter(_claimable(now), pk=message_id)).first()
        if message is None:
            return None
        attempts = message.attempts + 1
        # The conditional update is the claim itself: of two workers that both read the row
        # (possible on databases without row locks), only one sees a row count of 1.
        claimed = (
            OutboxMessage.objects.filter(
                _claimable(now), pk=message_id, attempts=message.attempts
            ).update(
                status=OutboxMessage.Status.SENDING,
                attempts=attempts,
                lease_expires_at=now + timedelta(seconds=lease_seconds()),
                dispatched_at=None,
            )
            == 1
        )
        if not claimed:
            return None
        message.refresh_from_db()
        return message


def _error_label(exc: BaseException) -> str:
    """The error's class, and an SMTP reply code: never its message, which may quote an address."""
    label = exc.__class__.__name__
    if isinstance(exc, smtplib.SMTPResponseException):
        label = f"{label} {exc.smtp_code}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _msg in exc.recipients.values()})
        label = f"{label} {','.join(codes)}"
    return label[:200]


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, PermanentDeliveryError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    return False


def _deliver(message: OutboxMessage, now: datetime) -> str:
    """Send through the channel; returns the artefact path (relative to OUTBOX_DIR) if any."""
    if message.channel == OutboxMessage.Channel.EMAIL:
        from assure.notifications.mail import email_deliver

        return email_deliver(message, now=now)
    from assure.notifications.letters import letter_deliver

    return letter_deliver(message, now=now)


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Claim, deliver and record one message. Returns True when this call sent it."""
    now = now or timezone.now()
    message = _claim(message_id, now)
    if message is None:
        return False
    if message.attempts > int(settings.OUTBOX_MAX_ATTEMPTS):
        # Reclaimed after a crash with no attempt left: stop here, operators decide.
        _mark_failed(message, "AttemptsExhausted", now)
        return False
    try:
        artefact = _deliver(message, now)
    except Exception as exc:  # every failure is recorded, then retried or reported
        _record_failure(message, exc, now)
        return False
    sent_at = timezone.now()
    updated = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.SENDING, attempts=message.attempts
    ).update(
        status=OutboxMessage.Status.SENT,
        sent_at=sent_at,
        lease_expires_at=None,
        next_attempt_at=None,
        last_error="",
        artefact=artefact,
    )
    if updated:
        audit_record(
            actor=_ACTOR,
            action="notification.sent",
            member_id=message.member_id,
            object_type="outbox_message",
            object_id=message.pk,
            data={"channel": message.channel, "template": message.template},
        )
    logger.info("outbox message %s sent (attempt %s)", message.pk, message.attempts)
    return bool(updated)


def _record_failure(message: OutboxMessage, exc: BaseException, now: datetime) -> None:
    label = _error_label(exc)
    if _is_permanent(exc) or message.attempts >= int(settings.OUTBOX_MAX_ATTEMPTS):
        _mark_failed(message, label, now)
        return
    delay = backoff_seconds(message.attempts)
    OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.SENDING, attempts=message.attempts
    ).update(
        status=OutboxMessage.Status.PENDING,
        next_attempt_at=now + timedelta(seconds=delay),
        lease_expires_at=None,
        last_error=label,
    )
    logger.warning(
        "outbox message %s attempt %s failed (%s), next in %ss",
        message.pk,
        message.attempts,
        label,
        delay,
    )


def _mark_failed(message: OutboxMessage, label: str, now: datetime) -> None:
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxMessage.Status.SENDING, attempts=message.attempts
        ).update(
            status=OutboxMessage.Status.FAILED,
            next_attempt_at=None,
            lease_expires_at=None,
            last_error=label,
        )
        if updated:
            audit_record(
                actor=_ACTOR,
                action="notification.failed",
                member_id=message.member_id,
                object_type="outbox_message",
                object_id=message.pk,
                data={"channel": message.channel, "template": message.template, "error": label},
            )
    logger.error(
        "outbox message %s failed after %s attempts (%s)", message.pk, message.attempts, label
    )


def outbox_enqueue(message_id: int) -> bool:
    """Put a delivery task on the queue. A queue that is down is not an error for the caller:
    the message stays due and the dispatcher enqueues it again."""
    from assure.notifications.tasks import outbox_deliver_task

    try:
        outbox_deliver_task.enqueue(message_id)
    except Exception as exc:  # the dispatcher is the safety net
        logger.warning(
            "outbox message %s could not be enqueued (%s)", message_id, exc.__class__.__name__
        )
        return False
    return True


def outbox_dispatch_due(now: datetime | None = None) -> int:
    """Re-enqueue messages that are due: a retry whose time has come, a message whose task was
    lost, or one held by a worker that died (expired lease). Returns how many were enqueued."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=REDISPATCH_SECONDS)
    due = _claimable(now) & (Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=quiet_since))
    with transaction.atomic():
        ids = list(
            _locked(OutboxMessage.objects.filter(due))
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:DISPATCH_BATCH]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(dispatched_at=now)
    count = 0
    for message_id in ids:
        if outbox_enqueue(message_id):
            count += 1
    if ids:
        logger.info("outbox dispatcher enqueued %s due message(s)", count)
    return count
