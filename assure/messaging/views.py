"""Ma messagerie, the member's side: threads, a new message, a thread with its reply form, closing,
and the attachments, served only to their owner and only as downloads."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages as flash
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assure.core.exceptions import DomainError, NotFound
from assure.identity.decorators import member_login_required
from assure.members.models import Member
from assure.messaging import selectors, services
from assure.messaging.attachments import attachment_open
from assure.messaging.forms import NewMessageForm, ReplyForm, add_domain_error
from assure.messaging.models import Attachment, Thread


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def _uploads(form: Any) -> list[services.Upload]:
    return [(f.name or "", f) for f in form.cleaned_data.get("attachments") or []]


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download, never rendered by the browser, never cached by a shared cache."""
    response = FileResponse(
        attachment_open(attachment.storage_name),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@member_login_required
def thread_list(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.thread_list_for_member(
            member=_member(request), cursor=request.GET.get("apres") or None
        )
    except selectors.InvalidCursor:
        raise Http404 from None
    return render(
        request,
        "messaging/thread_list.html",
        {"threads": page.items, "next_cursor": page.next_cursor},
    )


def _prefill(request: HttpRequest) -> dict[str, str]:
    """`?sujet=&reference=` from a payment's page: kept only when both are well-formed."""
    initial: dict[str, str] = {}
    subject = selectors.subject_get(request.GET.get("sujet", "")[:40])
    if subject is not None:
        initial["subject"] = subject.code
    try:
        reference = services.clean_reference(request.GET.get("reference", "")[:41])
    except DomainError:
        reference = ""
    if reference:
        initial["reference"] = reference
    return initial


@member_login_required
def thread_new(request: HttpRequest) -> HttpResponse:
    subjects = selectors.subject_list()
    if request.method == "POST":
        form = NewMessageForm(request.POST, request.FILES, subjects=subjects)
        if form.is_valid():
            member = _member(request)
            try:
                thread = services.thread_create(
                    actor=services.member_actor(member),
                    member=member,
                    subject_code=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    uploads=_uploads(form),
                    reference=form.cleaned_data.get("reference") or "",
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                flash.success(request, _("Votre message a été envoyé."))
                return redirect("messaging:thread", thread_id=thread.pk)
    else:
        form = NewMessageForm(initial=_prefill(request), subjects=subjects)
    return render(
        request,
        "messaging/thread_new.html",
        {"form": form, "subjects": subjects, "reference": form["reference"].value() or ""},
    )


@member_login_required
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    member = _member(request)
    try:
        thread = selectors.thread_get_for_member(member=member, thread_id=thread_id)
    except NotFound:
        raise Http404 from None
    form = ReplyForm()
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.thread_reply(
                    actor=services.member_actor(member),
                    thread=thread,
                    body=form.cleaned_data["body"],
                    uploads=_uploads(form),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                flash.success(request, _("Votre réponse a été envoyée."))
                return redirect("messaging:thread", thread_id=thread.pk)
    else:
        services.thread_mark_read(thread=thread)
    return render(
        request,
        "messaging/thread_detail.html",
        {"thread": thread, "form": form, "closed": thread.status == Thread.Status.CLOSED},
    )


@require_POST
@member_login_required
def thread_close(request: HttpRequest, thread_id: int) -> HttpResponse:
    member = _member(request)
    try:
        thread = selectors.thread_get_for_member(member=member, thread_id=thread_id)
    except NotFound:
        raise Http404 from None
    services.thread_close(actor=services.member_actor(member), thread=thread)
    flash.success(request, _("La conversation est clôturée."))
    return redirect(reverse("messaging:thread", kwargs={"thread_id": thread.pk}))


@member_login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    try:
        attachment = selectors.attachment_get_for_member(
            member=_member(request), attachment_id=attachment_id
        )
    except NotFound:
        raise Http404 from None
    # A streamed file; the login guard is typed for plain responses only.
    return cast(HttpResponse, attachment_response(attachment))
