"""auth/: sign-up, forgotten code, account check, login, second factor, code change, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import BaseModel

from assure.api.auth import member_auth
from assure.api.throttling import AddressThrottle, AuthThrottle, MemberThrottle
from assure.core.exceptions import Throttled
from assure.core.services import Actor
from assure.identity import services, throttling
from assure.identity.devices import device_label
from assure.identity.models import MemberSession

router = Router(tags=["auth"], throttle=[AddressThrottle(), AuthThrottle()])


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    code: str
    errors: dict[str, list[str]] | None = None


class LockedOut(ProblemOut):
    locked_until: str


class SupersededOut(ProblemOut):
    replaced_on: dt.date
    channel: Literal["email", "post"]


class WeakOut(ProblemOut):
    rules: list[str]


class AcceptedOut(Schema):
    detail: str


class SignupIn(Schema):
    nir: str
    birth_date: dt.date
    vitale_serial: str
    iban_end: str = ""
    email: str = ""
    channel: Literal["email", "post"] = "email"


class ForgotIn(Schema):
    nir: str
    birth_date: dt.date
    channel: Literal["email", "post"] = "email"


class AccountCheckIn(Schema):
    nir: str
    birth_date: dt.date
    vitale_serial: str


class LoginIn(Schema):
    nir: str
    secret_code: str
    device_id: str = ""


# Answers built here from keyword arguments: plain pydantic models. ninja's Schema re-reads a
# returned instance field by field through Django's template variable lookup, which on a login
# cost more than building the tokens (docs/performance.md).
class TokensOut(BaseModel):
    status: Literal["authenticated"] = "authenticated"
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int


class SecondFactorOut(BaseModel):
    status: Literal["second_factor_required"] = "second_factor_required"
    challenge: str
    methods: list[str]


class CodeChangeOut(BaseModel):
    status: Literal["code_change_required"] = "code_change_required"
    challenge: str


class SecondFactorIn(Schema):
    challenge: str
    method: Literal["email_otp", "totp", "recovery_code"]
    code: str


class SecretCodeIn(Schema):
    challenge: str
    new_secret_code: str


class RefreshIn(Schema):
    refresh_token: str


def _actor() -> Actor:
    return Actor(kind="member", id="", display="api")


def _budget(request: HttpRequest, kind: str) -> None:
    """Sign-up and friends send mail: a client address gets a bounded number per hour."""
    if not throttling.request_allowed(
        kind,
        throttling.client_address(request),
        limit=_limit(),
        window_seconds=3600,
    ):
        raise Throttled()


def _limit() -> int:
    from django.conf import settings

    return int(settings.IDENTITY_REQUESTS_PER_ADDRESS_HOUR)


def _accepted() -> AcceptedOut:
    return AcceptedOut(
        detail=_(
            "Si les informations correspondent à un assuré, un message lui a été envoyé "
            "par le moyen choisi."
        )
    )


def _device(request: HttpRequest, device_id: str) -> tuple[str, str]:
    label = device_label(request.META.get("HTTP_USER_AGENT", ""), default=_("Application mobile"))
    return services.device_hash_for(device_id, kind="app"), label


def _tokens(account: services.Account, label: str) -> TokensOut:
    pair = services.app_tokens_issue(account=account, device_label=label)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post(
    "signup",
    summary="Ask for a provisional code (same answer whatever happens)",
    response={202: AcceptedOut, 400: ProblemOut, 429: ProblemOut},
)
def signup(request: HttpRequest, payload: SignupIn) -> Status[AcceptedOut]:
    _budget(request, "signup")
    services.account_signup_request(
        nir=payload.nir,
        birth_date=payload.birth_date,
        vitale_serial=payload.vitale_serial,
        iban_end=payload.iban_end,
        email=payload.email,
        channel=payload.channel,
        actor=_actor(),
    )
    return Status(202, _accepted())


@router.post(
    "forgot-code",
    summary="Ask for a new provisional code after a forgotten secret code",
    response={202: AcceptedOut, 400: ProblemOut, 429: ProblemOut},
)
def forgot_code(request: HttpRequest, payload: ForgotIn) -> Status[AcceptedOut]:
    _budget(request, "forgot")
    services.forgot_code_request(
        nir=payload.nir, birth_date=payload.birth_date, channel=payload.channel, actor=_actor()
    )
    return Status(202, _accepted())


@router.post(
    "account-check",
    summary="Ask whether an account exists (answered by e-mail or post)",
    response={202: AcceptedOut, 400: ProblemOut, 429: ProblemOut},
)
def account_check(request: HttpRequest, payload: AccountCheckIn) -> Status[AcceptedOut]:
    _budget(request, "check")
    services.account_check_request(
        nir=payload.nir,
        birth_date=payload.birth_date,
        vitale_serial=payload.vitale_serial,
        actor=_actor(),
    )
    return Status(202, _accepted())


@router.post(
    "login",
    summary="Log in with NIR and secret code",
    response={
        200: TokensOut | SecondFactorOut | CodeChangeOut,
        400: ProblemOut,
        401: SupersededOut | ProblemOut,
        423: LockedOut,
        429: LockedOut,
    },
)
def login(request: HttpRequest, payload: LoginIn) -> TokensOut | SecondFactorOut | CodeChangeOut:
    device_hash, label = _device(request, payload.device_id)
    result = services.login(
        nir=payload.nir,
        secret_code=payload.secret_code,
        device_hash=device_hash,
        address=throttling.client_address(request),
        device_label=label,
    )
    if result.status == "code_change_required":
        return CodeChangeOut(challenge=result.challenge)
    if result.status == "second_factor_required":
        return SecondFactorOut(challenge=result.challenge, methods=result.methods)
    return _tokens(result.account, label)


@router.post(
    "second-factor",
    summary="Finish a login with the e-mailed or authenticator code",
    response={200: TokensOut, 400: ProblemOut, 401: ProblemOut},
)
def second_factor(request: HttpRequest, payload: SecondFactorIn) -> TokensOut:
    device_hash, label = _device(request, "")
    account = services.second_factor_verify(
        challenge=payload.challenge,
        method=payload.method,
        code=payload.code,
        device_hash=device_hash,
        device_label=label,
    )
    return _tokens(account, label)


@router.post(
    "secret-code",
    summary="Replace a provisional code by the member's own secret code",
    response={200: TokensOut, 400: WeakOut, 401: ProblemOut},
)
def secret_code(request: HttpRequest, payload: SecretCodeIn) -> TokensOut:
    device_hash, label = _device(request, "")
    account = services.secret_code_set_with_challenge(
        challenge=payload.challenge,
        new_secret_code=payload.new_secret_code,
        device_hash=device_hash,
        device_label=label,
    )
    return _tokens(account, label)


@router.post(
    "refresh",
    summary="New tokens for a refresh token (rotation; reuse revokes the family)",
    response={200: TokensOut, 400: ProblemOut, 401: ProblemOut},
)
def refresh(request: HttpRequest, payload: RefreshIn) -> TokensOut:
    pair = services.app_tokens_refresh(refresh_token=payload.refresh_token)
    return TokensOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "logout",
    summary="End the session of this access token",
    auth=member_auth,
    throttle=[AddressThrottle(), AuthThrottle(), MemberThrottle()],
    response={204: None, 401: ProblemOut},
)
def logout(request: HttpRequest) -> HttpResponse:
    session: MemberSession = request.member_session  # type: ignore[attr-defined]
    services.session_end(session=session, reason="logout")
    return HttpResponse(status=204)
