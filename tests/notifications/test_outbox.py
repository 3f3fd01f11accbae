"""The outbox's promises: nothing sent for a rolled-back change, nothing lost, nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from assure.core.exceptions import ValidationFailed
from assure.core.models import AuditEvent
from assure.notifications import delivery
from assure.notifications.models import OutboxMessage
from assure.notifications.selectors import outbox_backlog
from assure.notifications.services import email_queue, outbox_dispatch_due

pytestmark = pytest.mark.django_db

CONTEXT = {"first_name": "Zoé"}


def queue(key: str = "k-1", to: str = "zoe@example.org") -> OutboxMessage:
    return email_queue(to=to, template="test_notice", context=CONTEXT, idempotency_key=key)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(smtp_locmem):
    class Boom(Exception):
        pass

    def change_then_fail() -> None:
        with transaction.atomic():
            queue()
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    assert smtp_locmem == []
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_commit_sends_exactly_once(smtp_locmem):
    with transaction.atomic():
        message = queue()
        # Nothing leaves before the commit.
        assert smtp_locmem == []
    assert len(smtp_locmem) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert smtp_locmem[0].to == ["zoe@example.org"]
    assert AuditEvent.objects.filter(action="notification.sent", object_id=str(message.pk)).exists()


def test_same_key_twice_is_one_message(smtp_locmem, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = queue(key="payment-42")
        second = queue(key="payment-42", to="other@example.org")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert len(smtp_locmem) == 1
    assert smtp_locmem[0].to == ["zoe@example.org"]


def test_task_run_twice_delivers_once(smtp_locmem, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()
    assert len(smtp_locmem) == 1
    assert delivery.outbox_deliver(message_id=message.pk) is False
    from assure.notifications.tasks import outbox_deliver_task

    outbox_deliver_task.enqueue(message.pk)
    assert len(smtp_locmem) == 1


def test_message_claimed_by_another_worker_is_left_alone(smtp_locmem):
    message = queue()  # the on-commit task never runs: the test transaction is not committed
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENDING,
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert delivery.outbox_deliver(message_id=message.pk) is False
    assert outbox_dispatch_due() == 0
    assert smtp_locmem == []


def test_failure_retries_with_exponential_backoff_then_fails(settings, flaky):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    flaky.failures_left = 100
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        message = queue()
        assert delivery.outbox_deliver(message_id=message.pk) is False
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 1
        assert message.next_attempt_at == start + timedelta(seconds=30)
        # The error's class only: the exception's text quoted the address.
        assert message.last_error == "ConnectionRefusedError"

        # Not due yet: neither the dispatcher nor a stray task sends it early.
        traveller.shift(timedelta(seconds=29))
        assert outbox_dispatch_due() == 0
        assert delivery.outbox_deliver(message_id=message.pk) is False
        message.refresh_from_db()
        assert message.attempts == 1

        expected_delays = [60, 120]
        for delay in expected_delays:
            traveller.move_to(message.next_attempt_at)
            assert outbox_dispatch_due() == 1  # the immediate backend runs the task at once
            message.refresh_from_db()
            assert message.status == OutboxMessage.Status.PENDING
            assert message.next_attempt_at == timezone.now() + timedelta(seconds=delay)

        traveller.move_to(message.next_attempt_at)
        assert outbox_dispatch_due() == 1
        message.refresh_from_db()
        assert message.attempts == 4
        assert message.status == OutboxMessage.Status.FAILED
        assert message.next_attempt_at is None
        assert outbox_backlog()["failed"] == 1
        # Failed is final: the dispatcher leaves it to operators.
        traveller.shift(timedelta(days=3))
        assert outbox_dispatch_due() == 0
    assert flaky.sent == []
    failed_event = AuditEvent.objects.get(action="notification.failed")
    assert failed_event.data["error"] == "ConnectionRefusedError"
    assert "example.org" not in str(failed_event.data)


def test_failure_then_success(settings, flaky):
    flaky.failures_left = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        message = queue()
        delivery.outbox_deliver(message_id=message.pk)
        traveller.shift(timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS))
        assert outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert len(flaky.sent) == 1


def test_backoff_is_capped():
    assert delivery.backoff_seconds(1) == 30
    assert delivery.backoff_seconds(2) == 60
    assert delivery.backoff_seconds(11) == delivery.MAX_BACKOFF_SECONDS
    assert delivery.backoff_seconds(500) == delivery.MAX_BACKOFF_SECONDS


def test_smtp_refusal_is_final_without_retries(settings, flaky):
    import smtplib

    class Refused(smtplib.SMTPRecipientsRefused):
        def __init__(self, _text):
            super().__init__({"zoe@example.org": (550, b"no such user")})

    flaky.failures_left = 1
    flaky.error = Refused
    message = queue()
    delivery.outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.last_error == "Refused 550"


def test_dispatcher_picks_up_a_lost_task(smtp_locmem):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        message = queue()  # its on-commit task is lost with the uncommitted test transaction
        # Just queued: the task is presumed on its way, the dispatcher does not duplicate it.
        assert outbox_dispatch_due() == 0
        traveller.shift(timedelta(seconds=delivery.REDISPATCH_SECONDS + 1))
        assert outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(smtp_locmem) == 1


def test_dispatcher_takes_back_a_message_from_a_dead_worker(smtp_locmem):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        message = queue()
        # A worker claimed it, then was killed before sending.
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.SENDING,
            attempts=1,
            lease_expires_at=start + timedelta(seconds=delivery.LEASE_SECONDS),
            dispatched_at=None,
        )
        assert outbox_dispatch_due() == 0
        traveller.shift(timedelta(seconds=delivery.LEASE_SECONDS + 1))
        assert outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert len(smtp_locmem) == 1


def test_dispatcher_does_not_flood_the_queue(settings):
    """A due message whose task is queued but not yet run is enqueued again only after a while."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        queue()
        traveller.shift(timedelta(seconds=delivery.REDISPATCH_SECONDS + 1))
        assert outbox_dispatch_due() == 1
        assert outbox_dispatch_due() == 0
        traveller.shift(timedelta(seconds=delivery.REDISPATCH_SECONDS + 1))
        assert outbox_dispatch_due() == 1
    assert len(default_task_backend.results) == 2  # type: ignore[attr-defined]


def test_backlog_figures(smtp_locmem):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        queue(key="a")
        traveller.shift(timedelta(seconds=90))
        queue(key="b")
        OutboxMessage.objects.filter(idempotency_key="b").update(status="failed")
        backlog = outbox_backlog()
    assert backlog == {
        "pending": 1,
        "sending": 0,
        "failed": 1,
        "oldest_pending_age_seconds": 90,
    }


def test_invalid_address_and_key_are_refused(smtp_locmem):
    with pytest.raises(ValidationFailed):
        queue(to="not-an-address")
    with pytest.raises(ValidationFailed):
        queue(key="")
    assert OutboxMessage.objects.count() == 0


def test_logs_never_carry_the_address(smtp_locmem, caplog, django_capture_on_commit_callbacks):
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        queue(to="zoe.lefevre@example.org")
    assert "zoe.lefevre" not in caplog.text
    assert "example.org" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_database_task_backend_and_its_worker(settings, smtp_locmem):
    """The embedded set-up of a single machine: the task row is written at commit, the worker
    delivers it, and running the worker again sends nothing more."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    with transaction.atomic():
        message = queue(key="db-backend")
        assert DBTaskResult.objects.count() == 0
    assert DBTaskResult.objects.count() == 1
    assert smtp_locmem == []
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(smtp_locmem) == 1
    from assure.notifications.tasks import outbox_deliver_task

    outbox_deliver_task.enqueue(message.pk)
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert len(smtp_locmem) == 1
