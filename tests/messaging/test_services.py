"""Messaging services: routing, statuses and their audit events, notices, refusals."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine

from assure.core.models import AuditEvent
from assure.messaging import services
from assure.messaging.attachments import AttachmentRefused
from assure.messaging.exceptions import (
    AlreadyTaken,
    InvalidBody,
    InvalidReference,
    ThreadClosed,
    TooManyFiles,
    UnknownSubject,
)
from assure.messaging.models import Attachment, Subject, Team, Thread
from assure.notifications.models import OutboxMessage
from tests.messaging import files
from tests.messaging.helpers import account_for, advisor, write

pytestmark = pytest.mark.django_db


def _actions(thread: Thread) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="thread", object_id=str(thread.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize(
    ("subject", "team"),
    [
        ("remboursements", "remboursements"),
        ("indemnites", "indemnites"),
        ("carte-vitale", "cartes"),
        ("carte-europeenne", "cartes"),
        ("attestations", "droits"),
        ("changement-situation", "droits"),
        ("mon-compte", "relation"),
        ("reclamation", "relation"),
    ],
)
def test_each_default_subject_routes_to_its_team(member, subject, team):
    thread = write(member, subject=subject)
    assert thread.team.code == team
    assert thread.status == Thread.Status.WAITING_ADVISOR
    assert thread.assigned_to is None


def test_routing_is_data_the_fund_changes(member):
    legal = Team.objects.create(code="juridique", name="Service juridique")
    Subject.objects.filter(code="reclamation").update(team=legal)
    assert write(member, subject="reclamation").team == legal


def test_every_default_subject_has_a_help_text():
    subjects = Subject.objects.all()
    assert subjects.count() == 8
    assert all(s.help_text and s.help_text_en and s.label_en for s in subjects)


def test_unknown_or_inactive_subject_is_refused(member):
    with pytest.raises(UnknownSubject):
        write(member, subject="nope")
    Subject.objects.filter(code="reclamation").update(active=False)
    with pytest.raises(UnknownSubject):
        write(member, subject="reclamation")
    assert not Thread.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001])
def test_body_is_required_and_at_most_5000_characters(member, body):
    with pytest.raises(InvalidBody):
        write(member, body=body)


def test_body_of_5000_characters_is_kept_with_its_line_breaks(member):
    body = "ligne 1\r\nligne 2\x00\x07" + "é" * 4982
    thread = write(member, body=body)
    stored = thread.messages.get().body
    assert stored.startswith("ligne 1\nligne 2")
    assert "\x00" not in stored
    assert "\x07" not in stored
    assert len(write(member, body="a" * 5000).messages.get().body) == 5000


def test_reference_is_checked_for_shape(member):
    with pytest.raises(InvalidReference):
        services.thread_create(
            actor=services.member_actor(member),
            member=member,
            subject_code="remboursements",
            body="Question",
            reference="<script>",
        )
    thread = services.thread_create(
        actor=services.member_actor(member),
        member=member,
        subject_code="remboursements",
        body="Question",
        reference="PAY-2026-0042",
    )
    assert thread.reference == "PAY-2026-0042"


def test_at_most_three_files(member):
    four = [(f"p{i}.png", files.png()) for i in range(4)]
    with pytest.raises(TooManyFiles):
        write(member, files=four)
    assert not Thread.objects.exists()


def test_a_refused_file_leaves_nothing_behind(member, settings):
    with pytest.raises(AttachmentRefused):
        write(member, files=[("ok.png", files.png()), ("bad.pdf", files.pdf_with_javascript())])
    assert not Thread.objects.exists()
    assert not (settings.MEDIA_ROOT / "messaging").exists()


def test_created_thread_is_audited(member):
    thread = write(member, files=[("scan.png", files.png())])
    event = AuditEvent.objects.get(action="messaging.thread_created")
    assert event.member_id == member.pk
    assert event.actor_kind == "member"
    assert event.data == {
        "from": "",
        "to": "waiting_advisor",
        "team": "remboursements",
        "attachments": 1,
    }
    assert event.object_id == str(thread.pk)


def test_answer_notice_reply_and_close(member, mailoutbox):
    account_for(member, email="zoe@example.org")
    user = advisor()
    thread = write(member)
    services.thread_take(actor=services.staff_actor(user), user=user, thread=thread)
    message = services.thread_answer(
        actor=services.staff_actor(user), user=user, thread=thread, body="Voici la réponse."
    )
    thread.refresh_from_db()
    assert thread.status == Thread.Status.WAITING_MEMBER
    assert thread.unread_by_member is True
    assert thread.first_answered_at is not None

    notice = OutboxMessage.objects.get(idempotency_key=f"messaging.answer:{message.pk}")
    assert notice.member_id == member.pk
    text = notice.subject + notice.body
    assert "nouveau message" in text
    assert "Voici la réponse" not in text  # no content
    assert "http" not in text  # no link

    with time_machine.travel(dt.datetime(2026, 12, 23, 9, 0, tzinfo=dt.UTC), tick=False):
        services.thread_reply(
            actor=services.member_actor(member), thread=thread, body="Merci, autre question."
        )
    thread.refresh_from_db()
    assert thread.status == Thread.Status.WAITING_ADVISOR
    assert thread.answer_expected_by == dt.date(2026, 12, 31)  # a new clock from the new question

    services.thread_close(actor=services.member_actor(member), thread=thread)
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED
    with pytest.raises(ThreadClosed):
        services.thread_reply(actor=services.member_actor(member), thread=thread, body="Encore")
    with pytest.raises(ThreadClosed):
        services.thread_answer(
            actor=services.staff_actor(user), user=user, thread=thread, body="Encore"
        )
    assert _actions(thread) == [
        "messaging.thread_created",
        "messaging.thread_taken",
        "messaging.thread_answered",
        "messaging.thread_reopened",
        "messaging.thread_closed",
    ]


def test_no_notice_without_an_account_or_an_address(member):
    member.email = None
    member.save()
    user = advisor()
    thread = write(member)
    services.thread_answer(actor=services.staff_actor(user), user=user, thread=thread, body="R")
    assert not OutboxMessage.objects.exists()
    account_for(member)  # an account, but no address on record
    services.thread_answer(actor=services.staff_actor(user), user=user, thread=thread, body="R2")
    assert not OutboxMessage.objects.exists()


def test_take_refuses_a_thread_someone_else_holds(member):
    paul, anne = advisor("paul"), advisor("anne")
    thread = write(member)
    services.thread_take(actor=services.staff_actor(paul), user=paul, thread=thread)
    with pytest.raises(AlreadyTaken):
        services.thread_take(actor=services.staff_actor(anne), user=anne, thread=thread)


def test_transfer_goes_to_the_other_team_unassigned(member):
    user = advisor()
    thread = write(member)
    services.thread_take(actor=services.staff_actor(user), user=user, thread=thread)
    cards = Team.objects.get(code="cartes")
    services.thread_transfer(
        actor=services.staff_actor(user), thread=thread, team=cards, reason="Carte Vitale"
    )
    thread.refresh_from_db()
    assert thread.team == cards
    assert thread.assigned_to is None
    event = AuditEvent.objects.get(action="messaging.thread_transferred")
    assert event.data == {"from": "remboursements", "to": "cartes"}


def test_advisor_attachment_and_note(member):
    user = advisor()
    thread = write(member)
    services.thread_answer(
        actor=services.staff_actor(user),
        user=user,
        thread=thread,
        body="Votre attestation",
        uploads=[("attestation.pdf", io.BytesIO(files.pdf()))],
    )
    assert Attachment.objects.filter(message__author="advisor").count() == 1
    services.thread_note_add(
        actor=services.staff_actor(user), user=user, thread=thread, body="Rappeler lundi"
    )
    assert thread.notes.get().body == "Rappeler lundi"


def test_files_of_a_failed_transaction_are_removed(member, settings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        write(member, files=[("a.png", files.png()), ("b.pdf", files.pdf())])
    assert not Thread.objects.exists()
    stored = settings.MEDIA_ROOT / "messaging"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]
