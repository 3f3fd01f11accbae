"""statements, allowances, deductibles: the member's money (API.md, "Member")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, get_args

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.members.models import Member
from assure.payments import selectors
from assure.payments.feed import CATEGORIES
from assure.payments.models import Statement

router = Router(tags=["payments"], auth=member_auth)

CategoryName = Literal[
    "consultation",
    "pharmacy",
    "hospital",
    "paramedical",
    "transport",
    "dental",
    "optical",
    "laboratory",
    "imaging",
    "other",
]
assert set(get_args(CategoryName)) == set(CATEGORIES)  # noqa: S101 - the contract lists them all


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


# Answers built field by field from the database, many to a page: plain pydantic models, which
# pydantic checks in its compiled core (20 lines: 0.43 → 0.07 ms), rather than ninja's Schema,
# whose wrapper reads every field through Python to support building from Django objects.
class StatementOut(BaseModel):
    id: int
    care_date: dt.date
    label: str
    category: CategoryName
    provider: str | None
    beneficiary: int | None
    status: Literal["received", "processing", "paid", "rejected"]
    amount_charged: str
    base_amount: str
    rate: int
    reimbursed: str
    flat_fee: str
    deductible: str
    paid_to: Literal["member", "provider"]
    paid_on: dt.date | None
    complementary_forwarded: bool
    payment_reference: str | None
    rejection_reason: str | None


class StatementListOut(BaseModel):
    items: list[StatementOut]
    next: str | None


class StatementFiltersIn(Schema):
    status: Literal["pending", "paid", "rejected"] | None = None
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    beneficiary: int | None = None
    category: CategoryName | None = None
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)
    cursor: str | None = None


def statement_out(s: Statement) -> StatementOut:
    return StatementOut(
        id=s.pk,
        care_date=s.care_date,
        label=s.label,
        category=s.category,  # type: ignore[arg-type]
        provider=s.provider,
        beneficiary=s.beneficiary_id,
        status=s.status,  # type: ignore[arg-type]
        amount_charged=_amount(s.amount_charged),
        base_amount=_amount(s.base_amount),
        rate=s.rate,
        reimbursed=_amount(s.reimbursed),
        flat_fee=_amount(s.flat_fee),
        deductible=_amount(s.deductible),
        paid_to=s.paid_to,  # type: ignore[arg-type]
        paid_on=s.paid_on,
        complementary_forwarded=s.complementary_forwarded,
        payment_reference=s.payment_reference,
        rejection_reason=s.rejection_reason,
    )


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


@router.get(
    "statements",
    response={200: StatementListOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="statements_list",
    summary="The member's statement lines, newest care first",
)
def statements_list(request: HttpRequest, filters: Query[StatementFiltersIn]) -> StatementListOut:
    page = selectors.statement_list_for_member(
        member=_member(request),
        filters=selectors.StatementFilters(
            status=filters.status,
            start=filters.from_,
            end=filters.to,
            beneficiary=str(filters.beneficiary) if filters.beneficiary is not None else None,
            category=filters.category,
        ),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return StatementListOut(items=[statement_out(s) for s in page.items], next=page.next_cursor)


@router.get(
    "statements/{statement_id}",
    response={200: StatementOut, 401: ProblemOut, 404: ProblemOut},
    operation_id="statements_get",
    summary="One statement line of the member",
)
def statements_get(request: HttpRequest, statement_id: int) -> StatementOut:
    return statement_out(
        selectors.statement_get_for_member(member=_member(request), statement_id=statement_id)
    )


class AllowancePaymentOut(Schema):
    period_start: dt.date
    period_end: dt.date
    days: int
    daily_gross: str
    gross: str
    social_levies: str
    net: str
    paid_on: dt.date | None
    paid_to: Literal["member", "employer"]
    status: Literal["processing", "paid"]


class SickLeaveOut(Schema):
    id: int
    kind: Literal["illness", "work_accident", "maternity", "paternity"]
    start: dt.date
    end: dt.date | None
    paid_total: str
    next_payment_expected: dt.date | None
    payments: list[AllowancePaymentOut]


class SickLeaveListOut(Schema):
    items: list[SickLeaveOut]
    next: str | None


@router.get(
    "allowances",
    response={200: SickLeaveListOut, 401: ProblemOut},
    operation_id="allowances_list",
    summary="The member's sick leaves with their allowance payments",
)
def allowances_list(request: HttpRequest) -> SickLeaveListOut:
    views = selectors.sick_leave_list_for_member(member=_member(request))
    return SickLeaveListOut(
        items=[
            SickLeaveOut(
                id=v.leave.pk,
                kind=v.leave.kind,  # type: ignore[arg-type]
                start=v.leave.start,
                end=v.leave.end,
                paid_total=_amount(v.paid_total),
                next_payment_expected=v.next_payment_expected,
                payments=[
                    AllowancePaymentOut(
                        period_start=p.period_start,
                        period_end=p.period_end,
                        days=p.days,
                        daily_gross=_amount(p.daily_gross),
                        gross=_amount(p.gross),
                        social_levies=_amount(p.social_levies),
                        net=_amount(p.net),
                        paid_on=p.paid_on,
                        paid_to=p.paid_to,  # type: ignore[arg-type]
                        status=p.status,  # type: ignore[arg-type]
                    )
                    for p in v.payments
                ],
            )
            for v in views
        ],
        next=None,
    )


class CapOut(Schema):
    withheld: str
    cap: str


class DeductiblesOut(Schema):
    year: int
    flat_fee: CapOut
    deductible: CapOut
    pending_recovery: str


class DeductiblesIn(Schema):
    year: int | None = Field(None, ge=2000, le=2100)


@router.get(
    "deductibles",
    response={200: DeductiblesOut, 400: ProblemOut, 401: ProblemOut},
    operation_id="deductibles_get",
    summary="Flat fees and deductibles withheld in a year, against their caps",
)
def deductibles_get(request: HttpRequest, query: Query[DeductiblesIn]) -> DeductiblesOut:
    year = query.year or timezone.localdate().year
    totals = selectors.deductible_totals_for_member(member=_member(request), year=year)
    return DeductiblesOut(
        year=year,
        flat_fee=CapOut(
            withheld=_amount(totals.flat_fee_withheld), cap=_amount(totals.flat_fee_cap)
        ),
        deductible=CapOut(
            withheld=_amount(totals.deductible_withheld), cap=_amount(totals.deductible_cap)
        ),
        pending_recovery=_amount(totals.pending_recovery),
    )
