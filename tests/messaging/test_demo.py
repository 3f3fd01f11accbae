"""The demo's conversations: one answered and unread, one waiting; a demo advisor who can log in."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from assure.identity.demo import demo_account
from assure.messaging.demo import DEMO_ADVISOR, DEMO_ADVISOR_PASSWORD, demo_messaging
from assure.messaging.models import Thread
from assure.notifications.models import OutboxMessage
from assure.ops.demo import DEMO_STEPS, demo_members

pytestmark = pytest.mark.django_db


def test_demo_messaging():
    assert demo_messaging in DEMO_STEPS
    demo_members(True)
    demo_account(True)
    report = demo_messaging(True)
    assert "2 conversations" in report[0]
    threads = Thread.objects.order_by("id")
    assert [t.status for t in threads] == ["waiting_member", "waiting_advisor"]
    assert threads[0].unread_by_member
    assert OutboxMessage.objects.filter(template="messaging_answer").count() == 1
    user = authenticate(username=DEMO_ADVISOR, password=DEMO_ADVISOR_PASSWORD)
    assert user is not None
    assert user.has_perm("messaging.answer_thread")
    # A second run, or a run on a filled database, adds nothing.
    demo_messaging(True)
    demo_messaging(False)
    assert Thread.objects.count() == 2
