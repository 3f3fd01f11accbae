"""The unread notice that Accueil includes."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from assure.messaging import services
from tests.messaging.helpers import advisor, write

pytestmark = pytest.mark.django_db

TEMPLATE = Template("{% load messaging %}{% messaging_unread_notice %}")


def _render(member) -> str:
    request = RequestFactory().get("/")
    request.member = member
    return TEMPLATE.render(Context({"request": request}))


def test_counts_unread_answers(member, other_member):
    user = advisor()
    for _ in range(2):
        thread = write(member)
        services.thread_answer(actor=services.staff_actor(user), user=user, thread=thread, body="R")
    write(member)  # not answered
    theirs = write(other_member)
    services.thread_answer(actor=services.staff_actor(user), user=user, thread=theirs, body="R")
    html = _render(member)
    assert "Vous avez 2 nouvelles réponses de conseillers." in html
    assert 'href="/ma-messagerie/"' in html
    services.thread_mark_read(thread=thread)
    assert "Vous avez 1 nouvelle réponse d'un conseiller." in _render(member)


def test_nothing_for_no_unread_or_no_member(member):
    write(member)
    assert _render(member).strip() == ""
    assert _render(None).strip() == ""
