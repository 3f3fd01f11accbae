"""messages/subjects, threads, attachments: the member's secure messaging (API.md, "Member")."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.members.models import Member
from assure.messaging import selectors, services
from assure.messaging.models import Message, Thread
from assure.messaging.views import attachment_response

router = Router(tags=["messaging"], auth=member_auth)

ThreadStatus = Literal["waiting_advisor", "waiting_member", "closed"]


class UploadProblemOut(ProblemOut):
    """A refused file says why: `reason` is one of too_large, type_not_allowed, unreadable,
    pdf_encrypted, pdf_active_content, pdf_embedded_file, image_too_large, virus_found,
    scan_unavailable."""

    reason: str | None = None


class SubjectOut(Schema):
    code: str
    label: str
    help_text: str


class SubjectListOut(Schema):
    items: list[SubjectOut]
    next: str | None


class ThreadOut(Schema):
    id: int
    subject: str
    status: ThreadStatus
    created_at: dt.datetime
    last_message_at: dt.datetime
    unread: bool
    answer_expected_by: dt.date | None
    reference: str | None


class ThreadListOut(Schema):
    items: list[ThreadOut]
    next: str | None


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]


class MessageOut(Schema):
    id: int
    author: Literal["member", "advisor"]
    body: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]


class ThreadDetailOut(ThreadOut):
    messages: list[MessageOut]


class ThreadListIn(Schema):
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)
    cursor: str | None = None


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def _thread_fields(thread: Thread) -> dict[str, object]:
    return {
        "id": thread.pk,
        "subject": thread.subject.code,
        "status": thread.status,
        "created_at": thread.created_at,
        "last_message_at": thread.last_message_at,
        "unread": thread.unread_by_member,
        "answer_expected_by": (
            thread.answer_expected_by if thread.status == Thread.Status.WAITING_ADVISOR else None
        ),
        "reference": thread.reference or None,
    }


def _message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        author=message.author,  # type: ignore[arg-type]
        body=message.body,
        created_at=message.created_at,
        attachments=[
            AttachmentOut(
                id=a.pk,
                name=a.name,
                size=a.size,
                content_type=a.content_type,  # type: ignore[arg-type]
            )
            for a in message.attachments.all()
        ],
    )


def _uploads(files: list[UploadedFile] | None) -> list[services.Upload]:
    return [(f.name or "", f) for f in files or []]


@router.get(
    "messages/subjects",
    response={200: SubjectListOut, 401: ProblemOut},
    operation_id="messages_subjects",
    summary="The subjects a member can write about",
)
def subjects_list(request: HttpRequest) -> SubjectListOut:
    return SubjectListOut(
        items=[
            SubjectOut(code=s.code, label=s.display_label, help_text=s.display_help)
            for s in selectors.subject_list()
        ],
        next=None,
    )


@router.get(
    "threads",
    response={200: ThreadListOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="threads_list",
    summary="The member's threads, latest activity first",
)
def threads_list(request: HttpRequest, params: Query[ThreadListIn]) -> ThreadListOut:
    page = selectors.thread_list_for_member(
        member=_member(request), cursor=params.cursor, limit=params.limit
    )
    return ThreadListOut(
        items=[ThreadOut(**_thread_fields(t)) for t in page.items],  # type: ignore[arg-type]
        next=page.next_cursor,
    )


@router.post(
    "threads",
    response={201: ThreadDetailOut, 400: UploadProblemOut, 401: ProblemOut},
    operation_id="threads_create",
    summary="Write a new message (multipart: subject, body, up to 3 files, optional reference)",
)
def threads_create(
    request: HttpRequest,
    subject: Form[str],
    body: Form[str],
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    reference: Form[str] = "",  # type: ignore[assignment]
) -> Status:
    member = _member(request)
    thread = services.thread_create(
        actor=services.member_actor(member),
        member=member,
        subject_code=subject,
        body=body,
        uploads=_uploads(files),
        reference=reference,
    )
    return Status(201, _detail(member, thread.pk))


def _detail(member: Member, thread_id: int) -> ThreadDetailOut:
    thread = selectors.thread_get_for_member(member=member, thread_id=thread_id)
    return ThreadDetailOut(
        **_thread_fields(thread),  # type: ignore[arg-type]
        messages=[_message_out(m) for m in thread.messages.all()],
    )


@router.get(
    "threads/{thread_id}",
    response={200: ThreadDetailOut, 401: ProblemOut, 404: ProblemOut},
    operation_id="threads_get",
    summary="A thread with its messages; reading it marks the advisor's answers as read",
)
def threads_get(request: HttpRequest, thread_id: int) -> ThreadDetailOut:
    member = _member(request)
    thread = selectors.thread_get_for_member(member=member, thread_id=thread_id)
    services.thread_mark_read(thread=thread)
    return ThreadDetailOut(
        **_thread_fields(thread),  # type: ignore[arg-type]
        messages=[_message_out(m) for m in thread.messages.all()],
    )


@router.post(
    "threads/{thread_id}/messages",
    response={
        201: MessageOut,
        400: UploadProblemOut,
        401: ProblemOut,
        404: ProblemOut,
        409: ProblemOut,
    },
    operation_id="threads_reply",
    summary="Write in a thread (multipart: body, up to 3 files)",
)
def threads_reply(
    request: HttpRequest,
    thread_id: int,
    body: Form[str],
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status:
    member = _member(request)
    thread = selectors.thread_get_for_member(member=member, thread_id=thread_id)
    message = services.thread_reply(
        actor=services.member_actor(member), thread=thread, body=body, uploads=_uploads(files)
    )
    return Status(201, _message_out(message))


@router.get(
    "attachments/{attachment_id}",
    response={200: None, 401: ProblemOut, 404: ProblemOut},
    operation_id="attachments_get",
    summary="An attachment, always as a download",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, with `Content-Disposition: attachment`",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("application/pdf", "image/jpeg", "image/png")
                },
            }
        }
    },
)
def attachments_get(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get_for_member(
        member=_member(request), attachment_id=attachment_id
    )
    return attachment_response(attachment)
