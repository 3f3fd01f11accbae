"""The RQ path: queueing on commit puts a job on Redis, and an RQ worker delivers it once."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from assure.notifications.models import OutboxMessage
from assure.notifications.services import email_queue, outbox_dispatch_due

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _require_redis() -> None:
    # Like the PostgreSQL-only tests of the audit trail: these run in the pass with REDIS_URL set
    # (PostgreSQL + Redis); the SQLite pass has no Redis by design.
    if not django_settings.REDIS_URL:
        pytest.skip("RQ path: runs in the pass with REDIS_URL set")


@pytest.fixture
def rq_queue(settings):
    _require_redis()
    import django_rq

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": django_settings.REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    queue = django_rq.get_queue("default")
    queue.empty()
    yield queue
    queue.empty()


def _work(queue) -> None:
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    worker.work(burst=True)


def test_commit_enqueues_one_job_and_the_worker_sends_once(
    rq_queue, smtp_locmem, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = email_queue(
            to="zoe@example.org", template="test_notice", context={}, idempotency_key="rq-1"
        )
    assert rq_queue.count == 1
    assert smtp_locmem == []  # nothing is sent by the web process itself
    # A duplicated job (redelivered after a worker crash) is harmless.
    from assure.notifications.tasks import outbox_deliver_task

    outbox_deliver_task.enqueue(message.pk)
    assert rq_queue.count == 2
    _work(rq_queue)
    assert rq_queue.count == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(smtp_locmem) == 1


def test_redis_down_at_commit_loses_nothing(
    settings, smtp_locmem, django_capture_on_commit_callbacks, caplog
):
    """A queue unreachable at commit: the change commits, the message waits for the dispatcher."""
    _require_redis()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 5}}
    with django_capture_on_commit_callbacks(execute=True):
        message = email_queue(
            to="zoe@example.org", template="test_notice", context={}, idempotency_key="rq-down"
        )
    assert "could not be enqueued (ConnectionError)" in caplog.text
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert outbox_dispatch_due() == 0  # not yet due for a second try
