"""The money rules of DOMAIN.md as pure functions: no database, no settings, no clock.

The feed's amounts are the truth: the fund's own systems computed them. These functions check them
(a line whose figures do not add up is refused) and work out what the member is shown about the
yearly caps of flat fees and deductibles. Figures are those in force in 2025-2026 (DOMAIN.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# A difference of one cent is a rounding done elsewhere, not an error.
TOLERANCE = Decimal("0.01")

# Participation forfaitaire: per act, per day, per calendar year.
FLAT_FEE_PER_ACT = Decimal("2.00")
FLAT_FEE_DAY_CAP = Decimal("4.00")
FLAT_FEE_YEAR_CAP = Decimal("50.00")
# Franchise médicale: per medicine box or paramedical act, per medical transport.
DEDUCTIBLE_PER_UNIT = Decimal("1.00")
DEDUCTIBLE_PER_TRANSPORT = Decimal("4.00")
DEDUCTIBLE_DAY_CAP_PARAMEDICAL = Decimal("4.00")
DEDUCTIBLE_DAY_CAP_TRANSPORT = Decimal("8.00")
DEDUCTIBLE_YEAR_CAP = Decimal("50.00")

# Which acts bear which charge: the flat fee falls on doctors' (and dentists') acts, laboratory
# tests and imaging; the deductible on medicines, paramedical acts and transport.
FLAT_FEE_CATEGORIES = frozenset({"consultation", "dental", "laboratory", "imaging"})
DEDUCTIBLE_CATEGORIES = frozenset({"pharmacy", "paramedical", "transport"})
# Exemptions from both: maternity, CSS (complémentaire santé solidaire) and AME. Long-term
# illness (ALD) raises the rate to 100 % but does not exempt from either.
EXEMPTING_KINDS = frozenset({"maternity", "css", "ame"})
ADULT_AGE = 18


def money(value: Decimal) -> Decimal:
    """Rounded to the cent, half up, as payments are."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def covered_share(base_amount: Decimal, rate: int) -> Decimal:
    """What the rate gives on the base, before anything is withheld."""
    return money(base_amount * Decimal(rate) / Decimal(100))


def reimbursement(
    *, base_amount: Decimal, rate: int, flat_fee: Decimal, deductible: Decimal
) -> Decimal:
    """What the fund pays: the covered share less flat fee and deductible, never below zero."""
    return max(ZERO, covered_share(base_amount, rate) - flat_fee - deductible)


def amounts_consistent(
    *,
    base_amount: Decimal,
    rate: int,
    reimbursed: Decimal,
    flat_fee: Decimal,
    deductible: Decimal,
) -> bool:
    """FEEDS.md's check on every statement line, with a cent of tolerance."""
    expected = reimbursement(
        base_amount=base_amount, rate=rate, flat_fee=flat_fee, deductible=deductible
    )
    return abs(expected - reimbursed) <= TOLERANCE


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _covers(exemption: Mapping[str, Any], day: dt.date) -> bool:
    start = exemption.get("start")
    end = exemption.get("end")
    if start and dt.date.fromisoformat(str(start)) > day:
        return False
    return not (end and dt.date.fromisoformat(str(end)) < day)


def is_exempt(*, birth_date: dt.date, exemptions: Iterable[Mapping[str, Any]], on: dt.date) -> bool:
    """Whether the person owes no flat fee nor deductible for care received on `on`."""
    if age_on(birth_date, on) < ADULT_AGE:
        return True
    return any(e.get("kind") in EXEMPTING_KINDS and _covers(e, on) for e in exemptions)


def _capped(due: Decimal, *, already: Decimal, cap: Decimal) -> Decimal:
    return max(ZERO, min(due, cap - already))


def flat_fee_due(
    *, acts: int, exempt: bool, day_so_far: Decimal = ZERO, year_so_far: Decimal = ZERO
) -> Decimal:
    """€2 per act, at most €4 a day and €50 a year, counting what was already withheld."""
    if exempt or acts <= 0:
        return ZERO
    due = _capped(FLAT_FEE_PER_ACT * acts, already=day_so_far, cap=FLAT_FEE_DAY_CAP)
    return _capped(due, already=year_so_far, cap=FLAT_FEE_YEAR_CAP)


def deductible_due(
    *,
    category: str,
    units: int,
    exempt: bool,
    day_so_far: Decimal = ZERO,
    year_so_far: Decimal = ZERO,
) -> Decimal:
    """€1 a medicine box or paramedical act (at most €4 a day for the latter), €4 a transport
    (at most €8 a day), €50 a year in all. `day_so_far` counts the same kind of care that day."""
    if exempt or units <= 0 or category not in DEDUCTIBLE_CATEGORIES:
        return ZERO
    if category == "transport":
        due = _capped(
            DEDUCTIBLE_PER_TRANSPORT * units,
            already=day_so_far,
            cap=DEDUCTIBLE_DAY_CAP_TRANSPORT,
        )
    elif category == "paramedical":
        due = _capped(
            DEDUCTIBLE_PER_UNIT * units, already=day_so_far, cap=DEDUCTIBLE_DAY_CAP_PARAMEDICAL
        )
    else:  # medicine boxes: no day cap
        due = DEDUCTIBLE_PER_UNIT * units
    return _capped(due, already=year_so_far, cap=DEDUCTIBLE_YEAR_CAP)


@dataclass(frozen=True)
class ActReimbursement:
    covered: Decimal
    flat_fee: Decimal
    deductible: Decimal
    reimbursed: Decimal


def act_reimbursement(
    *,
    base_amount: Decimal,
    rate: int,
    category: str,
    units: int = 1,
    exempt: bool = False,
    flat_fee_day: Decimal = ZERO,
    flat_fee_year: Decimal = ZERO,
    deductible_day: Decimal = ZERO,
    deductible_year: Decimal = ZERO,
) -> ActReimbursement:
    """One act from base and rate to the amount paid, with flat fee and deductible as owed.

    The GP visit of DOMAIN.md: base €30 at 70 % is €21, less the €2 flat fee: €19 paid.
    """
    flat_fee = (
        flat_fee_due(acts=units, exempt=exempt, day_so_far=flat_fee_day, year_so_far=flat_fee_year)
        if category in FLAT_FEE_CATEGORIES
        else ZERO
    )
    deductible = deductible_due(
        category=category,
        units=units,
        exempt=exempt,
        day_so_far=deductible_day,
        year_so_far=deductible_year,
    )
    covered = covered_share(base_amount, rate)
    # What cannot be taken from this act (a small covered share) is not lost: it is what
    # "pending recovery" reports, so withholding never exceeds what is paid.
    flat_fee = min(flat_fee, covered)
    deductible = min(deductible, covered - flat_fee)
    return ActReimbursement(
        covered=covered,
        flat_fee=flat_fee,
        deductible=deductible,
        reimbursed=covered - flat_fee - deductible,
    )


# --- Year-to-date totals --------------------------------------------------------------------------


@dataclass(frozen=True)
class WithheldLine:
    """What the totals need of a paid statement line."""

    paid_on: dt.date
    paid_to: str  # "member" or "provider"
    reimbursed: Decimal
    flat_fee: Decimal
    deductible: Decimal


@dataclass(frozen=True)
class YearTotals:
    year: int
    flat_fee_withheld: Decimal
    flat_fee_cap: Decimal
    deductible_withheld: Decimal
    deductible_cap: Decimal
    pending_recovery: Decimal

    @property
    def flat_fee_percent(self) -> int:
        return _percent(self.flat_fee_withheld, self.flat_fee_cap)

    @property
    def deductible_percent(self) -> int:
        return _percent(self.deductible_withheld, self.deductible_cap)

    @property
    def flat_fee_remaining(self) -> Decimal:
        return max(ZERO, self.flat_fee_cap - self.flat_fee_withheld)

    @property
    def deductible_remaining(self) -> Decimal:
        return max(ZERO, self.deductible_cap - self.deductible_withheld)


def _percent(value: Decimal, cap: Decimal) -> int:
    if cap <= 0:
        return 100
    return int(min(Decimal(100), value * 100 / cap).to_integral_value(rounding=ROUND_HALF_UP))


def year_totals(*, year: int, lines: Sequence[WithheldLine]) -> YearTotals:
    """Flat fees and deductibles charged in `year`, against their caps, and what is still owed.

    Under third-party payment (paid to the provider) nothing can be withheld from the payment,
    so the fund recovers the amounts from the member's later reimbursements. The feed does not
    say which payment recovered what; the member is shown the amount that the reimbursements paid
    to them since could not yet have covered, replayed in payment order.
    """
    flat_fee = ZERO
    deductible = ZERO
    owed = ZERO
    for line in sorted(lines, key=lambda item: item.paid_on):
        if line.paid_on.year != year:
            continue
        flat_fee += line.flat_fee
        deductible += line.deductible
        if line.paid_to == "provider":
            owed += line.flat_fee + line.deductible
        elif owed > 0:
            owed -= min(owed, line.reimbursed)
    return YearTotals(
        year=year,
        flat_fee_withheld=min(flat_fee, FLAT_FEE_YEAR_CAP),
        flat_fee_cap=FLAT_FEE_YEAR_CAP,
        deductible_withheld=min(deductible, DEDUCTIBLE_YEAR_CAP),
        deductible_cap=DEDUCTIBLE_YEAR_CAP,
        pending_recovery=owed,
    )


# --- Daily allowances -----------------------------------------------------------------------------


def allowance_errors(
    *,
    period_start: dt.date,
    period_end: dt.date,
    days: int,
    daily_gross: Decimal,
    gross: Decimal,
    social_levies: Decimal,
    net: Decimal,
) -> dict[str, str]:
    """FEEDS.md's checks on an allowance payment: field → reason, empty when it adds up.

    Days cannot exceed the calendar days of the period (waiting days only ever lower them); gross
    is days times the daily gross; net is gross less the levies; a cent of tolerance for each.
    """
    errors: dict[str, str] = {}
    if period_end < period_start:
        errors["period_end"] = "end_before_start"
    elif days > (period_end - period_start).days + 1:
        errors["days"] = "too_many_days"
    if abs(money(daily_gross * days) - gross) > TOLERANCE:
        errors["gross"] = "inconsistent_amounts"
    if abs((gross - social_levies) - net) > TOLERANCE or net < 0:
        errors["net"] = "inconsistent_amounts"
    return errors


def next_allowance_expected(
    *,
    leave_start: dt.date,
    leave_end: dt.date | None,
    last_period_end: dt.date | None,
    interval_days: int,
) -> dt.date | None:
    """When the next allowance payment should come: `interval_days` after the last period paid.

    None once the leave is over and its last day has been paid for: nothing more is due.
    """
    if leave_end is not None and last_period_end is not None and last_period_end >= leave_end:
        return None
    reference = last_period_end if last_period_end is not None else leave_start
    return reference + dt.timedelta(days=interval_days)
