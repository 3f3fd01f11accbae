"""The demo outbox viewer: present in demo mode only, accessible, no inline script or style."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assure.notifications import delivery
from assure.notifications.services import email_queue, letter_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO = True


@pytest.fixture
def sent(file_delivery, recipient):
    email = email_queue(
        to="zoe@example.org",
        template="test_notice",
        context={"first_name": "Zoé"},
        idempotency_key="view-email",
    )
    letter = letter_queue(
        recipient=recipient,
        template="test_notice",
        context={"last_name": "Lefèvre"},
        idempotency_key="view-letter",
    )
    delivery.outbox_deliver(message_id=email.pk)
    delivery.outbox_deliver(message_id=letter.pk)
    return email, letter


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("notifications:outbox_index", {}),
        ("notifications:outbox_email", {"message_id": 1}),
        ("notifications:outbox_letter_pdf", {"message_id": 1}),
    ],
)
def test_hidden_outside_demo_mode(client, settings, sent, name, kwargs):
    settings.DEMO = False
    email, letter = sent
    kwargs = {"message_id": email.pk if "email" in name else letter.pk} if kwargs else {}
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 404


def test_index_lists_newest_first(client, demo, sent):
    response = client.get(reverse("notifications:outbox_index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "zoe@example.org" in html
    assert "Mme Zoé Lefèvre" in html
    assert '<th scope="col" class="govuk-table__header">' in html
    assert "<script>" not in html
    assert "style=" not in html
    assert not re.search(r"<style", html)
    email, letter = sent
    assert reverse("notifications:outbox_email", args=[email.pk]) in html
    assert reverse("notifications:outbox_letter_pdf", args=[letter.pk]) in html


def test_index_newest_first_order(client, demo, smtp_locmem):
    for key in ["first", "second"]:
        email_queue(
            to=f"{key}@example.org", template="test_notice", context={}, idempotency_key=key
        )
    html = client.get(reverse("notifications:outbox_index")).content.decode()
    assert html.index("second@example.org") < html.index("first@example.org")


def test_email_page_shows_the_text(client, demo, sent):
    email, _letter = sent
    response = client.get(reverse("notifications:outbox_email", args=[email.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Bonjour Zoé," in html
    assert "ne met jamais dans ses messages de lien" in html


def test_letter_downloads_as_attachment(client, demo, sent):
    _email, letter = sent
    response = client.get(reverse("notifications:outbox_letter_pdf", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_wrong_kind_or_missing_is_404(client, demo, sent):
    email, letter = sent
    assert client.get(reverse("notifications:outbox_email", args=[letter.pk])).status_code == 404
    assert (
        client.get(reverse("notifications:outbox_letter_pdf", args=[email.pk])).status_code == 404
    )
    assert client.get(reverse("notifications:outbox_email", args=[99999])).status_code == 404


def test_index_query_count_does_not_grow(client, demo, smtp_locmem, django_assert_max_num_queries):
    for i in range(15):
        email_queue(
            to=f"p{i}@example.org", template="test_notice", context={}, idempotency_key=f"q{i}"
        )
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notifications:outbox_index")).status_code == 200
