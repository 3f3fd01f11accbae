"""FranceConnect pages: start, callback, the one-time NIR + code step, logout, the member's links.

The callback does the token call, the ID token checks and the signed userinfo at once (a code
lives 30 s, an access token 60 s) and keeps only the raw ID token, in the server-side session, for
the logout. Every failure gets the same neutral message and an audit event naming the reason.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assure.core.exceptions import NotFound
from assure.core.services import Actor
from assure.franceconnect import accounts, selectors, services
from assure.franceconnect.client import Client, client, random_value
from assure.franceconnect.exceptions import (
    AccountClosed,
    FranceConnectError,
    InvalidIdToken,
    InvalidUserinfo,
)
from assure.franceconnect.forms import LinkProofForm
from assure.identity import throttling
from assure.identity.decorators import member_login_required
from assure.identity.exceptions import (
    AccountLocked,
    AddressBlocked,
    InvalidCredentials,
    WeakSecretCode,
)
from assure.identity.forms import NewSecretCodeForm
from assure.identity.models import Account

AUTH_KEY = "franceconnect_auth"
ID_TOKEN_KEY = "franceconnect_id_token"  # noqa: S105 - a session key name, not a secret
PENDING_KEY = "franceconnect_pending"
LOGOUT_KEY = "franceconnect_logout_state"
# The NIR + code step must follow the FranceConnect login closely.
PENDING_SECONDS = 15 * 60
CALLBACK_ERRORS = {
    "access_denied",
    "invalid_request",
    "invalid_client",
    "server_error",
    "temporarily_unavailable",
}


def _client_or_404() -> Client:
    fc = client()
    if fc is None:
        raise Http404
    return fc


def _neutral() -> str:
    return _(
        "La connexion avec FranceConnect n'a pas abouti. Vous pouvez réessayer, ou vous "
        "connecter avec votre numéro de sécurité sociale et votre code secret."
    )


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _member_actor(account: Account) -> Actor:
    return Actor(kind="member", id=str(account.member_id), display=account.member.display_name)


@require_POST
@never_cache
def login_start(request: HttpRequest) -> HttpResponse:
    """Fresh state and nonce for this attempt, kept server-side, then off to FranceConnect."""
    fc = _client_or_404()
    state, nonce = random_value(), random_value()
    try:
        url = fc.authorization_url(
            state=state,
            nonce=nonce,
            ui_locales="en" if (request.LANGUAGE_CODE or "fr").startswith("en") else "",
        )
    except FranceConnectError as exc:
        services.franceconnect_error_record(
            action="franceconnect.unavailable", reason=str(exc.extra.get("reason", exc.code))
        )
        messages.error(request, _neutral())
        return redirect("identity:login")
    request.session[AUTH_KEY] = {
        "state": state,
        "nonce": nonce,
        "next": _safe_next(request, request.POST.get("suite", "")),
    }
    return redirect(url)


def _bad_state(request: HttpRequest, reason: str) -> HttpResponse:
    services.franceconnect_error_record(action="franceconnect.state_invalid", reason=reason)
    return render(
        request,
        "franceconnect/error.html",
        {"message": _neutral()},
        status=400,
    )


def _failed(request: HttpRequest, action: str, reason: str) -> HttpResponse:
    services.franceconnect_error_record(action=action, reason=reason)
    messages.error(request, _neutral())
    return redirect("identity:login")


def _signed_in(request: HttpRequest, account: Account, id_token: str) -> None:
    """A strong login: no e-mailed code after FranceConnect; the ID token kept for the logout."""
    accounts.member_session_start(request, account)
    request.session[ID_TOKEN_KEY] = id_token


@require_GET
@never_cache
def callback(request: HttpRequest) -> HttpResponse:
    auth = request.session.pop(AUTH_KEY, None)
    state = request.GET.get("state", "")
    if not isinstance(auth, dict) or not auth.get("state"):
        return _bad_state(request, "unknown_state")
    if not state or not hmac.compare_digest(state.encode(), str(auth["state"]).encode()):
        return _bad_state(request, "state_mismatch")
    error = request.GET.get("error", "")
    if error:
        reason = error if error in CALLBACK_ERRORS else "unknown_error"
        services.franceconnect_error_record(action="franceconnect.callback_error", reason=reason)
        if error == "access_denied":
            messages.info(
                request,
                _(
                    "La connexion avec FranceConnect a été annulée. Vous pouvez vous connecter "
                    "avec votre numéro de sécurité sociale et votre code secret."
                ),
            )
        else:
            messages.error(request, _neutral())
        return redirect("identity:login")
    code = request.GET.get("code", "")
    if not code:
        return _bad_state(request, "missing_code")
    fc = _client_or_404()
    returned_issuer = request.GET.get("iss")
    if returned_issuer is not None and returned_issuer != fc.issuer():
        # RFC 9207: an answer naming another issuer is a mix-up; the code is not sent anywhere.
        return _failed(request, "franceconnect.issuer_mismatch", "iss")
    try:
        token = fc.exchange(code=code)
        id_token = str(token.get("id_token") or "")
        if not id_token:
            raise InvalidIdToken(extra={"reason": "missing"})
        claims = fc.id_token_claims(id_token=id_token, nonce=str(auth["nonce"]))
        userinfo = fc.userinfo(token=token, sub=str(claims["sub"]))
    except InvalidIdToken as exc:
        return _failed(request, "franceconnect.id_token_invalid", str(exc.extra.get("reason")))
    except InvalidUserinfo as exc:
        return _failed(request, "franceconnect.userinfo_invalid", str(exc.extra.get("reason")))
    except FranceConnectError as exc:
        return _failed(request, "franceconnect.unavailable", str(exc.extra.get("reason")))
    # The access token is not kept anywhere: it served its one call.
    del token
    issuer = str(claims["iss"])
    sub = str(claims["sub"])
    pivot = services.Pivot.from_claims(userinfo)
    facts = services.LoginFacts.from_claims(claims)
    try:
        outcome = services.franceconnect_login(issuer=issuer, sub=sub, pivot=pivot, facts=facts)
    except AccountClosed as exc:
        messages.error(request, str(exc.title))
        return redirect("identity:login")
    target = str(auth.get("next") or "/")
    if outcome.kind == "needs_proof" or outcome.account is None:
        request.session[PENDING_KEY] = {
            "issuer": issuer,
            "sub": sub,
            "pivot": pivot.as_snapshot(),
            "acr": facts.acr,
            "amr": facts.amr,
            "auth_time": facts.auth_time.timestamp() if facts.auth_time else None,
            "id_token": id_token,
            "next": target,
            "at": time.time(),
        }
        return redirect("franceconnect:link_proof")
    _signed_in(request, outcome.account, id_token)
    if outcome.kind == "created":
        messages.success(request, _("Votre compte est créé grâce à FranceConnect."))
        return redirect("franceconnect:secret_code")
    return redirect(target)


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


@never_cache
def link_proof(request: HttpRequest) -> HttpResponse:
    """Once only: NIR + secret code prove which account this FranceConnect identity is."""
    pending = _pending(request)
    if pending is None:
        return redirect("identity:login")
    form = LinkProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = accounts.account_by_secret_code(
                nir=form.cleaned_data["nir"],
                secret_code=form.cleaned_data["secret_code"],
                address=throttling.client_address(request),
            )
        except (AccountLocked, AddressBlocked) as exc:
            form.add_error(None, str(exc.title))
        except InvalidCredentials as exc:
            form.add_error(None, str(exc.title))
        else:
            auth_time = pending.get("auth_time")
            services.franceconnect_link_with_proof(
                account=account,
                issuer=pending["issuer"],
                sub=pending["sub"],
                pivot=services.Pivot(**pending["pivot"]),
                facts=services.LoginFacts.from_claims(
                    {"acr": pending.get("acr"), "amr": pending.get("amr"), "auth_time": auth_time}
                ),
            )
            request.session.pop(PENDING_KEY, None)
            _signed_in(request, account, str(pending["id_token"]))
            messages.success(
                request,
                _(
                    "Votre compte est relié à FranceConnect : la prochaine fois, FranceConnect "
                    "suffira."
                ),
            )
            return redirect(str(pending.get("next") or "/"))
    return render(request, "franceconnect/link_proof.html", {"form": form})


@member_login_required
def secret_code_offer(request: HttpRequest) -> HttpResponse:
    """After an account made through FranceConnect: a secret code too, if the member wants one."""
    account: Account = request.member_account  # type: ignore[attr-defined]
    if account.secret_code_hash:
        return redirect("franceconnect:links")
    form = NewSecretCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.secret_code_set_first(
                account=account,
                new_secret_code=form.cleaned_data["new_secret_code"],
                actor=_member_actor(account),
            )
        except WeakSecretCode as exc:
            for message in exc.errors.get("new_secret_code", []):
                form.add_error("new_secret_code", message)
        except InvalidCredentials:
            return redirect("franceconnect:links")
        else:
            messages.success(request, _("Votre code secret est enregistré."))
            return redirect("/")
    return render(request, "franceconnect/secret_code.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends our session, then FranceConnect's (which comes back with the state we sent)."""
    id_token = request.session.get(ID_TOKEN_KEY)
    accounts.member_session_end(request)
    fc = client()
    if id_token and fc is not None:
        state = random_value()
        request.session[LOGOUT_KEY] = state
        try:
            return redirect(fc.logout_url(id_token=str(id_token), state=state))
        except FranceConnectError as exc:
            services.franceconnect_error_record(
                action="franceconnect.unavailable", reason=str(exc.extra.get("reason"))
            )
    messages.info(request, _("Vous êtes déconnecté."))
    return redirect("identity:login")


@require_GET
def logout_return(request: HttpRequest) -> HttpResponse:
    expected = request.session.pop(LOGOUT_KEY, None)
    state = request.GET.get("state", "")
    if not expected or not state or not hmac.compare_digest(state.encode(), str(expected).encode()):
        return _bad_state(request, "logout_state")
    messages.info(request, _("Vous êtes déconnecté de votre compte et de FranceConnect."))
    return redirect("identity:login")


@member_login_required
def links(request: HttpRequest) -> HttpResponse:
    account: Account = request.member_account  # type: ignore[attr-defined]
    return render(
        request,
        "franceconnect/links.html",
        {
            "links": selectors.link_list_for_member(account=account),
            "via_franceconnect": bool(request.session.get(ID_TOKEN_KEY)),
            "has_secret_code": bool(account.secret_code_hash),
        },
    )


@require_POST
@member_login_required
def link_remove(request: HttpRequest, link_id: int) -> HttpResponse:
    account: Account = request.member_account  # type: ignore[attr-defined]
    try:
        services.franceconnect_link_remove(
            account=account, link_id=link_id, actor=_member_actor(account)
        )
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Le lien avec FranceConnect est supprimé."))
    return redirect("franceconnect:links")
