"""Reads of the outbox: backlog figures for readiness and dashboards, the demo viewer's lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from assure.core.exceptions import NotFound
from assure.notifications.models import OutboxMessage


def outbox_backlog(now: datetime | None = None) -> dict[str, Any]:
    """Pending, sending and failed counts and the age of the oldest undelivered message.

    No personal data: safe to publish on /readyz and to scrape for alerts (a growing oldest age
    means the worker is down; a failed count above zero needs an operator).
    """
    now = now or timezone.now()
    counts = dict(
        # `status IN (...)` rather than `!= sent`: the index on status serves it, and sent
        # messages (nearly all rows) are never read.
        OutboxMessage.objects.filter(
            status__in=[
                OutboxMessage.Status.PENDING,
                OutboxMessage.Status.SENDING,
                OutboxMessage.Status.FAILED,
            ]
        )
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    oldest = OutboxMessage.objects.filter(
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
    ).aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "pending": counts.get(OutboxMessage.Status.PENDING, 0),
        "sending": counts.get(OutboxMessage.Status.SENDING, 0),
        "failed": counts.get(OutboxMessage.Status.FAILED, 0),
        "oldest_pending_age_seconds": (
            max(0, int((now - oldest).total_seconds())) if oldest is not None else 0
        ),
    }


def outbox_list_recent(*, channel: str | None = None, limit: int = 200) -> QuerySet[OutboxMessage]:
    """Newest first, for the demo viewer."""
    queryset = OutboxMessage.objects.order_by("-created_at", "-id")
    if channel:
        queryset = queryset.filter(channel=channel)
    return queryset[:limit]


def outbox_get(*, message_id: int, channel: str | None = None) -> OutboxMessage:
    queryset = OutboxMessage.objects.all()
    if channel:
        queryset = queryset.filter(channel=channel)
    message = queryset.filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    return message
