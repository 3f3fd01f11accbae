"""Background tasks of the outbox (Django tasks: database backend, or RQ with REDIS_URL)."""

from __future__ import annotations

from django_tasks import task

from assure.notifications import delivery


@task()
def outbox_deliver_task(message_id: int) -> bool:
    """Deliver one message. Safe to run twice: the claim lets only one run send it."""
    return delivery.outbox_deliver(message_id=message_id)


@task()
def outbox_dispatch_due_task() -> int:
    """Re-enqueue what is due; the worker runs it every 30 seconds."""
    return delivery.outbox_dispatch_due()
