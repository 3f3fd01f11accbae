"""The member's identity pages: sign-up, login and its steps, forgotten code, security settings.

Views validate, call one service, and render; the answers to sign-up, forgotten code and account
check are the same page whatever happened (nothing on screen tells whether a NIR has an account).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from assure.core.exceptions import DomainError, NotFound
from assure.core.services import Actor
from assure.identity import selectors, services, throttling
from assure.identity.decorators import member_login_required
from assure.identity.devices import device_label
from assure.identity.exceptions import (
    AccountLocked,
    AddressBlocked,
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    SupersededCode,
    WeakSecretCode,
)
from assure.identity.forms import (
    AccountCheckForm,
    ConfirmSecretCodeForm,
    ForgotCodeForm,
    LoginForm,
    NewSecretCodeForm,
    RecoveryCodeForm,
    SecurityCodeForm,
    SignupForm,
)
from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from assure.members.nir import mask_nir

CHALLENGE_KEY = "identity_challenge"
CHALLENGE_METHODS_KEY = "identity_challenge_methods"
NEXT_KEY = "identity_next"
TOTP_KEY = "identity_totp_secret"
DEVICE_SALT = "assure.identity.device"
NIR_SALT = "assure.identity.nir"
_YEAR = 365 * 24 * 3600


def _anonymous_actor() -> Actor:
    return Actor(kind="member", id="", display="web")


# --- Cookies: the device and the remembered NIR -------------------------------------------------


def _cookie_kwargs(max_age: int) -> dict[str, Any]:
    return {
        "max_age": max_age,
        "httponly": True,
        "samesite": "Lax",
        "secure": settings.SESSION_COOKIE_SECURE,
        "path": "/",
    }


def _device_id(request: HttpRequest) -> str:
    """This browser's random id, from a signed cookie (set by `_keep_device` when missing)."""
    cached = getattr(request, "_identity_device_id", None)
    if cached:
        return str(cached)
    value = request.get_signed_cookie(settings.IDENTITY_DEVICE_COOKIE, default="", salt=DEVICE_SALT)
    if not value:
        value = services.token_new()
    request._identity_device_id = value  # type: ignore[attr-defined]
    return str(value)


def _device(request: HttpRequest) -> tuple[str, str]:
    label = device_label(request.META.get("HTTP_USER_AGENT", ""), default=_("Navigateur"))
    return services.device_hash_for(_device_id(request), kind="web"), label


def _keep_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    device_id = _device_id(request)
    response.set_signed_cookie(
        settings.IDENTITY_DEVICE_COOKIE,
        device_id,
        salt=DEVICE_SALT,
        **_cookie_kwargs(settings.IDENTITY_DEVICE_DAYS * 24 * 3600),
    )
    return response


def _remembered_nir(request: HttpRequest) -> str:
    return str(request.get_signed_cookie(settings.IDENTITY_NIR_COOKIE, default="", salt=NIR_SALT))


# --- Signing in ----------------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.session.pop(NEXT_KEY, "") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return "/"


def _sign_in(request: HttpRequest, account: Account, label: str) -> HttpResponse:
    """A new session key at login (no fixation), its mirror row, then the page asked for."""
    target = _next_url(request)
    request.session.cycle_key()
    request.session.pop(CHALLENGE_KEY, None)
    request.session.pop(CHALLENGE_METHODS_KEY, None)
    session = services.session_start(
        account=account,
        kind=MemberSession.Kind.WEB,
        device_label=label,
        session_key=request.session.session_key or "",
    )
    request.session[SESSION_KEY] = session.pk
    return _keep_device(request, redirect(target))


def _locked_message(error: DomainError) -> str:
    until = parse_datetime(str(error.extra.get("locked_until", "")))
    if until is None:
        return str(error.title)
    when = formats.date_format(timezone.localtime(until), "DATETIME_FORMAT")
    return _("%(title)s Vous pourrez réessayer à partir du %(when)s.") % {
        "title": error.title,
        "when": when,
    }


@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    remembered = _remembered_nir(request)
    if request.method == "GET" and request.GET.get("suite"):
        request.session[NEXT_KEY] = request.GET["suite"]
    form = LoginForm(request.POST or None, remembered_nir=remembered)
    if request.method == "POST" and form.is_valid():
        device_hash, label = _device(request)
        try:
            result = services.login(
                nir=form.cleaned_data["nir"],
                secret_code=form.cleaned_data["secret_code"],
                device_hash=device_hash,
                address=throttling.client_address(request),
                device_label=label,
            )
        except (AccountLocked, AddressBlocked) as exc:
            form.add_error(None, _locked_message(exc))
        except SupersededCode as exc:
            replaced = formats.date_format(
                dt.date.fromisoformat(exc.extra["replaced_on"]), "DATE_FORMAT"
            )
            channel = _("par courriel") if exc.extra["channel"] == "email" else _("par courrier")
            form.add_error(
                "secret_code",
                _(
                    "Ce code provisoire a été remplacé le %(date)s. Utilisez le plus récent, "
                    "envoyé %(channel)s."
                )
                % {"date": replaced, "channel": channel},
            )
        except InvalidCredentials as exc:
            form.add_error(None, str(exc.title))
        else:
            response: HttpResponse
            if result.status == "authenticated":
                response = _sign_in(request, result.account, label)
            else:
                request.session[CHALLENGE_KEY] = result.challenge
                request.session[CHALLENGE_METHODS_KEY] = result.methods
                step = (
                    "identity:new_code"
                    if result.status == "code_change_required"
                    else "identity:security_code"
                )
                response = _keep_device(request, redirect(step))
            if form.cleaned_data.get("remember_nir"):
                response.set_signed_cookie(
                    settings.IDENTITY_NIR_COOKIE,
                    form.cleaned_data["nir"],
                    salt=NIR_SALT,
                    **_cookie_kwargs(_YEAR),
                )
            else:
                response.delete_cookie(settings.IDENTITY_NIR_COOKIE, path="/")
            return response
    response = render(
        request,
        "identity/login.html",
        {"form": form, "masked_nir": mask_nir(remembered) if remembered else ""},
    )
    return _keep_device(request, response)


@require_POST
def forget_nir(request: HttpRequest) -> HttpResponse:
    response = redirect("identity:login")
    response.delete_cookie(settings.IDENTITY_NIR_COOKIE, path="/")
    return response


def _challenge_or_login(request: HttpRequest) -> str | None:
    return request.session.get(CHALLENGE_KEY)


@never_cache
def new_code_view(request: HttpRequest) -> HttpResponse:
    challenge = _challenge_or_login(request)
    if not challenge:
        return redirect("identity:login")
    form = NewSecretCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device_hash, label = _device(request)
        try:
            account = services.secret_code_set_with_challenge(
                challenge=challenge,
                new_secret_code=form.cleaned_data["new_secret_code"],
                device_hash=device_hash,
                device_label=label,
            )
        except WeakSecretCode as exc:
            for message in exc.errors.get("new_secret_code", []):
                form.add_error("new_secret_code", message)
        except InvalidToken:
            request.session.pop(CHALLENGE_KEY, None)
            messages.error(request, _("Cette étape a expiré : reconnectez-vous avec votre code."))
            return redirect("identity:login")
        else:
            messages.success(request, _("Votre code secret est enregistré."))
            return _sign_in(request, account, label)
    return render(request, "identity/new_code.html", {"form": form})


@never_cache
def security_code_view(request: HttpRequest, *, recovery: bool = False) -> HttpResponse:
    challenge = _challenge_or_login(request)
    if not challenge:
        return redirect("identity:login")
    methods = request.session.get(CHALLENGE_METHODS_KEY, [])
    form: Form = (
        RecoveryCodeForm(request.POST or None)
        if recovery
        else SecurityCodeForm(request.POST or None)
    )
    method = "recovery_code" if recovery else ("totp" if "totp" in methods else "email_otp")
    if request.method == "POST" and form.is_valid():
        device_hash, label = _device(request)
        try:
            account = services.second_factor_verify(
                challenge=challenge,
                method=method,
                code=form.cleaned_data["code"],
                device_hash=device_hash,
                device_label=label,
            )
        except InvalidCode:
            form.add_error(
                "code",
                _("Ce code est incorrect ou a expiré. Après 5 essais, reconnectez-vous."),
            )
        else:
            return _sign_in(request, account, label)
    return render(
        request,
        "identity/security_code.html",
        {"form": form, "method": method, "recovery": recovery, "methods": methods},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session = getattr(request, "member_session", None)
    if session is not None:
        services.session_end(session=session, reason="logout")
    request.session.flush()
    messages.info(request, _("Vous êtes déconnecté."))
    return redirect("identity:login")


# --- Requests answered by e-mail or post ---------------------------------------------------------


def _within_budget(request: HttpRequest, kind: str, form: Form) -> bool:
    if throttling.request_allowed(
        kind,
        throttling.client_address(request),
        limit=settings.IDENTITY_REQUESTS_PER_ADDRESS_HOUR,
        window_seconds=3600,
    ):
        return True
    form.add_error(None, _("Trop de demandes depuis cette adresse : réessayez dans une heure."))
    return False


@never_cache
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _within_budget(request, "signup", form):
        data = form.cleaned_data
        services.account_signup_request(
            nir=data["nir"],
            birth_date=data["birth_date"],
            vitale_serial=data["vitale_serial"],
            iban_end=data["iban_end"],
            email=data["email"],
            channel=data["channel"],
            actor=_anonymous_actor(),
        )
        return redirect("identity:signup_sent")
    return render(request, "identity/signup.html", {"form": form})


@never_cache
def forgot_code_view(request: HttpRequest) -> HttpResponse:
    form = ForgotCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _within_budget(request, "forgot", form):
        data = form.cleaned_data
        services.forgot_code_request(
            nir=data["nir"],
            birth_date=data["birth_date"],
            channel=data["channel"],
            actor=_anonymous_actor(),
        )
        return redirect("identity:forgot_code_sent")
    return render(request, "identity/forgot_code.html", {"form": form})


@never_cache
def account_check_view(request: HttpRequest) -> HttpResponse:
    form = AccountCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _within_budget(request, "check", form):
        data = form.cleaned_data
        services.account_check_request(
            nir=data["nir"],
            birth_date=data["birth_date"],
            vitale_serial=data["vitale_serial"],
            actor=_anonymous_actor(),
        )
        return redirect("identity:account_check_sent")
    return render(request, "identity/account_check.html", {"form": form})


def request_sent_view(request: HttpRequest, *, kind: str) -> HttpResponse:
    return render(request, "identity/request_sent.html", {"kind": kind})


# --- Security settings ---------------------------------------------------------------------------


def _account(request: HttpRequest) -> Account:
    return request.member_account  # type: ignore[attr-defined,no-any-return]


@member_login_required
def security_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    current_hash = services.token_hash(request.session.session_key or "", purpose="session")
    return render(
        request,
        "identity/security.html",
        {
            "account": account,
            "sessions": selectors.session_list_for_member(account=account),
            "current_hash": current_hash,
            "recovery_left": selectors.recovery_codes_left_for_member(account=account),
        },
    )


@require_POST
@member_login_required
def session_end_view(request: HttpRequest, session_id: int) -> HttpResponse:
    account = _account(request)
    try:
        services.session_end_for_member(
            account=account, session_id=session_id, actor=services.member_actor(account.member)
        )
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("La session est fermée."))
    return redirect("identity:security")


@member_login_required
def change_code_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = ConfirmSecretCodeForm(request.POST or None)
    new_form = NewSecretCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and new_form.is_valid():
        try:
            services.secret_code_change(
                account=account,
                current_secret_code=form.cleaned_data["secret_code"],
                new_secret_code=new_form.cleaned_data["new_secret_code"],
                actor=services.member_actor(account.member),
            )
        except InvalidCredentials:
            form.add_error("secret_code", _("Votre code secret actuel est incorrect"))
        except WeakSecretCode as exc:
            for message in exc.errors.get("new_secret_code", []):
                new_form.add_error("new_secret_code", message)
        else:
            messages.success(request, _("Votre code secret est changé."))
            return redirect("identity:security")
    return render(request, "identity/change_code.html", {"form": form, "new_form": new_form})


@member_login_required
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    secret = request.session.get(TOTP_KEY) or services.totp_secret_new()
    request.session[TOTP_KEY] = secret
    form = SecurityCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enable(
                account=account,
                secret=secret,
                code=form.cleaned_data["code"],
                actor=services.member_actor(account.member),
            )
        except InvalidCode:
            form.add_error("code", _("Ce code est incorrect : tapez celui affiché maintenant"))
        else:
            request.session.pop(TOTP_KEY, None)
            return render(request, "identity/recovery_codes.html", {"codes": codes})
    uri = services.totp_provisioning_uri(account=account, secret=secret)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=_("Code QR à scanner avec votre application d'authentification")
    )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "identity/totp_enrol.html",
        {"form": form, "qr_svg": qr_svg, "secret": grouped},
    )


@require_POST
@member_login_required
def totp_disable_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    services.totp_disable(account=account, actor=services.member_actor(account.member))
    messages.success(request, _("L'application d'authentification est désactivée."))
    return redirect("identity:security")


@member_login_required
def terminate_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = ConfirmSecretCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_terminate(
                account=account,
                secret_code=form.cleaned_data["secret_code"],
                address=throttling.client_address(request),
                actor=services.member_actor(account.member),
            )
        except (AccountLocked, AddressBlocked) as exc:
            form.add_error(None, _locked_message(exc))
        except InvalidCredentials:
            form.add_error("secret_code", _("Votre code secret est incorrect"))
        else:
            request.session.flush()
            return render(request, "identity/terminated.html")
    return render(request, "identity/terminate.html", {"form": form})
