"""me, me/address, me/phone, me/email, me/bank-account, me/changes (API.md, "Member")."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.core.exceptions import ValidationFailed
from assure.identity import stepup
from assure.identity.models import Account
from assure.identity.services import member_actor
from assure.members import changes
from assure.members.models import Beneficiary, Member
from assure.members.nir import mask_nir

router = Router(tags=["profile"], auth=member_auth)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class AddressOut(Schema):
    line1: str
    line2: str | None
    postal_code: str
    city: str
    country: str


class BankAccountOut(Schema):
    iban_masked: str
    holder: str | None


class BeneficiaryOut(Schema):
    id: int
    given_names: str
    family_name: str
    birth_date: dt.date
    relation: Literal["child", "spouse", "other"]


class ExemptionOut(Schema):
    kind: Literal["ald", "maternity", "css", "ame"]
    start: dt.date | None
    end: dt.date | None


class CoverageOut(Schema):
    start: dt.date
    end: dt.date | None
    exemptions: list[ExemptionOut]


class MeOut(Schema):
    id: int
    nir: str
    given_names: str
    family_name: str
    birth_date: dt.date
    email: str | None
    phone: str | None
    address: AddressOut
    bank_account: BankAccountOut | None
    beneficiaries: list[BeneficiaryOut]
    coverage: CoverageOut


class AddressIn(Schema):
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str = "FR"


class PhoneIn(Schema):
    phone: str


class EmailIn(Schema):
    email: str


class BankAccountIn(Schema):
    iban: str
    bic: str
    holder: str
    # Absent on the first call: the answer is 401 second_factor_required with a challenge.
    challenge: str | None = None
    code: str | None = None
    method: Literal["email_otp", "totp", "recovery_code"] | None = None


class AcceptedOut(Schema):
    detail: str


class SecondFactorRequiredOut(ProblemOut):
    challenge: str
    methods: list[str]


class ChangeOut(Schema):
    id: int
    kind: Literal["address", "phone", "email", "bank_account"]
    status: Literal["applied", "pending_fund", "awaiting_confirmation", "cancelled"]
    requested_at: dt.datetime
    applied_at: dt.datetime | None
    value: str


class ChangeListOut(Schema):
    items: list[ChangeOut]
    next: str | None


class ChangeListQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    title = gettext_lazy("Le curseur de pagination est invalide.")


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def _account(request: HttpRequest) -> Account:
    return request.member_account  # type: ignore[attr-defined, no-any-return]


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def me_out(member: Member) -> MeOut:
    beneficiaries = Beneficiary.objects.filter(member_id=member.pk, active=True).order_by(
        "birth_date", "pk"
    )
    return MeOut(
        id=member.pk,
        nir=mask_nir(member.nir),
        given_names=member.given_names,
        family_name=member.family_name,
        birth_date=member.birth_date,
        email=member.email or None,
        phone=member.phone or None,
        address=AddressOut(
            line1=member.address_line1,
            line2=member.address_line2 or None,
            postal_code=member.postal_code,
            city=member.city,
            country=member.country or "FR",
        ),
        bank_account=(
            BankAccountOut(iban_masked=changes.iban_mask(member.iban), holder=member.bank_holder)
            if member.iban
            else None
        ),
        beneficiaries=[
            BeneficiaryOut(
                id=b.pk,
                given_names=b.given_names,
                family_name=b.birth_name,
                birth_date=b.birth_date,
                relation=b.relation,  # type: ignore[arg-type]
            )
            for b in beneficiaries
        ],
        coverage=CoverageOut(
            start=member.coverage_start,
            end=member.coverage_end,
            exemptions=[
                ExemptionOut(kind=e["kind"], start=_date(e.get("start")), end=_date(e.get("end")))
                for e in member.exemptions or []
            ],
        ),
    )


@router.get("me", response={200: MeOut, 401: ProblemOut}, operation_id="me_get")
def me_get(request: HttpRequest) -> MeOut:
    return me_out(_member(request))


@router.patch(
    "me/address",
    response={200: MeOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="me_address_update",
    summary="Change the postal address (French postal rules)",
)
def me_address_update(request: HttpRequest, body: AddressIn) -> MeOut:
    member = _member(request)
    address = changes.address_check(
        line1=body.line1,
        line2=body.line2 or "",
        postal_code=body.postal_code,
        city=body.city,
        country=body.country,
    )
    changes.member_address_change(member=member, address=address, actor=member_actor(member))
    return me_out(member)


@router.patch(
    "me/phone",
    response={200: MeOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="me_phone_update",
    summary="Change the phone number (E.164 or French national format)",
)
def me_phone_update(request: HttpRequest, body: PhoneIn) -> MeOut:
    member = _member(request)
    phone = changes.phone_check(body.phone)
    changes.member_phone_change(member=member, phone=phone, actor=member_actor(member))
    return me_out(member)


@router.post(
    "me/email",
    response={202: AcceptedOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="me_email_change",
    summary="Send a confirmation link to a new e-mail address",
)
def me_email_change(request: HttpRequest, body: EmailIn) -> Status:
    member = _member(request)
    email = changes.email_check(body.email)
    changes.member_email_change_request(member=member, email=email, actor=member_actor(member))
    return Status(
        202,
        AcceptedOut(
            detail=gettext(
                "Un lien a été envoyé à la nouvelle adresse : elle remplace l'ancienne "
                "quand il est ouvert."
            )
        ),
    )


@router.post(
    "me/bank-account",
    response={
        200: MeOut,
        400: ProblemOut,
        401: SecondFactorRequiredOut | ProblemOut,
        403: ProblemOut,
    },
    operation_id="me_bank_account_change",
    summary="Change the bank account, with a second factor done within the last 5 minutes",
    description=(
        "Without `challenge` and `code`, answers 401 `second_factor_required` with a `challenge` "
        "and its `methods` (an e-mail code is sent when the method is `email_otp`). Send the "
        "same body again with `challenge` and `code` within 5 minutes. A wrong code is 401 "
        "`invalid_code`; no method available is 403 `second_factor_unavailable`."
    ),
)
def me_bank_account_change(request: HttpRequest, body: BankAccountIn) -> Any:
    member = _member(request)
    account = _account(request)
    actor = member_actor(member)
    checked = changes.bank_account_check(iban=body.iban, bic=body.bic, holder=body.holder)
    if not body.challenge or not body.code:
        started = stepup.step_up_start(account=account, actor=actor)
        error = changes.SecondFactorRequired()
        error.extra = {"challenge": started.challenge, "methods": started.methods}
        raise error
    at = stepup.step_up_verify(
        account=account,
        challenge=body.challenge,
        code=body.code,
        method=body.method or "",
        actor=actor,
    )
    changes.member_bank_account_change(
        member=member, account=checked, second_factor_at=at, actor=actor
    )
    return me_out(member)


def _cursor_decode(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(errors={"cursor": ["invalid"]}) from None


def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


@router.get(
    "me/changes",
    response={200: ChangeListOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="me_changes_list",
    summary="History of the member's profile changes, newest first",
)
def me_changes_list(request: HttpRequest, query: Query[ChangeListQuery]) -> ChangeListOut:
    limit = query.limit
    qs = changes.profile_change_list_for_member(member=_member(request)).order_by("-id")
    if query.cursor:
        qs = qs.filter(id__lt=_cursor_decode(query.cursor))
    items = list(qs[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return ChangeListOut(
        items=[
            ChangeOut(
                id=c.pk,
                kind=c.kind,  # type: ignore[arg-type]
                status=c.status,  # type: ignore[arg-type]
                requested_at=c.created_at,
                applied_at=c.applied_at,
                value=changes.profile_change_shown(c),
            )
            for c in items
        ],
        next=_cursor_encode(items[-1].pk) if more and items else None,
    )
