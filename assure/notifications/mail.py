"""E-mail delivery: an RFC 5322 file per message in the spool, or SMTP through Django's mail API."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime

from django.conf import settings
from django.core.mail import EmailMessage

from assure.notifications.files import atomic_write, day_folder, relative, safe_key
from assure.notifications.models import OutboxMessage


def message_id_for(idempotency_key: str) -> str:
    """A Message-ID derived from the key: a repeated send after a crash carries the same one, so
    receiving systems drop the duplicate. Hashed, so that the key itself is not disclosed."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "assure.invalid"
    return f"<{digest}@{domain}>"


def email_build(message: OutboxMessage, *, now: datetime) -> EmailMessage:
    created = message.created_at or now
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient["email"]],
        headers={
            "Message-ID": message_id_for(message.idempotency_key),
            # The date the message was written, stable across retries.
            "Date": format_datetime(created),
            "Content-Language": message.language,
            # Tell auto-responders and list software this is an automatic notice.
            "Auto-Submitted": "auto-generated",
        },
    )


def email_deliver(message: OutboxMessage, *, now: datetime) -> str:
    email = email_build(message, now=now)
    if settings.ASSURE_EMAIL_DELIVERY == "smtp":
        email.send(fail_silently=False)
        return ""
    path = (
        day_folder("email", message.created_at or now) / f"{safe_key(message.idempotency_key)}.eml"
    )
    atomic_write(path, email.message().as_bytes(linesep="\r\n"))
    return relative(path)
