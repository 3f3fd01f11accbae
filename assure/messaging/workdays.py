"""Working days in France: Monday to Friday, public holidays excluded.

The holidays come from the `holidays` package (kept up to date by its maintainers, Easter-based
dates computed), never from a list written here.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _french_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("FR", years=year))


def holidays_warm(today: dt.date) -> None:
    """Reads this year's and next year's holidays now (gunicorn's master, assure/ops/warm.py).

    The first read in a process imports the `holidays` package and builds its French calendar:
    about a fifth of a second of CPU, which made a new worker's first messages the slowest of
    the load test (seconds at the 99th percentile while the machine was saturated)."""
    for year in (today.year, today.year + 1):
        _french_holidays(year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (the day of the request itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
