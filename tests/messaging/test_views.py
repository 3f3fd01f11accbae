"""The member's pages of Ma messagerie."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from assure.core.models import AuditEvent
from assure.messaging import services
from assure.messaging.models import Thread
from tests.messaging import files
from tests.messaging.helpers import advisor, sign_in, upload, write

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\nDeuxième ligne & fin'


@pytest.fixture
def member_client(client, member):
    sign_in(client, member)
    return client


def test_pages_need_a_signed_in_member(client, member):
    thread = write(member)
    for url in [
        reverse("messaging:list"),
        reverse("messaging:new"),
        reverse("messaging:thread", args=[thread.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("identity:login"))


def test_new_message_with_an_attachment(member_client, member):
    response = member_client.get(reverse("messaging:new"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mes indemnités journalières" in page
    assert "Une carte perdue, volée ou abîmée" in page  # the subject's help text
    response = member_client.post(
        reverse("messaging:new"),
        {
            "subject": "carte-vitale",
            "body": "Ma carte est cassée.",
            "attachments": [upload("photo carte.jpg", files.jpeg(with_exif=True), "image/jpeg")],
        },
    )
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:thread", args=[thread.pk])
    assert thread.member == member
    assert thread.team.code == "cartes"
    attachment = thread.messages.get().attachments.get()
    assert attachment.name == "photo carte.jpg"
    assert attachment.content_type == "image/jpeg"
    page = member_client.get(response["Location"]).content.decode()
    assert "Réponse attendue au plus tard le" in page
    assert "jeudi 3 décembre 2026" in page  # 5 working days after Thursday 26 November
    assert reverse("messaging:attachment", args=[attachment.pk]) in page


def test_errors_are_shown_and_nothing_is_cleared(member_client):
    response = member_client.post(
        reverse("messaging:new"),
        {
            "body": "Mon texte",
            "attachments": [upload("virus.pdf", files.fake_executable())],
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Il y a un problème" in page
    assert "Choisissez le sujet de votre message." in page
    assert "Mon texte" in page
    assert not Thread.objects.exists()
    response = member_client.post(
        reverse("messaging:new"),
        {
            "subject": "remboursements",
            "body": "Mon texte",
            "attachments": [upload("virus.pdf", files.fake_executable())],
        },
    )
    page = response.content.decode()
    assert "n&#x27;est ni un PDF, ni une image JPEG ou PNG" in page
    assert 'href="#id_attachments"' in page
    assert not Thread.objects.exists()


def test_html_and_javascript_in_a_message_show_as_text(member_client, member):
    thread = write(member, body=HOSTILE)
    page = member_client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "onerror=alert(1)&gt;<br>Deuxième ligne &amp; fin" in page


def test_html_in_a_message_is_escaped_for_advisors_too(client, member):
    thread = write(member, body=HOSTILE)
    client.force_login(advisor())
    page = client.get(reverse("backoffice:messaging:thread", args=[thread.pk])).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_prefill_from_a_payment_is_validated(member_client):
    url = reverse("messaging:new")
    page = member_client.get(url + "?sujet=remboursements&reference=PAY-2026-7").content.decode()
    assert 'value="remboursements" checked' in page
    assert "PAY-2026-7" in page
    page = member_client.get(
        url + "?sujet=inconnu&reference=%3Cscript%3Ealert(1)%3C/script%3E"
    ).content.decode()
    assert " checked" not in page
    assert "portera sur le paiement" not in page
    assert "&lt;script" not in page
    assert "<script>alert" not in page


def test_prefilled_reference_is_kept_on_the_thread(member_client):
    member_client.post(
        reverse("messaging:new"),
        {"subject": "remboursements", "body": "Ce paiement ?", "reference": "PAY-2026-7"},
    )
    assert Thread.objects.get().reference == "PAY-2026-7"


def test_a_forged_reference_is_refused(member_client):
    response = member_client.post(
        reverse("messaging:new"),
        {"subject": "remboursements", "body": "Ce paiement ?", "reference": "../../etc"},
    )
    assert response.status_code == 200
    assert not Thread.objects.exists()


def test_list_shows_unread_answers_until_opened(member_client, member):
    thread = write(member)
    user = advisor()
    services.thread_answer(actor=services.staff_actor(user), user=user, thread=thread, body="R")
    page = member_client.get(reverse("messaging:list")).content.decode()
    assert "Nouvelle réponse" in page
    member_client.get(reverse("messaging:thread", args=[thread.pk]))
    page = member_client.get(reverse("messaging:list")).content.decode()
    assert "Nouvelle réponse" not in page


def test_list_queries_do_not_grow_with_threads(
    member_client, member, django_assert_max_num_queries
):
    for _ in range(3):
        write(member)
    with django_assert_max_num_queries(12) as few:
        member_client.get(reverse("messaging:list"))
    for _ in range(15):
        write(member)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = member_client.get(reverse("messaging:list"))
    assert response.content.decode().count('href="/ma-messagerie/') >= 18


def test_thread_queries_do_not_grow_with_messages(
    member_client, member, django_assert_max_num_queries
):
    thread = write(member, files=[("a.png", files.png())])
    url = reverse("messaging:thread", args=[thread.pk])
    with django_assert_max_num_queries(15) as few:
        member_client.get(url)
    for i in range(6):
        services.thread_reply(
            actor=services.member_actor(member),
            thread=thread,
            body=f"Suite {i}",
            uploads=[(f"{i}.png", io.BytesIO(files.png()))],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(url)


def test_reply_and_close(member_client, member):
    thread = write(member)
    url = reverse("messaging:thread", args=[thread.pk])
    response = member_client.post(url, {"body": "Précision"})
    assert response.status_code == 302
    assert thread.messages.count() == 2
    response = member_client.post(reverse("messaging:close", args=[thread.pk]))
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED
    page = member_client.get(url).content.decode()
    assert "Cette conversation est clôturée." in page
    assert 'name="body"' not in page
    assert AuditEvent.objects.filter(action="messaging.thread_closed", actor_kind="member").exists()


def test_close_needs_post(member_client, member):
    thread = write(member)
    assert member_client.get(reverse("messaging:close", args=[thread.pk])).status_code == 405


def test_another_members_thread_is_not_found(member_client, other_member):
    theirs = write(other_member)
    assert member_client.get(reverse("messaging:thread", args=[theirs.pk])).status_code == 404
    assert member_client.get(reverse("messaging:thread", args=[999999])).status_code == 404
    reply = member_client.post(reverse("messaging:thread", args=[theirs.pk]), {"body": "x"})
    assert reply.status_code == 404
    assert member_client.post(reverse("messaging:close", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Thread.Status.WAITING_ADVISOR
    assert theirs.messages.count() == 1


def test_navigation_lists_ma_messagerie(member_client):
    page = member_client.get(reverse("messaging:list")).content.decode()
    assert 'aria-current="page"' in page
    assert "Ma messagerie" in page
