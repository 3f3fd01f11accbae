"""The advisors' side of the messaging, under /backoffice/messagerie/: team queues, a thread with
the member's identity, answering (with the fund's answer templates), internal notes, transfer,
closing, response-time figures, and the answer templates themselves.

The back office will restyle these pages and put its own sign-in (with a second factor) in front;
until then the guard is a Django staff user holding the permission named on the models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from assure.core.exceptions import DomainError, NotFound
from assure.members.nir import mask_nir
from assure.messaging import selectors, services
from assure.messaging.forms import (
    AnswerForm,
    AnswerTemplateForm,
    NoteForm,
    TransferForm,
    add_domain_error,
)
from assure.messaging.models import AnswerTemplate, Thread
from assure.messaging.views import attachment_response

ANSWER = "messaging.answer_thread"
FIGURES = "messaging.view_team_figures"
EDIT_TEMPLATES = "messaging.change_answertemplate"


def staff_permission_required(permission: str) -> Callable[..., Any]:
    """Signed-in staff holding `permission`; anyone else signed in gets 403, never the page."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not (user.is_staff and user.is_active and user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return never_cache(login_required(wrapper, login_url=settings.BACKOFFICE_LOGIN_URL))

    return decorator


def _queue_labels() -> dict[str, str]:
    return {
        "unassigned": _("Non attribués"),
        "mine": _("Mes conversations"),
        "overdue": _("En retard"),
        "waiting_member": _("En attente du membre"),
    }


@staff_permission_required(ANSWER)
def inbox(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list()
    team = next((t for t in teams if t.code == request.GET.get("equipe")), None)
    queue = request.GET.get("file", "unassigned")
    if queue not in selectors.QUEUES:
        queue = "unassigned"
    threads = selectors.queue_rows(team=team, queue=queue, user=request.user)
    counts = selectors.queue_counts(team=team, user=request.user)
    labels = _queue_labels()
    return render(
        request,
        "messaging/staff/inbox.html",
        {
            "teams": teams,
            "team": team,
            "queue": queue,
            "queue_label": labels[queue],
            "queues": [(code, labels[code], counts[code]) for code in selectors.QUEUES],
            "threads": threads,
        },
    )


def _thread_page(request: HttpRequest, thread: Thread, **forms: Any) -> HttpResponse:
    member = thread.member
    context = {
        "thread": thread,
        "member": member,
        "masked_nir": mask_nir(member.nir),
        "answer_form": forms.get("answer_form") or AnswerForm(team=thread.team),
        "note_form": forms.get("note_form") or NoteForm(),
        "transfer_form": forms.get("transfer_form") or TransferForm(initial={"team": thread.team}),
        "closed": thread.status == Thread.Status.CLOSED,
        "staff": True,
        "member_label": member.display_name,
    }
    status = 400 if any(f.errors for f in forms.values() if f is not None) else 200
    return render(request, "messaging/staff/thread.html", context, status=status)


@staff_permission_required(ANSWER)
def thread_view(request: HttpRequest, thread_id: int) -> HttpResponse:
    actor = services.staff_actor(request.user)
    try:
        thread = selectors.thread_get_for_staff(
            actor=actor, thread_id=thread_id, record=request.method != "POST"
        )
    except NotFound:
        raise Http404 from None
    if request.method != "POST":
        return _thread_page(request, thread)
    action = request.POST.get("action", "")
    user: Any = request.user
    try:
        if action == "take":
            services.thread_take(actor=actor, user=user, thread=thread)
            flash.success(request, _("Vous avez pris cette conversation."))
        elif action in {"answer", "use_template"}:
            form = AnswerForm(request.POST, request.FILES, team=thread.team)
            if action == "use_template":
                return _use_template(request, thread, form)
            if not form.is_valid():
                return _thread_page(request, thread, answer_form=form)
            try:
                services.thread_answer(
                    actor=actor,
                    user=user,
                    thread=thread,
                    body=form.cleaned_data["body"],
                    uploads=[(f.name or "", f) for f in form.cleaned_data.get("attachments") or []],
                )
            except DomainError as error:
                add_domain_error(form, error)
                return _thread_page(request, thread, answer_form=form)
            flash.success(request, _("Votre réponse a été envoyée au membre."))
        elif action == "note":
            note_form = NoteForm(request.POST)
            if not note_form.is_valid():
                return _thread_page(request, thread, note_form=note_form)
            services.thread_note_add(
                actor=actor, user=user, thread=thread, body=note_form.cleaned_data["note"]
            )
            flash.success(request, _("La note interne est enregistrée."))
        elif action == "transfer":
            transfer_form = TransferForm(request.POST)
            if not transfer_form.is_valid():
                return _thread_page(request, thread, transfer_form=transfer_form)
            services.thread_transfer(
                actor=actor,
                thread=thread,
                team=transfer_form.cleaned_data["team"],
                reason=transfer_form.cleaned_data["reason"],
            )
            flash.success(request, _("La conversation est transférée."))
            return redirect("backoffice:messaging:inbox")
        elif action == "close":
            services.thread_close(actor=actor, thread=thread)
            flash.success(request, _("La conversation est clôturée."))
        else:
            return HttpResponse(status=400)
    except DomainError as error:
        flash.error(request, str(error.title))
    return redirect("backoffice:messaging:thread", thread_id=thread.pk)


def _use_template(request: HttpRequest, thread: Thread, form: AnswerForm) -> HttpResponse:
    """Without JavaScript: the chosen template's text is put in the answer box, to be edited."""
    template = None
    template_id = request.POST.get("template", "")
    if template_id.isdigit():
        template = form.fields["template"].queryset.filter(pk=int(template_id)).first()  # type: ignore[attr-defined]
    body = template.body if template is not None else request.POST.get("body", "")
    fresh = AnswerForm(initial={"template": template, "body": body}, team=thread.team)
    return _thread_page(request, thread, answer_form=fresh)


@staff_permission_required(ANSWER)
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    try:
        attachment = selectors.attachment_get_for_staff(
            actor=services.staff_actor(request.user), attachment_id=attachment_id
        )
    except NotFound:
        raise Http404 from None
    return attachment_response(attachment)


@staff_permission_required(FIGURES)
def figures(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "messaging/staff/figures.html",
        {"figures": selectors.team_figures(), "days": selectors.FIGURES_DAYS},
    )


@staff_permission_required(EDIT_TEMPLATES)
def template_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "messaging/staff/templates.html",
        {"templates": AnswerTemplate.objects.select_related("team")},
    )


@staff_permission_required(EDIT_TEMPLATES)
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    template = get_object_or_404(AnswerTemplate, pk=template_id) if template_id else None
    form = AnswerTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        services.answer_template_save(
            actor=services.staff_actor(request.user),
            template=template,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            team=form.cleaned_data["team"],
            active=form.cleaned_data["active"],
        )
        flash.success(request, _("Le modèle de réponse est enregistré."))
        return redirect("backoffice:messaging:templates")
    return render(
        request, "messaging/staff/template_edit.html", {"form": form, "template": template}
    )
