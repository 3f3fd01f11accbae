"""The SMTP path, through a real SMTP conversation with a local server started by the test."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from assure.notifications import delivery
from assure.notifications.mail import message_id_for
from assure.notifications.models import OutboxMessage
from assure.notifications.services import email_queue

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


def test_sends_through_a_real_smtp_server(settings, outbox_dir, smtp_server):
    controller, recorder = smtp_server
    settings.ASSURE_EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5

    message = email_queue(
        to="zoe@example.org",
        template="test_notice",
        context={"first_name": "Zoé"},
        idempotency_key="smtp-1",
    )
    assert delivery.outbox_deliver(message_id=message.pk)
    # A second run (a duplicated task) sends nothing more.
    assert not delivery.outbox_deliver(message_id=message.pk)

    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.mail_from == settings.DEFAULT_FROM_EMAIL
    assert envelope.rcpt_tos == ["zoe@example.org"]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["Message-ID"] == message_id_for("smtp-1")
    assert received["Subject"].strip().startswith("Votre avis de test — ")
    assert "Bonjour Zoé," in received.get_content()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.artefact == ""


def test_server_down_is_retried_later(settings, outbox_dir):
    settings.ASSURE_EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    message = email_queue(
        to="zoe@example.org", template="test_notice", context={}, idempotency_key="smtp-down"
    )
    assert not delivery.outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.last_error == "ConnectionRefusedError"
    assert message.next_attempt_at is not None
