"""Two workers on one message, with real threads and real database connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from assure.notifications import delivery
from assure.notifications.models import OutboxMessage
from assure.notifications.services import email_queue

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20  # seconds: only reached when the code under test is broken


class BlockingBackend:
    """Holds the first send until the test releases it."""

    entered = threading.Event()
    release = threading.Event()
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        BlockingBackend.entered.set()
        BlockingBackend.release.wait(WAIT)
        BlockingBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def blocking(settings, outbox_dir):
    settings.ASSURE_EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "tests.notifications.test_concurrency.BlockingBackend"
    BlockingBackend.entered = threading.Event()
    BlockingBackend.release = threading.Event()
    BlockingBackend.sent = []
    # Queue without delivering: the on-commit task is swallowed by the dummy backend.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return BlockingBackend


def _in_thread(target) -> tuple[threading.Thread, list]:
    results: list = []

    def run() -> None:
        try:
            results.append(target())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def test_a_message_being_sent_is_not_sent_by_a_second_worker(blocking):
    message = email_queue(
        to="zoe@example.org", template="test_notice", context={}, idempotency_key="race"
    )
    thread, results = _in_thread(lambda: delivery.outbox_deliver(message_id=message.pk))
    assert blocking.entered.wait(WAIT)
    try:
        assert delivery.outbox_deliver(message_id=message.pk) is False
        assert delivery.outbox_dispatch_due() == 0
    finally:
        blocking.release.set()
        thread.join(WAIT)
    assert results == [True]
    assert len(blocking.sent) == 1
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.SENT


def test_a_locked_row_is_skipped_not_waited_for(blocking):
    """While another transaction holds the row (a worker claiming it), a claim returns at once."""
    if not connection.features.has_select_for_update_skip_locked:
        # SQLite has one writer at a time: the conditional update alone decides the claim, which
        # the test above proves on every database.
        assert connection.vendor == "sqlite"
        return
    message = email_queue(
        to="zoe@example.org", template="test_notice", context={}, idempotency_key="locked"
    )
    locked = threading.Event()
    done = threading.Event()

    def hold_lock() -> None:
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=message.pk)
            locked.set()
            done.wait(WAIT)

    thread, _results = _in_thread(hold_lock)
    assert locked.wait(WAIT)
    try:
        # Were the row waited for, this call would block until `hold_lock` gives up and then
        # send the message, returning True.
        assert delivery.outbox_deliver(message_id=message.pk) is False
    finally:
        done.set()
        thread.join(WAIT)
    assert blocking.sent == []
    blocking.release.set()
    assert delivery.outbox_deliver(message_id=message.pk) is True
