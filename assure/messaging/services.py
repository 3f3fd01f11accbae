"""Writes of the messaging: a member writes, replies, closes; an advisor takes, answers, notes,
transfers, closes. Each runs in one transaction and records an audit event for each status change.

Access is checked before a service runs (selectors for members, the staff permission for advisors);
the services trust the thread they are given and check what the thread's state allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record
from assure.identity.models import Account
from assure.members.models import Member
from assure.messaging import attachments as files_
from assure.messaging import selectors
from assure.messaging.exceptions import (
    MAX_BODY,
    AlreadyTaken,
    InvalidBody,
    InvalidReference,
    ThreadClosed,
    TooManyFiles,
    UnknownSubject,
)
from assure.messaging.models import (
    AnswerTemplate,
    Attachment,
    InternalNote,
    Message,
    Team,
    Thread,
)
from assure.messaging.workdays import add_working_days
from assure.notifications.services import email_queue

ANSWER_NOTICE_TEMPLATE = "messaging_answer"
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
Upload = tuple[str, Any]  # (the name the sender gave, a file object opened for reading)


def member_actor(member: Member) -> Actor:
    return Actor(kind=AuditEvent.ActorKind.MEMBER, id=str(member.pk), display=member.display_name)


def staff_actor(user: Any) -> Actor:
    display = (user.get_full_name() or user.get_username()) if user is not None else ""
    return Actor(kind=AuditEvent.ActorKind.STAFF, id=str(user.pk), display=display)


def clean_body(body: str) -> str:
    # Line endings are kept (shown as line breaks); other control characters are dropped.
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    if not text or len(text) > MAX_BODY:
        raise InvalidBody(errors={"body": [str(InvalidBody.title)]})
    return text


def clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if reference and not REFERENCE.match(reference):
        raise InvalidReference(errors={"reference": [str(InvalidReference.title)]})
    return reference


def _check_files(uploads: Sequence[Upload]) -> list[files_.CheckedFile]:
    if len(uploads) > files_.MAX_FILES:
        raise TooManyFiles(errors={"files": [str(TooManyFiles.title)]})
    return [files_.attachment_check(upload=f, declared_name=name) for name, f in uploads]


@contextmanager
def _files_removed_on_failure() -> Iterator[list[str]]:
    """Files are written before their rows commit: if the transaction fails, the files it wrote
    are removed rather than left with nothing pointing at them."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for name in written:
            files_.attachment_delete(name)
        raise


def _attach(
    message: Message, checked: list[files_.CheckedFile], written: list[str]
) -> list[Attachment]:
    attachments = []
    for c in checked:
        storage_name = files_.attachment_store(c)
        written.append(storage_name)
        attachments.append(
            Attachment.objects.create(
                message=message,
                storage_name=storage_name,
                name=c.name,
                content_type=c.content_type,
                size=c.size,
                sha256=c.sha256,
            )
        )
    return attachments


def _expected_by(now: Any) -> Any:
    return add_working_days(timezone.localdate(now), settings.MESSAGING_ANSWER_WORKING_DAYS)


def _status_event(*, actor: Actor, thread: Thread, action: str, before: str, **data: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        member_id=thread.member_id,
        object_type="thread",
        object_id=thread.pk,
        data={"from": before, "to": thread.status, **data},
    )


def thread_create(
    *,
    actor: Actor,
    member: Member,
    subject_code: str,
    body: str,
    uploads: Sequence[Upload] = (),
    reference: str = "",
) -> Thread:
    """A new thread, routed to the subject's team, with its answer date."""
    subject = selectors.subject_get(subject_code)
    if subject is None:
        raise UnknownSubject(errors={"subject": [str(UnknownSubject.title)]})
    text = clean_body(body)
    reference = clean_reference(reference)
    # Files are checked before anything is written, so that a refused file leaves nothing behind.
    checked = _check_files(uploads)
    now = timezone.now()
    with _files_removed_on_failure() as written, transaction.atomic():
        thread = Thread.objects.create(
            member=member,
            subject=subject,
            team=subject.team,
            reference=reference,
            created_at=now,
            last_message_at=now,
            waiting_since=now,
            answer_expected_by=_expected_by(now),
        )
        message = Message.objects.create(thread=thread, author="member", body=text, created_at=now)
        _attach(message, checked, written)
        _status_event(
            actor=actor,
            thread=thread,
            action="messaging.thread_created",
            before="",
            team=subject.team.code,
            attachments=len(checked),
        )
    return thread


def thread_reply(
    *, actor: Actor, thread: Thread, body: str, uploads: Sequence[Upload] = ()
) -> Message:
    """The member writes again: the thread goes back to the advisors with a new answer date."""
    if thread.status == Thread.Status.CLOSED:
        raise ThreadClosed()
    text = clean_body(body)
    checked = _check_files(uploads)
    now = timezone.now()
    with _files_removed_on_failure() as written, transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.status == Thread.Status.CLOSED:
            raise ThreadClosed()
        before = thread.status
        message = Message.objects.create(thread=thread, author="member", body=text, created_at=now)
        _attach(message, checked, written)
        thread.last_message_at = now
        if before != Thread.Status.WAITING_ADVISOR:
            thread.status = Thread.Status.WAITING_ADVISOR
            thread.waiting_since = now
            thread.answer_expected_by = _expected_by(now)
        thread.save()
        if before != thread.status:
            _status_event(
                actor=actor, thread=thread, action="messaging.thread_reopened", before=before
            )
    return message


def thread_mark_read(*, thread: Thread) -> None:
    """The member has seen the advisor's answers (not a status change: no audit event)."""
    # Asked of the database, not of this copy of the row, which may predate the latest answer.
    Thread.objects.filter(pk=thread.pk, unread_by_member=True).update(unread_by_member=False)
    thread.unread_by_member = False


def thread_close(*, actor: Actor, thread: Thread) -> Thread:
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.status == Thread.Status.CLOSED:
            return thread
        before = thread.status
        thread.status = Thread.Status.CLOSED
        thread.closed_at = timezone.now()
        thread.save(update_fields=["status", "closed_at"])
        _status_event(actor=actor, thread=thread, action="messaging.thread_closed", before=before)
    return thread


def thread_take(*, actor: Actor, user: Any, thread: Thread) -> Thread:
    """An advisor takes the thread; taking one someone else holds is refused (transfer it first)."""
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.assigned_to_id == user.pk:
            return thread
        if thread.assigned_to_id is not None:
            raise AlreadyTaken()
        thread.assigned_to = user  # type: ignore[assignment]
        thread.save(update_fields=["assigned_to"])
        audit_record(
            actor=actor,
            action="messaging.thread_taken",
            member_id=thread.member_id,
            object_type="thread",
            object_id=thread.pk,
        )
    return thread


def thread_answer(
    *,
    actor: Actor,
    user: Any,
    thread: Thread,
    body: str,
    uploads: Sequence[Upload] = (),
) -> Message:
    """An advisor answers: the member is told by e-mail, without the content and without a link."""
    if thread.status == Thread.Status.CLOSED:
        raise ThreadClosed()
    text = clean_body(body)
    checked = _check_files(uploads)
    now = timezone.now()
    with _files_removed_on_failure() as written, transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("member").get(pk=thread.pk)
        if thread.status == Thread.Status.CLOSED:
            raise ThreadClosed()
        before = thread.status
        message = Message.objects.create(
            thread=thread, author="advisor", staff_user=user, body=text, created_at=now
        )
        _attach(message, checked, written)
        thread.last_message_at = now
        thread.status = Thread.Status.WAITING_MEMBER
        thread.unread_by_member = True
        if thread.assigned_to_id is None:
            thread.assigned_to = user  # type: ignore[assignment]
        if thread.first_answered_at is None:
            thread.first_answered_at = now
        thread.save()
        _status_event(
            actor=actor,
            thread=thread,
            action="messaging.thread_answered",
            before=before,
            message=message.pk,
        )
        _answer_notice_queue(thread=thread, message=message)
    return message


def _answer_notice_queue(*, thread: Thread, message: Message) -> None:
    # Only a member with an account has a space to read the answer in; the notice says that there
    # is a message, never what it says, and carries no link (phishing copies exactly such links).
    account = Account.objects.filter(member_id=thread.member_id).select_related("member").first()
    if account is None or not account.is_active or not account.contact_email:
        return
    email_queue(
        to=account.contact_email,
        template=ANSWER_NOTICE_TEMPLATE,
        context={"first_name": account.member.given_names.split(" ")[0]},
        idempotency_key=f"messaging.answer:{message.pk}",
        member_id=thread.member_id,
    )


def thread_note_add(*, actor: Actor, user: Any, thread: Thread, body: str) -> InternalNote:
    text = clean_body(body)
    with transaction.atomic():
        note = InternalNote.objects.create(thread=thread, staff_user=user, body=text)
        audit_record(
            actor=actor,
            action="messaging.note_added",
            member_id=thread.member_id,
            object_type="thread",
            object_id=thread.pk,
        )
    return note


def thread_transfer(*, actor: Actor, thread: Thread, team: Team, reason: str = "") -> Thread:
    """To another team's queue, unassigned, so that its advisors see it as new."""
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.team_id == team.pk:
            return thread
        before_team = thread.team.code
        thread.team = team
        thread.assigned_to = None
        thread.save(update_fields=["team", "assigned_to"])
        audit_record(
            actor=actor,
            action="messaging.thread_transferred",
            member_id=thread.member_id,
            object_type="thread",
            object_id=thread.pk,
            reason=reason,
            data={"from": before_team, "to": team.code},
        )
    return thread


def answer_template_save(
    *,
    actor: Actor,
    template: AnswerTemplate | None,
    title: str,
    body: str,
    team: Team | None,
    active: bool,
) -> AnswerTemplate:
    with transaction.atomic():
        template = template or AnswerTemplate()
        template.title = title
        template.body = body
        template.team = team
        template.active = active
        template.save()
        audit_record(
            actor=actor,
            action="messaging.answer_template_saved",
            object_type="answer_template",
            object_id=template.pk,
        )
    return template
