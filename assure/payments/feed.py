"""The statements and allowances feeds (FEEDS.md): what the fund's payment systems send daily.

`parse` checks every rule of the contract that a line can be judged on alone (fields, status and
date rules, the amounts adding up); `apply` hands a batch to the services, which check it against
the register (unknown member, beneficiary of someone else) and write it in bulk.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assure.core.feeds import (
    ErrorCode,
    Feed,
    Fields,
    Outcome,
    ParsedLine,
    Reject,
    feed_today,
    readable_external_id,
)
from assure.core.models import FeedRun
from assure.core.services import Actor
from assure.members.nir import InvalidNir, normalize_nir
from assure.payments import rules
from assure.payments.models import AllowancePayment, Category, SickLeave, Statement
from assure.payments.services import allowances_feed_apply, statements_feed_apply

STATEMENT_STATUSES = [s.value for s in Statement.Status]
CATEGORIES = [c.value for c in Category]
STATEMENT_PAID_TO = [p.value for p in Statement.PaidTo]
LEAVE_KINDS = [k.value for k in SickLeave.Kind]
ALLOWANCE_STATUSES = [s.value for s in AllowancePayment.Status]
ALLOWANCE_PAID_TO = [p.value for p in AllowancePayment.PaidTo]
ACT_CODE = re.compile(r"[A-Za-z0-9_.\-+ ]{1,16}")

# Codes of this feed beyond the shared ones of core.feeds.
UNKNOWN_BENEFICIARY = "unknown_beneficiary"
RECEIVED_BEFORE_CARE = "received_before_care"
PAID_BEFORE_RECEIVED = "paid_before_received"
TOO_MANY_DAYS = "too_many_days"
OUTSIDE_SICK_LEAVE = "outside_sick_leave"
SICK_LEAVE_OF_ANOTHER_MEMBER = "sick_leave_of_another_member"
NEGATIVE_AMOUNT = "negative_amount"


def _digest(record: dict[str, Any]) -> str:
    """A fingerprint of the normalised line: keys in a fixed order, values by their repr (so that
    None and "None" differ), about four times cheaper than canonical JSON on the hot path."""
    canonical = "\x1f".join(f"{key}={value!r}" for key, value in sorted(record.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()


@functools.lru_cache(maxsize=65536)
def _normalized_nir(value: str) -> str | None:
    # A member's NIR comes back on each of their lines, often in a row: checked once.
    try:
        return normalize_nir(value)
    except InvalidNir:
        return None


def _nir(fields: Fields, key: str) -> str | None:
    value = fields.string(key, required=True, max_length=40)
    if value is None:
        return None
    nir = _normalized_nir(value)
    if nir is None:
        fields.error(key, ErrorCode.INVALID_NIR)
    return nir


def _not_future(fields: Fields, key: str, value: dt.date | None, today: dt.date) -> dt.date | None:
    """The date itself, or None and an error when it lies after today."""
    if value is not None and value > today:
        fields.error(key, ErrorCode.FUTURE_DATE)
        return None
    return value


def _amount(fields: Fields, key: str) -> Any:
    value = fields.amount(key, required=True)
    if value is not None and value < 0:
        fields.error(key, NEGATIVE_AMOUNT)
        return None
    return value


@dataclass(frozen=True)
class StatementLine:
    """A statements line in its normalised form: the model's fields, and who it concerns."""

    member_nir: str
    beneficiary_external_id: str | None
    fields: dict[str, Any]
    digest: str

    def __reduce__(self) -> tuple[Any, ...]:  # see ParsedLine.__reduce__
        return (
            StatementLine,
            (self.member_nir, self.beneficiary_external_id, self.fields, self.digest),
        )


def statement_line_parse(data: dict[str, Any]) -> StatementLine | dict[str, list[str]]:
    """Every rule of FEEDS.md ("statements") that one line can be judged on alone."""
    today = feed_today()
    f = Fields(data, today=today)
    record: dict[str, Any] = {
        "external_id": f.string("external_id", required=True, max_length=64),
        "status": f.choice("status", STATEMENT_STATUSES, required=True),
        "care_date": _not_future(f, "care_date", f.date("care_date", required=True), today),
        "received_on": _not_future(f, "received_on", f.date("received_on", required=True), today),
        "paid_on": _not_future(f, "paid_on", f.date("paid_on"), today),
        "category": f.choice("category", CATEGORIES, required=True),
        "act_code": f.string("act_code", required=True, pattern=ACT_CODE),
        "label": f.string("label", required=True, max_length=200),
        "provider": f.string("provider", max_length=200),
        "amount_charged": _amount(f, "amount_charged"),
        "base_amount": _amount(f, "base_amount"),
        "rate": f.integer("rate", required=True, minimum=0, maximum=100),
        "reimbursed": _amount(f, "reimbursed"),
        "flat_fee": _amount(f, "flat_fee"),
        "deductible": _amount(f, "deductible"),
        "paid_to": f.choice("paid_to", STATEMENT_PAID_TO, required=True),
        "complementary_forwarded": bool(f.boolean("complementary_forwarded")),
        "payment_reference": f.string("payment_reference", max_length=64),
        "rejection_reason": f.string("rejection_reason", max_length=300),
    }
    member_nir = _nir(f, "member_nir")
    beneficiary = f.string("beneficiary_external_id", max_length=64)

    status = record["status"]
    if status == Statement.Status.PAID and record["paid_on"] is None and "paid_on" not in f.errors:
        f.error("paid_on", ErrorCode.REQUIRED)
    if (
        status == Statement.Status.REJECTED
        and record["rejection_reason"] is None
        and "rejection_reason" not in f.errors
    ):
        f.error("rejection_reason", ErrorCode.REQUIRED)
    care, received, paid = record["care_date"], record["received_on"], record["paid_on"]
    if care is not None and received is not None and received < care:
        f.error("received_on", RECEIVED_BEFORE_CARE)
    if received is not None and paid is not None and paid < received:
        f.error("paid_on", PAID_BEFORE_RECEIVED)

    amounts = ("base_amount", "reimbursed", "flat_fee", "deductible", "rate")
    if all(record[key] is not None for key in amounts) and not rules.amounts_consistent(
        base_amount=record["base_amount"],
        rate=record["rate"],
        reimbursed=record["reimbursed"],
        flat_fee=record["flat_fee"],
        deductible=record["deductible"],
    ):
        f.error("reimbursed", ErrorCode.INCONSISTENT_AMOUNTS)

    if f.errors or member_nir is None:
        return f.errors
    digest = _digest({**record, "member_nir": member_nir, "beneficiary": beneficiary})
    return StatementLine(
        member_nir=member_nir, beneficiary_external_id=beneficiary, fields=record, digest=digest
    )


@dataclass(frozen=True)
class AllowanceLine:
    member_nir: str
    sick_leave: dict[str, Any]
    fields: dict[str, Any]
    digest: str


def allowance_line_parse(data: dict[str, Any]) -> AllowanceLine | dict[str, list[str]]:
    """Every rule of FEEDS.md ("allowances") that one line can be judged on alone."""
    f = Fields(data, today=feed_today())
    member_nir = _nir(f, "member_nir")
    leave: dict[str, Any] = {}
    leave_fields = f.object("sick_leave", required=True)
    if leave_fields is not None:
        start, end = leave_fields.period("start", "end")
        leave = {
            "external_id": leave_fields.string("external_id", required=True, max_length=64),
            "kind": leave_fields.choice("kind", LEAVE_KINDS, required=True),
            "start": start,
            "end": end,
        }
    period_start, period_end = f.period("period_start", "period_end")
    if period_end is None and "period_end" not in f.errors:
        f.error("period_end", ErrorCode.REQUIRED)
    record: dict[str, Any] = {
        "external_id": f.string("external_id", required=True, max_length=64),
        "status": f.choice("status", ALLOWANCE_STATUSES, required=True),
        "period_start": period_start,
        "period_end": period_end,
        "days": f.integer("days", required=True, minimum=0, maximum=366),
        "daily_gross": _amount(f, "daily_gross"),
        "gross": _amount(f, "gross"),
        "social_levies": _amount(f, "social_levies"),
        "net": _amount(f, "net"),
        "paid_on": f.date("paid_on", not_future=True),
        "paid_to": f.choice("paid_to", ALLOWANCE_PAID_TO, required=True),
    }
    if (
        record["status"] == AllowancePayment.Status.PAID
        and record["paid_on"] is None
        and "paid_on" not in f.errors
    ):
        f.error("paid_on", ErrorCode.REQUIRED)
    checked = ("period_start", "period_end", "days", "daily_gross", "gross", "social_levies", "net")
    if all(record[key] is not None for key in checked):
        for key, code in rules.allowance_errors(**{k: record[k] for k in checked}).items():
            f.error(key, code)
    leave_start, leave_end = leave.get("start"), leave.get("end")
    if (
        period_start is not None
        and leave_start is not None
        and (
            period_start < leave_start
            or (leave_end is not None and period_end is not None and period_end > leave_end)
        )
    ):
        f.error("period_start", OUTSIDE_SICK_LEAVE)

    if f.errors or member_nir is None:
        return f.errors
    digest = _digest({**record, "member_nir": member_nir, "sick_leave": leave})
    return AllowanceLine(member_nir=member_nir, sick_leave=leave, fields=record, digest=digest)


class StatementsFeed(Feed):
    name = "statements"

    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        parsed = statement_line_parse(data)
        if not isinstance(parsed, StatementLine):
            return Reject(line, readable_external_id(data), parsed)
        external_id = parsed.fields["external_id"]
        return ParsedLine(
            line=line,
            external_id=external_id,
            record=parsed,
            keys=frozenset({("statement", external_id)}),
        )

    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        return statements_feed_apply(
            lines=lines, run_id=run.pk, actor=Actor.feed(f"{self.name}#{run.pk}")
        )


class AllowancesFeed(Feed):
    name = "allowances"

    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        parsed = allowance_line_parse(data)
        if not isinstance(parsed, AllowanceLine):
            return Reject(line, readable_external_id(data), parsed)
        external_id = parsed.fields["external_id"]
        # The sick leave is not a key: the payments of one leave share a batch, and the leave is
        # written once per batch with the values of its last line, as line by line would.
        return ParsedLine(
            line=line,
            external_id=external_id,
            record=parsed,
            keys=frozenset({("allowance", external_id)}),
        )

    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        return allowances_feed_apply(
            lines=lines, run_id=run.pk, actor=Actor.feed(f"{self.name}#{run.pk}")
        )
