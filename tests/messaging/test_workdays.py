"""Expected answer dates: working days, French public holidays from the `holidays` package."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from assure.messaging.workdays import add_working_days, is_working_day
from tests.messaging.helpers import write

D = dt.date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday 10 July 2026: Tuesday 14 July (fête nationale) does not count.
        (D(2026, 7, 10), 5, D(2026, 7, 20)),
        # Wednesday 23 Dec.: Christmas Friday and the weekend do not count.
        (D(2026, 12, 23), 5, D(2026, 12, 31)),
        # Thursday 31 Dec.: New Year's Day too.
        (D(2026, 12, 31), 5, D(2027, 1, 8)),
        # Thursday 2 April 2026: Easter Monday (6 April) is computed, not listed.
        (D(2026, 4, 2), 5, D(2026, 4, 10)),
        # Easter Monday 2027 falls on 29 March.
        (D(2027, 3, 25), 3, D(2027, 3, 31)),
        # May 2026: 1st (Friday), 8th (Friday), Ascension Thursday 14th.
        (D(2026, 4, 30), 5, D(2026, 5, 11)),
        # A Saturday request: counting starts on Monday.
        (D(2026, 11, 28), 1, D(2026, 11, 30)),
        # An ordinary week.
        (D(2026, 11, 23), 5, D(2026, 11, 30)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_holidays_and_weekends_are_not_working_days():
    assert not is_working_day(D(2026, 7, 14))
    assert not is_working_day(D(2026, 12, 25))
    assert not is_working_day(D(2026, 11, 11))
    assert not is_working_day(D(2026, 5, 25))  # Whit Monday
    assert not is_working_day(D(2026, 11, 29))  # a Sunday
    assert is_working_day(D(2026, 11, 26))


def test_thread_answer_date_around_14_july(member):
    with time_machine.travel(dt.datetime(2026, 7, 10, 15, 0, tzinfo=dt.UTC), tick=False):
        thread = write(member)
    assert thread.answer_expected_by == D(2026, 7, 20)


def test_thread_answer_date_follows_the_setting(member, settings):
    settings.MESSAGING_ANSWER_WORKING_DAYS = 2
    with time_machine.travel(dt.datetime(2026, 12, 23, 9, 0, tzinfo=dt.UTC), tick=False):
        thread = write(member)
    assert thread.answer_expected_by == D(2026, 12, 28)


def test_the_day_is_the_day_in_paris(member):
    # 22:30 UTC on Thursday 9 July is already Friday 10 July in Paris (the 17th otherwise).
    with time_machine.travel(dt.datetime(2026, 7, 9, 22, 30, tzinfo=dt.UTC), tick=False):
        thread = write(member)
    assert thread.answer_expected_by == D(2026, 7, 20)
