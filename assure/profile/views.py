"""Mon profil: the member's details, each change on a page of its own, and their history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from assure.core.exceptions import DomainError
from assure.identity import stepup
from assure.identity.decorators import member_login_required
from assure.identity.exceptions import InvalidCode
from assure.identity.models import Account
from assure.identity.services import member_actor
from assure.members import changes
from assure.members.models import Beneficiary, Member
from assure.members.nir import mask_nir
from assure.profile.forms import (
    AddressForm,
    BankAccountForm,
    EmailForm,
    PhoneForm,
    SecurityCodeForm,
)


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def _account(request: HttpRequest) -> Account:
    return request.member_account  # type: ignore[attr-defined, no-any-return]


def _errors_to_form(form: Any, error: DomainError) -> None:
    for name, errors in error.errors.items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)
    if not error.errors:
        form.add_error(None, str(error.title))


@member_login_required
def overview(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    pending_email = (
        changes.profile_change_list_for_member(member=member)
        .filter(kind="email", status="awaiting_confirmation")
        .first()
    )
    return render(
        request,
        "profile/overview.html",
        {
            "member": member,
            "nir_masked": mask_nir(member.nir),
            "iban_masked": changes.iban_mask(member.iban),
            "beneficiaries": Beneficiary.objects.filter(member_id=member.pk, active=True),
            "pending_email": pending_email,
        },
    )


@member_login_required
def address(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    initial = {
        "line1": member.address_line1,
        "line2": member.address_line2 or "",
        "postal_code": member.postal_code,
        "city": member.city,
        "country": member.country or "FR",
    }
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            checked = changes.address_check(**form.cleaned_data)
            changes.member_address_change(
                member=member, address=checked, actor=member_actor(member)
            )
        except DomainError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Votre adresse postale a été modifiée."))
            return redirect("profile:overview")
    return render(request, "profile/address.html", {"form": form})


@member_login_required
def phone(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = PhoneForm(request.POST or None, initial={"phone": member.phone or ""})
    if request.method == "POST" and form.is_valid():
        try:
            value = changes.phone_check(form.cleaned_data["phone"])
            changes.member_phone_change(member=member, phone=value, actor=member_actor(member))
        except DomainError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Votre numéro de téléphone a été modifié."))
            return redirect("profile:overview")
    return render(request, "profile/phone.html", {"form": form})


@member_login_required
def email(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            value = changes.email_check(form.cleaned_data["email"])
            changes.member_email_change_request(
                member=member, email=value, actor=member_actor(member)
            )
        except DomainError as error:
            _errors_to_form(form, error)
        else:
            return redirect("profile:email_sent")
    return render(request, "profile/email.html", {"form": form, "member": member})


@member_login_required
def email_sent(request: HttpRequest) -> HttpResponse:
    pending = (
        changes.profile_change_list_for_member(member=_member(request))
        .filter(kind="email", status="awaiting_confirmation")
        .first()
    )
    if pending is None:
        return redirect("profile:overview")
    return render(request, "profile/email_sent.html", {"pending": pending})


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: no login asked, none given. GET only shows a button, so that a
    mail filter that opens links confirms nothing."""
    try:
        pending = changes.email_change_pending_get(token=token)
    except changes.InvalidLink:
        return render(request, "profile/email_invalid.html", status=404)
    if request.method == "POST":
        try:
            changes.member_email_change_confirm(token=token)
        except changes.InvalidLink:
            return render(request, "profile/email_invalid.html", status=404)
        return render(request, "profile/email_confirmed.html")
    return render(request, "profile/email_confirm.html", {"email": pending.values["email"]})


def _step_up_at(request: HttpRequest) -> Any:
    return stepup.step_up_session_at(request.session, account=_account(request))


@member_login_required
def bank_account(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = BankAccountForm(
        request.POST or None, initial={"holder": member.bank_holder or member.display_name}
    )
    stepped_up = _step_up_at(request)
    if stepped_up is None and request.method == "GET":
        return redirect("profile:bank_account_confirm")
    if request.method == "POST" and form.is_valid():
        try:
            checked = changes.bank_account_check(**form.cleaned_data)
            changes.member_bank_account_change(
                member=member,
                account=checked,
                second_factor_at=stepped_up,
                actor=member_actor(member),
            )
        except changes.SecondFactorRequired:
            # Typed values stay on the page; the member confirms again, then sends them.
            form.add_error(
                None,
                _(
                    "Votre confirmation par code de sécurité date de plus de 5 minutes : "
                    "confirmez à nouveau votre identité."
                ),
            )
            return render(
                request, "profile/bank_account.html", {"form": form, "expired": True}, status=400
            )
        except DomainError as error:
            _errors_to_form(form, error)
        else:
            stepup.step_up_session_clear(request.session)
            messages.success(
                request,
                _(
                    "Votre compte bancaire a été modifié. Vous recevez une confirmation par "
                    "courriel et par courrier."
                ),
            )
            return redirect("profile:overview")
    return render(request, "profile/bank_account.html", {"form": form, "expired": False})


@member_login_required
def bank_account_confirm(request: HttpRequest) -> HttpResponse:
    """Asks for the e-mailed code or the authenticator's code on the spot."""
    account = _account(request)
    member = _member(request)
    methods = stepup.step_up_methods(account)
    challenge = stepup.step_up_session_pending(request.session, account=account)
    form = SecurityCodeForm(request.POST if "code" in request.POST else None)
    problem = ""
    if request.method == "POST" and "start" in request.POST and methods:
        try:
            started = stepup.step_up_start(account=account, actor=member_actor(member))
        except DomainError as error:  # locked, or too many codes asked for
            problem = str(error.title)
        else:
            stepup.step_up_session_challenge(
                request.session, account=account, challenge=started.challenge
            )
            return redirect("profile:bank_account_confirm")
    if request.method == "POST" and challenge and form.is_valid():
        try:
            at = stepup.step_up_verify(
                account=account,
                challenge=challenge,
                code=form.cleaned_data["code"],
                method="",
                actor=member_actor(member),
            )
        except InvalidCode:
            form.add_error(
                "code",
                _("Le code est incorrect ou a expiré. Vérifiez-le, ou demandez-en un nouveau."),
            )
        except DomainError as error:
            form.add_error(None, str(error.title))
        else:
            stepup.step_up_session_mark(request.session, account=account, at=at)
            request.session.pop(f"{stepup.SESSION_KEY}_challenge", None)
            return redirect("profile:bank_account")
    return render(
        request,
        "profile/bank_account_confirm.html",
        {"form": form, "methods": methods, "challenge": bool(challenge), "problem": problem},
    )


@member_login_required
def history(request: HttpRequest) -> HttpResponse:
    items = list(changes.profile_change_list_for_member(member=_member(request))[:100])
    for item in items:
        item.shown = changes.profile_change_shown(item)  # type: ignore[attr-defined]
    return render(request, "profile/history.html", {"changes": items})
