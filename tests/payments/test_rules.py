"""The money rules of DOMAIN.md, table by table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from assure.payments import rules


@pytest.mark.parametrize(
    ("base", "rate", "flat_fee", "deductible", "expected"),
    [
        (D("30.00"), 70, D("2.00"), D("0.00"), D("19.00")),  # DOMAIN.md's GP visit
        (D("30.00"), 100, D("2.00"), D("0.00"), D("28.00")),  # in ALD: 100 %, still a flat fee
        (D("30.00"), 70, D("0.00"), D("0.00"), D("21.00")),  # a minor: nothing withheld
        (D("10.15"), 65, D("0.00"), D("1.00"), D("5.60")),  # 6.5975 rounds half up to 6.60
        (D("1.50"), 30, D("0.00"), D("1.00"), D("0.00")),  # never below zero
        (D("0.00"), 0, D("0.00"), D("0.00"), D("0.00")),
    ],
)
def test_reimbursement(base, rate, flat_fee, deductible, expected):
    assert (
        rules.reimbursement(base_amount=base, rate=rate, flat_fee=flat_fee, deductible=deductible)
        == expected
    )


@pytest.mark.parametrize(
    ("reimbursed", "consistent"),
    [
        (D("19.00"), True),
        (D("19.01"), True),  # a cent of tolerance
        (D("18.99"), True),
        (D("19.02"), False),
        (D("21.00"), False),  # flat fee not withheld
    ],
)
def test_amounts_consistent_has_a_cent_of_tolerance(reimbursed, consistent):
    assert (
        rules.amounts_consistent(
            base_amount=D("30.00"),
            rate=70,
            reimbursed=reimbursed,
            flat_fee=D("2.00"),
            deductible=D("0.00"),
        )
        is consistent
    )


def test_the_gp_visit_of_domain_md():
    act = rules.act_reimbursement(base_amount=D("30.00"), rate=70, category="consultation")
    assert (act.covered, act.flat_fee, act.deductible, act.reimbursed) == (
        D("21.00"),
        D("2.00"),
        D("0.00"),
        D("19.00"),
    )


@pytest.mark.parametrize(
    ("acts", "exempt", "day", "year", "expected"),
    [
        (1, False, D("0"), D("0"), D("2.00")),
        (2, False, D("0"), D("0"), D("4.00")),
        (3, False, D("0"), D("0"), D("4.00")),  # €4 a day
        (1, False, D("4.00"), D("0"), D("0.00")),  # the day's cap already reached
        (1, False, D("2.00"), D("0"), D("2.00")),
        (1, False, D("0"), D("49.00"), D("1.00")),  # €50 a year
        (1, False, D("0"), D("50.00"), D("0.00")),
        (1, True, D("0"), D("0"), D("0.00")),  # exempt
        (0, False, D("0"), D("0"), D("0.00")),
    ],
)
def test_flat_fee_due(acts, exempt, day, year, expected):
    assert (
        rules.flat_fee_due(acts=acts, exempt=exempt, day_so_far=day, year_so_far=year) == expected
    )


@pytest.mark.parametrize(
    ("category", "units", "day", "year", "expected"),
    [
        ("pharmacy", 3, D("0"), D("0"), D("3.00")),  # €1 a box
        ("pharmacy", 12, D("0"), D("0"), D("12.00")),  # no day cap for medicines
        ("paramedical", 1, D("0"), D("0"), D("1.00")),
        ("paramedical", 6, D("0"), D("0"), D("4.00")),  # €4 a day
        ("paramedical", 1, D("4.00"), D("0"), D("0.00")),
        ("transport", 1, D("0"), D("0"), D("4.00")),  # €4 a transport
        ("transport", 3, D("0"), D("0"), D("8.00")),  # €8 a day
        ("transport", 1, D("6.00"), D("0"), D("2.00")),
        ("pharmacy", 5, D("0"), D("48.00"), D("2.00")),  # €50 a year
        ("consultation", 1, D("0"), D("0"), D("0.00")),  # not a deductible act
    ],
)
def test_deductible_due(category, units, day, year, expected):
    assert (
        rules.deductible_due(
            category=category, units=units, exempt=False, day_so_far=day, year_so_far=year
        )
        == expected
    )


def test_deductible_exempt():
    assert rules.deductible_due(category="pharmacy", units=3, exempt=True) == D("0.00")


def test_withholding_never_exceeds_the_covered_share():
    act = rules.act_reimbursement(base_amount=D("1.50"), rate=30, category="pharmacy", units=2)
    assert act.covered == D("0.45")
    assert act.deductible == D("0.45")
    assert act.reimbursed == D("0.00")


BIRTH = dt.date(1990, 6, 15)


@pytest.mark.parametrize(
    ("birth_date", "exemptions", "on", "exempt"),
    [
        (BIRTH, [], dt.date(2026, 1, 1), False),
        (dt.date(2010, 6, 15), [], dt.date(2026, 6, 14), True),  # a minor, the day before 18
        (dt.date(2008, 6, 15), [], dt.date(2026, 6, 15), False),  # 18 that day
        (BIRTH, [{"kind": "css", "start": "2026-01-01", "end": None}], dt.date(2026, 3, 1), True),
        (
            BIRTH,
            [{"kind": "ame", "start": "2025-01-01", "end": "2025-12-31"}],
            dt.date(2026, 3, 1),
            False,
        ),
        (
            BIRTH,
            [{"kind": "maternity", "start": "2026-02-01", "end": "2026-09-01"}],
            dt.date(2026, 3, 1),
            True,
        ),
        (
            BIRTH,
            [{"kind": "maternity", "start": "2026-04-01", "end": None}],
            dt.date(2026, 3, 1),
            False,
        ),
        (BIRTH, [{"kind": "ald", "start": "2020-01-01", "end": None}], dt.date(2026, 3, 1), False),
    ],
)
def test_exemptions(birth_date, exemptions, on, exempt):
    assert rules.is_exempt(birth_date=birth_date, exemptions=exemptions, on=on) is exempt


def _line(day, paid_to="member", reimbursed="19.00", flat_fee="2.00", deductible="0.00"):
    return rules.WithheldLine(
        paid_on=day,
        paid_to=paid_to,
        reimbursed=D(reimbursed),
        flat_fee=D(flat_fee),
        deductible=D(deductible),
    )


def test_year_totals_count_the_year_only_and_cap_at_50():
    lines = [_line(dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(30)]
    lines.append(_line(dt.date(2025, 12, 31), flat_fee="2.00"))
    totals = rules.year_totals(year=2026, lines=lines)
    assert totals.flat_fee_withheld == D("50.00")  # 30 times €2 = €60, capped
    assert totals.flat_fee_percent == 100
    assert totals.flat_fee_remaining == D("0.00")
    assert totals.deductible_withheld == D("0.00")
    assert totals.pending_recovery == D("0.00")


def test_third_party_payment_leaves_an_amount_to_recover_until_a_later_reimbursement():
    lines = [
        _line(
            dt.date(2026, 3, 1),
            paid_to="provider",
            reimbursed="5.00",
            flat_fee="0.00",
            deductible="3.00",
        ),
        _line(dt.date(2026, 3, 2), paid_to="provider", reimbursed="19.00", flat_fee="2.00"),
    ]
    assert rules.year_totals(year=2026, lines=lines).pending_recovery == D("5.00")
    lines.append(_line(dt.date(2026, 3, 10), reimbursed="3.50", flat_fee="0.00"))
    totals = rules.year_totals(year=2026, lines=lines)
    assert totals.pending_recovery == D("1.50")
    assert totals.deductible_withheld == D("3.00")
    assert totals.deductible_percent == 6


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {}),
        ({"days": 11}, {}),  # three waiting days taken off a 14-day period
        ({"days": 15}, {"days": "too_many_days"}),
        ({"gross": "580.59"}, {}),  # a cent of tolerance
        ({"gross": "600.00"}, {"gross": "inconsistent_amounts", "net": "inconsistent_amounts"}),
        ({"net": "550.00"}, {"net": "inconsistent_amounts"}),
        ({"period_end": dt.date(2026, 10, 1)}, {"period_end": "end_before_start"}),
    ],
)
def test_allowance_errors(fields, errors):
    values = {
        "period_start": dt.date(2026, 10, 4),
        "period_end": dt.date(2026, 10, 17),
        "days": 14,
        "daily_gross": D("41.47"),
        "gross": D("580.58"),
        "social_levies": D("38.90"),
        "net": D("541.68"),
    }
    for key, value in fields.items():
        values[key] = D(value) if isinstance(value, str) else value
    if "days" in fields and "gross" not in fields:
        values["gross"] = (values["daily_gross"] * values["days"]).quantize(D("0.01"))
        values["net"] = values["gross"] - values["social_levies"]
    assert rules.allowance_errors(**values) == errors


@pytest.mark.parametrize(
    ("start", "end", "last", "expected"),
    [
        (dt.date(2026, 10, 1), None, dt.date(2026, 10, 17), dt.date(2026, 10, 31)),
        (dt.date(2026, 10, 1), None, None, dt.date(2026, 10, 15)),  # nothing paid yet
        (dt.date(2026, 10, 1), dt.date(2026, 11, 30), dt.date(2026, 10, 17), dt.date(2026, 10, 31)),
        (dt.date(2026, 10, 1), dt.date(2026, 10, 17), dt.date(2026, 10, 17), None),  # all paid
    ],
)
def test_next_allowance_expected(start, end, last, expected):
    assert (
        rules.next_allowance_expected(
            leave_start=start, leave_end=end, last_period_end=last, interval_days=14
        )
        == expected
    )
