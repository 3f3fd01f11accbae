"""Back-office pages. Each validates, calls one service or selector, and renders; the permission
of each action is checked by `staff_required`, and a member's file opens only with a reason."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from assure.backoffice import forms, selectors, services
from assure.backoffice.exceptions import InvalidEnrolment
from assure.backoffice.middleware import SEEN_KEY
from assure.backoffice.roles import role_of
from assure.core.exceptions import DomainError, NotFound
from assure.identity import throttling
from assure.members.nir import InvalidNir, normalize_nir

PENDING_KEY = "backoffice_pending"
CONSULT_KEY = "backoffice_consultation"
NEXT_KEY = "backoffice_next"
_PENDING_SECONDS = 5 * 60


def staff_required(permission: str | None = None) -> Callable[..., Any]:
    """Signed-in, active staff (holding `permission` when given); others signed in get 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        @never_cache
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                query = urlencode({"suite": request.get_full_path()})
                return redirect(f"{settings.BACKOFFICE_LOGIN_URL}?{query}")
            if not (user.is_staff and user.is_active):
                raise PermissionDenied
            if permission and not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _add_error(form: Any, exc: DomainError) -> None:
    if exc.errors:
        for name, errors in exc.errors.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, str(exc.title))


def _actor(request: HttpRequest) -> Any:
    return services.staff_actor(request.user)  # type: ignore[arg-type]


# --- Sign-in -------------------------------------------------------------------------------------


@never_cache
def signin(request: HttpRequest) -> HttpResponse:
    form = forms.SignInForm(request.POST or None)
    # "suite" from our own pages, "next" from Django's login_required (the messaging screens).
    nxt = request.GET.get("suite") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        request.session[NEXT_KEY] = nxt
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_password_check(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                address=throttling.client_address(request),
            )
        except DomainError as exc:
            _add_error(form, exc)
        else:
            request.session[PENDING_KEY] = {"user": user.pk, "at": timezone.now().timestamp()}
            return redirect("backoffice:signin_code")
    return render(request, "backoffice/signin.html", {"form": form})


@never_cache
def signin_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY) or {}
    fresh = timezone.now().timestamp() - float(pending.get("at", 0)) < _PENDING_SECONDS
    user_id = pending.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if fresh and user_id else None
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("backoffice:signin")
    form = forms.TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_totp_verify(
                user=user,
                code=form.cleaned_data["code"],
                address=throttling.client_address(request),
            )
        except DomainError as exc:
            _add_error(form, exc)
        else:
            nxt = request.session.pop(NEXT_KEY, "") or reverse("backoffice:home")
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            request.session[SEEN_KEY] = timezone.now().timestamp()
            return redirect(nxt)
    return render(request, "backoffice/signin_code.html", {"form": form})


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("backoffice:signin")


@never_cache
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    try:
        enrolment = services.enrolment_get(token)
    except InvalidEnrolment:
        return render(request, "backoffice/enrol_invalid.html", status=404)
    form = forms.EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_complete(
                token=token,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
        except DomainError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Votre compte est prêt : connectez-vous."))
            return redirect("backoffice:signin")
    secret = services.enrolment_totp_secret(enrolment)
    uri = services.totp_provisioning_uri(user=enrolment.user, secret=secret)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=_("Code QR à scanner avec votre application d'authentification")
    )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "backoffice/enrol.html",
        {"form": form, "qr_svg": qr_svg, "secret": grouped, "staff": enrolment.user},
    )


# --- Advisor work --------------------------------------------------------------------------------


@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/home.html", {"role": role_of(request.user)})


@staff_required("backoffice.view_member")
def member_search(request: HttpRequest) -> HttpResponse:
    form = forms.MemberSearchForm(request.GET or None)
    results = None
    if request.GET and form.is_valid():
        results = selectors.member_search(
            nir=form.cleaned_data["nir"],
            name=form.cleaned_data["name"],
            birth_date=form.cleaned_data["birth_date"],
        )
    return render(request, "backoffice/search.html", {"form": form, "results": results})


def _consulting(request: HttpRequest, member_id: int) -> bool:
    consultation = request.session.get(CONSULT_KEY) or {}
    age = timezone.now().timestamp() - float(consultation.get("at", 0))
    return (
        consultation.get("member") == member_id
        and age < settings.BACKOFFICE_CONSULTATION_MINUTES * 60
    )


def _member_or_404(member_id: int) -> Any:
    try:
        return selectors.member_get(member_id)
    except NotFound as exc:
        raise Http404() from exc


@staff_required("backoffice.view_member")
def member_view(request: HttpRequest, member_id: int) -> HttpResponse:
    """Asks for the reason first; a consultation (one audit event) lasts until another file is
    opened or BACKOFFICE_CONSULTATION_MINUTES have passed."""
    member = _member_or_404(member_id)
    if request.method == "POST" or not _consulting(request, member.pk):
        form = forms.ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.consultation_record(
                member=member, reason=form.reason_text(), actor=_actor(request)
            )
            request.session[CONSULT_KEY] = {
                "member": member.pk,
                "at": timezone.now().timestamp(),
            }
            return redirect("backoffice:member", member_id=member.pk)
        return render(request, "backoffice/reason.html", {"form": form, "member": member})
    file = selectors.member_file(member)
    return render(
        request,
        "backoffice/member.html",
        {"file": file, "member": member, "s": file.sections, "status": file.status},
    )


@staff_required("backoffice.check_identity")
def identity_check(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(member_id)
    if not _consulting(request, member.pk):
        return redirect("backoffice:member", member_id=member.pk)
    questions = services.identity_check_questions(member)
    form = forms.IdentityCheckForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        check = services.identity_check_record(
            member=member,
            answers=form.cleaned_data,
            staff=request.user,  # type: ignore[arg-type]
            actor=_actor(request),
        )
        if check.passed:
            messages.success(request, _("Vérification réussie : vous pouvez envoyer un code."))
        else:
            messages.error(
                request,
                _("Vérification échouée : aucun code ne peut être envoyé à cet appelant."),
            )
        return redirect("backoffice:member", member_id=member.pk)
    return render(request, "backoffice/check.html", {"form": form, "member": member})


@staff_required("backoffice.send_code")
def send_code(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(member_id)
    if not _consulting(request, member.pk):
        return redirect("backoffice:member", member_id=member.pk)
    form = forms.SendCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.provisional_code_send(
                member=member,
                channel=form.cleaned_data["channel"],
                staff=request.user,  # type: ignore[arg-type]
                actor=_actor(request),
            )
        except DomainError as exc:
            _add_error(form, exc)
        else:
            if issued.code.channel == "post":
                messages.success(request, _("Le code provisoire part par courrier."))
            else:
                messages.success(request, _("Le code provisoire est envoyé par courriel."))
            return redirect("backoffice:member", member_id=member.pk)
    return render(request, "backoffice/send_code.html", {"form": form, "member": member})


def _account_action(
    request: HttpRequest, member_id: int, action: Callable[..., None], done: str, title: str
) -> HttpResponse:
    member = _member_or_404(member_id)
    if not _consulting(request, member.pk):
        return redirect("backoffice:member", member_id=member.pk)
    form = forms.ActionReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(member=member, reason=form.cleaned_data["reason"], actor=_actor(request))
        except DomainError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("backoffice:member", member_id=member.pk)
    return render(
        request, "backoffice/account_action.html", {"form": form, "member": member, "title": title}
    )


@staff_required("backoffice.unlock_account")
def unlock(request: HttpRequest, member_id: int) -> HttpResponse:
    return _account_action(
        request,
        member_id,
        services.account_unlock,
        _("Le compte est débloqué."),
        _("Débloquer le compte"),
    )


@staff_required("backoffice.terminate_account")
def terminate(request: HttpRequest, member_id: int) -> HttpResponse:
    return _account_action(
        request,
        member_id,
        services.account_terminate,
        _("Le compte est clôturé ; le membre en est averti."),
        _("Clôturer le compte"),
    )


@staff_required("backoffice.process_cards")
def cards(request: HttpRequest) -> HttpResponse:
    """Card orders: today's, returned ones to follow up, by status; the export to the maker."""
    if request.method == "POST":
        from assure.cards.exports import card_orders_export

        result = card_orders_export(actor=_actor(request))
        if result.count:
            messages.success(
                request,
                _("%(count)s commande(s) exportée(s) pour le fabricant (lot %(batch)s).")
                % {"count": result.count, "batch": result.batch},
            )
        else:
            messages.info(request, _("Aucune commande à exporter."))
        return redirect("backoffice:cards")
    return render(
        request,
        "backoffice/cards.html",
        {"c": selectors.card_orders(status=request.GET.get("statut", ""))},
    )


# --- Supervisor and administrator ----------------------------------------------------------------


@staff_required("backoffice.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/dashboard.html", {"d": selectors.dashboard()})


def _member_ref(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit() and len(value) < 13:
        return int(value)
    try:
        found = selectors.member_search(nir=normalize_nir(value))
    except InvalidNir:
        return -1
    return found[0].pk if found else -1


@staff_required("backoffice.view_audit")
def audit(request: HttpRequest) -> HttpResponse:
    form = forms.AuditSearchForm(request.GET or None)
    page = None
    if form.is_valid():
        events = selectors.audit_search(
            member_id=_member_ref(form.cleaned_data["member"]),
            staff=form.cleaned_data["staff"],
            action=form.cleaned_data["action"],
            since=form.cleaned_data["since"],
            until=form.cleaned_data["until"],
        )
        page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "backoffice/audit.html", {"form": form, "page": page})


def _link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("backoffice:enrol", kwargs={"token": token}))


@staff_required("backoffice.manage_staff")
def staff(request: HttpRequest) -> HttpResponse:
    form = forms.StaffCreateForm(request.POST or None)
    link = ""
    if request.method == "POST" and form.is_valid():
        if User.objects.filter(username__iexact=form.cleaned_data["username"]).exists():
            form.add_error("username", _("Cet identifiant existe déjà"))
        else:
            _user, token = services.staff_create(
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                actor=_actor(request),
            )
            link = _link(request, token)
            form = forms.StaffCreateForm()
    people = [(user, role_of(user)) for user in selectors.staff_list()]
    return render(request, "backoffice/staff.html", {"form": form, "people": people, "link": link})


@staff_required("backoffice.manage_staff")
@require_POST
def staff_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id, is_staff=True)
    if user.pk == request.user.pk:
        messages.error(request, _("Vous ne pouvez pas désactiver votre propre compte."))
    else:
        services.staff_deactivate(user=user, actor=_actor(request))
        messages.success(request, _("Le compte est désactivé."))
    return redirect("backoffice:staff")


@staff_required("backoffice.manage_staff")
@require_POST
def staff_new_link(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id, is_staff=True, is_active=True)
    token = services.enrolment_link_issue(user=user, actor=_actor(request))
    people = [(u, role_of(u)) for u in selectors.staff_list()]
    return render(
        request,
        "backoffice/staff.html",
        {"form": forms.StaffCreateForm(), "people": people, "link": _link(request, token)},
    )
