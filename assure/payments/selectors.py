"""Reads of the payments app, always scoped to the member who asks.

A member sees their own lines and those of the people covered through them: the feed files both
under the member, so one `member_id` condition scopes every read, and another member's line is
simply not found. Lists are read by keyset (care date, id), newest first: the cost of a page
follows the page, not the length of the history.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.core.compiled import CompiledRead
from assure.core.exceptions import NotFound, ValidationFailed
from assure.members.models import Beneficiary, Member
from assure.payments import rules
from assure.payments.models import AllowancePayment, SickLeave, Statement

CENT = Decimal("0.01")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
STATUS_FILTERS = {
    "pending": [Statement.Status.RECEIVED, Statement.Status.PROCESSING],
    "paid": [Statement.Status.PAID],
    "rejected": [Statement.Status.REJECTED],
}
# The beneficiary filter's value for the member's own care.
SELF = "self"


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    title = _("Le curseur de pagination est invalide.")


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def history_start(today: dt.date | None = None) -> dt.date:
    """The first care date shown when the member chose no period (27 months by default)."""
    return months_before(today or timezone.localdate(), settings.PAYMENTS_HISTORY_MONTHS)


def cursor_encode(statement: Statement) -> str:
    raw = f"{statement.care_date.isoformat()}.{statement.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.date, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        day, _sep, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(".")
        return dt.date.fromisoformat(day), int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor(errors={"cursor": ["invalid"]}) from None


@dataclass(frozen=True)
class StatementFilters:
    status: str | None = None  # "pending", "paid", "rejected"
    start: dt.date | None = None  # care dates from…
    end: dt.date | None = None  # …to, both included
    beneficiary: str | None = None  # a beneficiary id, or "self"
    category: str | None = None


@dataclass
class StatementPage:
    items: list[Statement]
    next_cursor: str | None


def _statements_for(member: Member, filters: StatementFilters, today: dt.date | None) -> QuerySet:
    try:
        beneficiary = _beneficiary_filter(filters.beneficiary)
    except ValueError:
        return Statement.objects.none()
    return _statements_query(
        member.pk,
        start=filters.start or history_start(today),
        end=filters.end,
        status=filters.status or None,
        category=filters.category or None,
        beneficiary=beneficiary,
    )


def _beneficiary_filter(value: str | None) -> int | str | None:
    """The person filter as the query takes it: SELF, a beneficiary's id or None (anyone);
    ValueError for any other text."""
    if not value or value == SELF:
        return value or None
    return int(value)


def _statements_query(
    member_id: int,
    *,
    start: dt.date,
    end: dt.date | None,
    status: str | None,
    category: str | None,
    beneficiary: int | str | None,
) -> QuerySet[Statement]:
    """The member's lines of care from `start`; `beneficiary` is an id, SELF or None (anyone)."""
    qs = Statement.objects.filter(member_id=member_id, care_date__gte=start)
    if end is not None:
        qs = qs.filter(care_date__lte=end)
    if status:
        qs = qs.filter(status__in=STATUS_FILTERS[status])
    if category:
        qs = qs.filter(category=category)
    if beneficiary == SELF:
        qs = qs.filter(beneficiary__isnull=True)
    elif beneficiary is not None:
        qs = qs.filter(beneficiary_id=beneficiary)
    return qs


def _beneficiaries_query(member_id: int) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.filter(member_id=member_id).order_by("birth_date", "pk")


_beneficiaries = CompiledRead(Beneficiary, _beneficiaries_query, stand_ins=(-1,))


def beneficiaries_for_member(*, member: Member) -> list[Beneficiary]:
    """Every beneficiary the member has held, eldest first: the people their lines may name."""
    return _beneficiaries.all(member.pk)


# Stand-ins of the first page's compiled statements: values no real call uses, each different.
_NO_MEMBER, _NO_BENEFICIARY = -1, -2
_NO_START, _NO_END = dt.date(1000, 1, 1), dt.date(1000, 1, 2)
_NO_CATEGORY = "-"


@functools.cache
def _first_page_read(
    status: str | None, with_end: bool, with_category: bool, beneficiary: str
) -> CompiledRead[Statement]:
    """The first page of Mes paiements (and of the API's list) for one combination of filters,
    compiled once: members open it all day long, filtered or not. `beneficiary` is "" (anyone),
    SELF or "id". At most 48 combinations (4 statuses, 2, 2, 3).

    The arguments are the member's id and the first care date, then only those the filters
    hold: the last care date, the category, the beneficiary's id."""

    def build(member_id: int, start: dt.date, *rest: Any) -> QuerySet[Statement]:
        values = list(rest)
        return _statements_query(
            member_id,
            start=start,
            end=values.pop(0) if with_end else None,
            status=status,
            category=values.pop(0) if with_category else None,
            beneficiary=values.pop(0) if beneficiary == "id" else (beneficiary or None),
        ).order_by("-care_date", "-pk")[: DEFAULT_LIMIT + 1]

    stand_ins = _first_page_args(
        _NO_MEMBER,
        _NO_START,
        _NO_END if with_end else None,
        _NO_CATEGORY if with_category else None,
        _NO_BENEFICIARY if beneficiary == "id" else None,
    )
    return CompiledRead(Statement, build, stand_ins=stand_ins)


def _first_page_args(
    member_id: int,
    start: dt.date,
    end: dt.date | None,
    category: str | None,
    beneficiary_id: int | None,
) -> list[Any]:
    """A compiled first page's arguments, for its stand-ins and for each read alike: the member
    and the first care date, then only the filters the page has, in this order."""
    return [member_id, start, *(v for v in (end, category, beneficiary_id) if v is not None)]


def _first_page_rows(
    member: Member, filters: StatementFilters, today: dt.date | None
) -> list[Statement] | None:
    """The first page through its compiled statement; None for filters it does not take."""
    if filters.status and filters.status not in STATUS_FILTERS:
        return None
    try:
        beneficiary = _beneficiary_filter(filters.beneficiary)
    except ValueError:
        return None
    beneficiary_id = beneficiary if isinstance(beneficiary, int) else None
    kind = "id" if beneficiary_id is not None else (beneficiary or "")
    read = _first_page_read(
        filters.status or None, filters.end is not None, bool(filters.category), str(kind)
    )
    args = _first_page_args(
        member.pk,
        filters.start or history_start(today),
        filters.end,
        filters.category or None,
        beneficiary_id,
    )
    return read.all(*args)


def statement_list_for_member(
    *,
    member: Member,
    filters: StatementFilters | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    today: dt.date | None = None,
    beneficiaries: Iterable[Beneficiary] | None = None,
) -> StatementPage:
    """One page of the member's lines, newest care first; `next_cursor` continues it.

    The lines carry their beneficiary's id. Given `beneficiaries` (the member's, already read by
    the caller), each line also holds its beneficiary, set from them rather than joined.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    filters = filters or StatementFilters()
    rows = None
    if not cursor and limit == DEFAULT_LIMIT:
        rows = _first_page_rows(member, filters, today)
    if rows is None:
        qs = _statements_for(member, filters, today)
        if cursor:
            day, pk = cursor_decode(cursor)
            qs = qs.filter(Q(care_date__lt=day) | Q(care_date=day, pk__lt=pk))
        rows = list(qs.order_by("-care_date", "-pk")[: limit + 1])
    if beneficiaries is not None:
        known = {b.pk: b for b in beneficiaries}
        for row in rows:
            if row.beneficiary_id in known:
                row.beneficiary = known[row.beneficiary_id]
    more = len(rows) > limit
    items = rows[:limit]
    return StatementPage(items=items, next_cursor=cursor_encode(items[-1]) if more else None)


def statement_export_for_member(
    *, member: Member, filters: StatementFilters, max_rows: int = 5000
) -> list[Statement]:
    """The lines of a chosen period for a CSV or PDF, newest first, bounded."""
    qs = _statements_for(member, filters, None).select_related("beneficiary")
    return list(qs.order_by("-care_date", "-pk")[:max_rows])


def statement_get_for_member(*, member: Member, statement_id: int) -> Statement:
    """The member's line, or NotFound: another member's line is exactly as missing."""
    found = (
        Statement.objects.select_related("beneficiary")
        .filter(pk=statement_id, member_id=member.pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


@dataclass
class PaymentGroup:
    """Lines shown together: one payment (its reference) or, without one, a single line."""

    reference: str | None
    paid_on: dt.date | None
    paid_to: str | None
    total: Decimal | None
    lines: list[Statement] = field(default_factory=list)


def statement_groups(*, member: Member, items: Sequence[Statement]) -> list[PaymentGroup]:
    """The page's lines grouped by payment reference, each with the payment's full total.

    The total counts every line of the payment, including those on other pages, in one query.
    """
    refs = {s.payment_reference for s in items if s.payment_reference and s.status == "paid"}
    totals = _payment_totals(member.pk, sorted(refs)) if refs else {}
    groups: OrderedDict[str, PaymentGroup] = OrderedDict()
    for line in items:
        if line.payment_reference and line.status == Statement.Status.PAID:
            key = f"ref:{line.payment_reference}"
            if key not in groups:
                groups[key] = PaymentGroup(
                    reference=line.payment_reference,
                    paid_on=line.paid_on,
                    paid_to=line.paid_to,
                    total=totals.get(line.payment_reference),
                )
        else:
            key = f"line:{line.pk}"
            groups[key] = PaymentGroup(
                reference=None, paid_on=line.paid_on, paid_to=line.paid_to, total=None
            )
        groups[key].lines.append(line)
    return list(groups.values())


def _payment_totals(member_id: int, refs: Sequence[str]) -> dict[str, Decimal]:
    """The full total of each of the member's payments named in `refs`.

    Written in SQL: the ORM's grouped query cost more to build than to run, on every page of
    Mes paiements (docs/performance.md). At most a page's worth of references, bound as values.
    """
    connection = connections[router.db_for_read(Statement)]
    table = connection.ops.quote_name(Statement._meta.db_table)
    marks = ", ".join(["%s"] * len(refs))
    query = (
        f"SELECT payment_reference, SUM(reimbursed) FROM {table}"  # noqa: S608 - names, not data
        f" WHERE member_id = %s AND status = %s AND payment_reference IN ({marks})"
        " GROUP BY payment_reference"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [member_id, Statement.Status.PAID.value, *refs])
        rows = cursor.fetchall()
    # SQLite sums its decimals as floating point: back to cents, as the ORM's converter does.
    return {ref: Decimal(str(total)).quantize(CENT) for ref, total in rows}


HOME_LINES = 5


def _latest_paid_query(member_id: int, limit: int = HOME_LINES) -> QuerySet[Statement]:
    return (
        Statement.objects.filter(member_id=member_id, status=Statement.Status.PAID)
        .select_related("beneficiary")
        .order_by("-care_date", "-pk")[:limit]
    )


def _pending_query(member_id: int, since: dt.date, limit: int = HOME_LINES) -> QuerySet[Statement]:
    return (
        Statement.objects.filter(
            member_id=member_id, status__in=STATUS_FILTERS["pending"], care_date__gte=since
        )
        .select_related("beneficiary")
        .order_by("-care_date", "-pk")[:limit]
    )


# Accueil's two short lists, read on every visit: compiled once.
_latest_paid = CompiledRead(Statement, _latest_paid_query, stand_ins=(-1,))
_pending = CompiledRead(Statement, _pending_query, stand_ins=(-1, dt.date(1000, 1, 1)))


def statement_latest_paid_for_member(*, member: Member, limit: int = HOME_LINES) -> list[Statement]:
    if limit == HOME_LINES:
        return _latest_paid.all(member.pk)
    return list(_latest_paid_query(member.pk, limit))


def statement_pending_for_member(*, member: Member, limit: int = HOME_LINES) -> list[Statement]:
    if limit == HOME_LINES:
        return _pending.all(member.pk, history_start())
    return list(_pending_query(member.pk, history_start(), limit))


def _withheld_query(member_id: int, first: dt.date, last: dt.date) -> QuerySet[Statement, Any]:
    return (
        Statement.objects.filter(
            member_id=member_id,
            status=Statement.Status.PAID,
            paid_on__gte=first,
            paid_on__lte=last,
        )
        # Only lines that move a total: a member-paid line without charges may still
        # recover an amount owed, so those are kept while something is owed.
        .filter(Q(flat_fee__gt=0) | Q(deductible__gt=0) | Q(paid_to=Statement.PaidTo.MEMBER))
        .values_list("paid_on", "paid_to", "reimbursed", "flat_fee", "deductible")
    )


# Read on every visit of Accueil: compiled once.
_withheld = CompiledRead(
    Statement, _withheld_query, stand_ins=(-1, dt.date(1000, 1, 1), dt.date(1000, 1, 2))
)


def deductible_totals_for_member(*, member: Member, year: int) -> rules.YearTotals:
    """Flat fees and deductibles of `year` against their caps, and what is still to recover."""
    lines = [
        rules.WithheldLine(
            paid_on=paid_on or dt.date(year, 1, 1),  # a paid line always has its date
            paid_to=paid_to,
            reimbursed=reimbursed,
            flat_fee=flat_fee,
            deductible=deductible,
        )
        for paid_on, paid_to, reimbursed, flat_fee, deductible in _withheld.tuples(
            member.pk, dt.date(year, 1, 1), dt.date(year, 12, 31)
        )
    ]
    return rules.year_totals(year=year, lines=lines)


@dataclass(frozen=True)
class MonthBar:
    month: dt.date  # first day of the month
    by_category: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_category.values(), Decimal("0.00"))


def _reimbursed_since_query(member_id: int, first: dt.date) -> QuerySet[Statement, Any]:
    return (
        Statement.objects.filter(
            member_id=member_id, status=Statement.Status.PAID, paid_on__gte=first
        )
        .values_list("paid_on", "category", "reimbursed")
        .order_by()
    )


# Read on every visit of Accueil: compiled once.
_reimbursed_since = CompiledRead(
    Statement, _reimbursed_since_query, stand_ins=(-1, dt.date(1000, 1, 1))
)


def monthly_reimbursed_for_member(
    *, member: Member, months: int = 12, today: dt.date | None = None
) -> list[MonthBar]:
    """Reimbursed per month of payment and per category, the last `months` months, oldest first."""
    today = today or timezone.localdate()
    first = months_before(today.replace(day=1), months - 1)
    sums: dict[tuple[int, int], dict[str, Decimal]] = {}
    rows = _reimbursed_since.tuples(member.pk, first)
    # Summed here rather than with TruncMonth: the same code on SQLite and PostgreSQL, and a
    # year of one member's payments is a few hundred rows at most.
    for paid_on, category, amount in rows:
        if paid_on is None:  # pragma: no cover - a paid line always has its date
            continue
        bucket = sums.setdefault((paid_on.year, paid_on.month), {})
        bucket[category] = bucket.get(category, Decimal("0.00")) + amount
    bars = []
    for offset in range(months):
        month = months_before(first, -offset)
        bars.append(MonthBar(month=month, by_category=sums.get((month.year, month.month), {})))
    return bars


@dataclass
class SickLeaveView:
    leave: SickLeave
    payments: list[AllowancePayment]
    paid_total: Decimal
    next_payment_expected: dt.date | None


def _sick_leaves_query(member_id: int) -> QuerySet[SickLeave]:
    return SickLeave.objects.filter(member_id=member_id).order_by("-start", "-pk")


def _allowance_payments_query(member_id: int) -> QuerySet[AllowancePayment]:
    return AllowancePayment.objects.filter(member_id=member_id).order_by("-period_start", "-pk")


# Read on every visit of Accueil (for the next payment expected): compiled once.
_sick_leaves = CompiledRead(SickLeave, _sick_leaves_query, stand_ins=(-1,))
_allowance_payments = CompiledRead(AllowancePayment, _allowance_payments_query, stand_ins=(-1,))


def sick_leave_list_for_member(*, member: Member) -> list[SickLeaveView]:
    """The member's sick leaves, newest first, each with its payments and the next one expected."""
    leaves = _sick_leaves.all(member.pk)
    if not leaves:  # most members: no payment to read either
        return []
    payments: dict[int, list[AllowancePayment]] = {leave.pk: [] for leave in leaves}
    for payment in _allowance_payments.all(member.pk):
        payments.setdefault(payment.sick_leave_id, []).append(payment)
    views = []
    for leave in leaves:
        own = payments.get(leave.pk, [])
        paid = [p for p in own if p.status == AllowancePayment.Status.PAID]
        last_end = max((p.period_end for p in own), default=None)
        views.append(
            SickLeaveView(
                leave=leave,
                payments=own,
                paid_total=sum((p.net for p in paid), Decimal("0.00")),
                next_payment_expected=rules.next_allowance_expected(
                    leave_start=leave.start,
                    leave_end=leave.end,
                    last_period_end=last_end,
                    interval_days=settings.ALLOWANCE_PAYMENT_INTERVAL_DAYS,
                ),
            )
        )
    return views


def next_allowance_for_member(*, member: Member) -> dt.date | None:
    """The soonest next sick-pay payment expected over the member's ongoing leaves, if any."""
    dates = [
        view.next_payment_expected
        for view in sick_leave_list_for_member(member=member)
        if view.next_payment_expected is not None
    ]
    return min(dates) if dates else None
