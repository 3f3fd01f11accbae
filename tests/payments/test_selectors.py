"""Reads scoped to the member: filters, keyset pages, grouping, totals, the chart's months."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assure.core.exceptions import NotFound
from assure.payments import selectors
from assure.payments.selectors import StatementFilters
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory, StatementFactory

pytestmark = pytest.mark.django_db


def _ids(page):
    return [s.external_id for s in page.items]


def test_keyset_pages_walk_the_history_newest_first_without_gaps(member):
    for i in range(25):
        StatementFactory(
            member=member,
            external_id=f"K{i:02d}",
            care_date=dt.date(2026, 1, 1) + dt.timedelta(days=i // 2),
        )
    StatementFactory()  # someone else's
    seen = []
    cursor = None
    while True:
        page = selectors.statement_list_for_member(member=member, cursor=cursor, limit=10)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 25
    keys = [(s.care_date, s.pk) for s in seen]
    assert keys == sorted(keys, reverse=True)


def test_invalid_cursor():
    with pytest.raises(selectors.InvalidCursor):
        selectors.cursor_decode("not-a-cursor")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (StatementFilters(), {"paid", "processing", "received", "rejected", "child", "dental"}),
        (StatementFilters(status="pending"), {"processing", "received"}),
        (StatementFilters(status="paid"), {"paid", "child", "dental"}),
        (StatementFilters(status="rejected"), {"rejected"}),
        (StatementFilters(category="dental"), {"dental"}),
        (
            StatementFilters(beneficiary="self"),
            {"paid", "processing", "received", "rejected", "dental"},
        ),
        (
            StatementFilters(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)),
            {"paid", "child"},
        ),
        (
            StatementFilters(start=dt.date(2020, 1, 1)),
            {"paid", "processing", "received", "rejected", "child", "dental", "old"},
        ),
    ],
)
def test_filters(member, filters, expected):
    child = BeneficiaryFactory(member=member)
    StatementFactory(member=member, external_id="paid")
    StatementFactory(
        member=member,
        external_id="processing",
        status="processing",
        paid_on=None,
        care_date=dt.date(2026, 11, 20),
        received_on=dt.date(2026, 11, 21),
    )
    StatementFactory(
        member=member,
        external_id="received",
        status="received",
        paid_on=None,
        care_date=dt.date(2026, 11, 22),
        received_on=dt.date(2026, 11, 23),
    )
    StatementFactory(
        member=member,
        external_id="rejected",
        status="rejected",
        paid_on=None,
        rejection_reason="Hors nomenclature",
        care_date=dt.date(2026, 9, 1),
    )
    StatementFactory(member=member, external_id="child", beneficiary=child)
    StatementFactory(
        member=member, external_id="dental", category="dental", care_date=dt.date(2026, 6, 1)
    )
    # 27 months ago and one day: out of the default history.
    StatementFactory(member=member, external_id="old", care_date=dt.date(2024, 8, 25))
    StatementFactory(external_id="not-mine")
    page = selectors.statement_list_for_member(member=member, filters=filters)
    assert set(_ids(page)) == expected


def test_beneficiary_filter(member):
    child = BeneficiaryFactory(member=member)
    StatementFactory(member=member, external_id="mine")
    StatementFactory(member=member, external_id="child", beneficiary=child)
    page = selectors.statement_list_for_member(
        member=member, filters=StatementFilters(beneficiary=str(child.pk))
    )
    assert _ids(page) == ["child"]
    page = selectors.statement_list_for_member(
        member=member, filters=StatementFilters(beneficiary="nonsense")
    )
    assert page.items == []


def test_history_start_is_27_months():
    assert selectors.history_start(dt.date(2026, 11, 26)) == dt.date(2024, 8, 26)
    assert selectors.months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)


def test_get_for_member_is_not_found_for_another_members_line(member):
    other = StatementFactory()
    with pytest.raises(NotFound):
        selectors.statement_get_for_member(member=member, statement_id=other.pk)
    with pytest.raises(NotFound):
        selectors.statement_get_for_member(member=member, statement_id=999999)


def test_groups_by_payment_reference_with_the_whole_payment_total(member):
    for i in range(3):
        StatementFactory(member=member, payment_reference="P1", care_date=dt.date(2026, 10, 20 - i))
    StatementFactory(
        member=member,
        payment_reference="P2",
        reimbursed=Decimal("5.00"),
        base_amount=Decimal("10.00"),
        rate=70,
        flat_fee=Decimal("2.00"),
        care_date=dt.date(2026, 10, 1),
    )
    StatementFactory(
        member=member,
        status="processing",
        paid_on=None,
        payment_reference=None,
        care_date=dt.date(2026, 11, 1),
    )
    StatementFactory(payment_reference="P1")  # another member's payment of the same reference
    page = selectors.statement_list_for_member(member=member, limit=2)
    groups = selectors.statement_groups(member=member, items=page.items)
    assert [g.reference for g in groups] == [None, "P1"]
    assert groups[1].total == Decimal("57.00")  # all three lines, not the one on this page
    assert len(groups[1].lines) == 1


def test_deductible_totals(member):
    StatementFactory(member=member, flat_fee=Decimal("2.00"))
    StatementFactory(
        member=member,
        category="pharmacy",
        flat_fee=Decimal("0.00"),
        deductible=Decimal("3.00"),
        reimbursed=Decimal("18.00"),
        paid_to="provider",
        paid_on=dt.date(2026, 11, 10),
    )
    StatementFactory(member=member, paid_on=dt.date(2025, 12, 30))  # last year
    StatementFactory(member=member, status="processing", paid_on=None)
    totals = selectors.deductible_totals_for_member(member=member, year=2026)
    assert totals.flat_fee_withheld == Decimal("2.00")
    assert totals.deductible_withheld == Decimal("3.00")
    assert totals.pending_recovery == Decimal("3.00")


def test_monthly_reimbursed(member):
    StatementFactory(member=member, paid_on=dt.date(2026, 11, 6))
    StatementFactory(
        member=member,
        paid_on=dt.date(2026, 11, 7),
        category="pharmacy",
        flat_fee=Decimal("0.00"),
        deductible=Decimal("2.00"),
    )
    StatementFactory(member=member, paid_on=dt.date(2025, 12, 1))
    StatementFactory(member=member, paid_on=dt.date(2025, 11, 30))  # 13th month back: out
    bars = selectors.monthly_reimbursed_for_member(member=member, today=dt.date(2026, 11, 26))
    assert len(bars) == 12
    assert bars[0].month == dt.date(2025, 12, 1)
    assert bars[0].total == Decimal("19.00")
    assert bars[-1].month == dt.date(2026, 11, 1)
    assert bars[-1].by_category == {"consultation": Decimal("19.00"), "pharmacy": Decimal("19.00")}


def test_sick_leaves_with_next_expected_payment(member):
    ongoing = SickLeaveFactory(member=member, start=dt.date(2026, 10, 1))
    AllowancePaymentFactory(sick_leave=ongoing, period_end=dt.date(2026, 10, 17))
    AllowancePaymentFactory(
        sick_leave=ongoing,
        period_start=dt.date(2026, 10, 18),
        period_end=dt.date(2026, 10, 31),
        status="processing",
        paid_on=None,
    )
    over = SickLeaveFactory(member=member, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 14))
    AllowancePaymentFactory(
        sick_leave=over, period_start=dt.date(2026, 3, 4), period_end=dt.date(2026, 3, 14)
    )
    SickLeaveFactory()  # someone else's
    views = selectors.sick_leave_list_for_member(member=member)
    assert [v.leave for v in views] == [ongoing, over]
    assert views[0].next_payment_expected == dt.date(2026, 11, 14)
    assert views[0].paid_total == Decimal("541.68")  # the processing one is not paid yet
    assert views[1].next_payment_expected is None
    assert selectors.next_allowance_for_member(member=member) == dt.date(2026, 11, 14)
    assert selectors.next_allowance_for_member(member=MemberFactory()) is None


def test_a_page_names_each_lines_beneficiary_from_those_given(member, django_assert_num_queries):
    lea = BeneficiaryFactory(member=member, given_names="Léa")
    StatementFactory(member=member, beneficiary=lea, care_date=dt.date(2026, 3, 2))
    StatementFactory(member=member, care_date=dt.date(2026, 3, 1))
    people = list(member.beneficiaries.all())
    with django_assert_num_queries(1):
        page = selectors.statement_list_for_member(member=member, beneficiaries=people)
        assert [s.beneficiary.given_names if s.beneficiary else None for s in page.items] == [
            "Léa",
            None,
        ]
    # Without them the lines still name their beneficiary, by id.
    page = selectors.statement_list_for_member(member=member)
    assert [s.beneficiary_id for s in page.items] == [lea.pk, None]


def test_every_filtered_first_page_is_read_through_a_compiled_statement(member):
    """Each combination of filters gives, through its statement compiled once, the lines of the
    ORM's query of the same filters."""
    import itertools
    import random

    rng = random.Random(5)
    child, other_child = BeneficiaryFactory(member=member), BeneficiaryFactory()
    for number in range(40):
        status = rng.choice(["paid", "processing", "received", "rejected"])
        StatementFactory(
            member=member,
            external_id=f"F{number}",
            status=status,
            paid_on=dt.date(2026, 11, 2) if status == "paid" else None,
            rejection_reason="Hors nomenclature" if status == "rejected" else "",
            category=rng.choice(["consultation", "dental", "pharmacy"]),
            beneficiary=rng.choice([None, child]),
            care_date=dt.date(2024, 6, 1) + dt.timedelta(days=rng.randrange(900)),
        )
    StatementFactory(external_id="not-mine", beneficiary=other_child)
    combinations = itertools.product(
        [None, "pending", "paid", "rejected"],
        [None, dt.date(2025, 3, 1)],
        [None, dt.date(2026, 6, 30)],
        [None, "dental"],
        [None, "self", str(child.pk), str(other_child.pk)],
    )
    for status, start, end, category, beneficiary in combinations:
        filters = StatementFilters(status, start, end, beneficiary, category)
        expected = list(
            selectors._statements_for(member, filters, None).order_by("-care_date", "-pk")[
                : selectors.DEFAULT_LIMIT
            ]
        )
        page = selectors.statement_list_for_member(member=member, filters=filters)
        assert page.items == expected, filters
        kind = {None: "", "self": "self"}.get(beneficiary, "id")
        read = selectors._first_page_read(status, end is not None, category is not None, kind)
        assert read._plans, filters
        assert all(read._plans.values()), filters
    assert (
        selectors.statement_list_for_member(
            member=member, filters=StatementFilters(beneficiary=str(other_child.pk))
        ).items
        == []
    )
