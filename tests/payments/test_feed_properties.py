"""Whatever a line holds, the parsers answer with a line or with reasons: they never crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assure.members.nir import with_key
from assure.payments.feed import (
    AllowanceLine,
    StatementLine,
    allowance_line_parse,
    statement_line_parse,
)
from tests.payments.lines import allowance_line, statement_line

NIR = with_key("1850575056001")
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["2026-02-30", "19.001", "-1.00", "0.00", "2026-10-20", "paid", " "]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(statement_line(NIR))), VALUES, max_size=5))
def test_statement_parse_never_crashes(changes):
    parsed = statement_line_parse(statement_line(NIR, **changes))
    assert isinstance(parsed, StatementLine) or (isinstance(parsed, dict) and parsed)


@settings(max_examples=200, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(allowance_line(NIR))), VALUES, max_size=5))
def test_allowance_parse_never_crashes(changes):
    parsed = allowance_line_parse(allowance_line(NIR, **changes))
    assert isinstance(parsed, AllowanceLine) or (isinstance(parsed, dict) and parsed)


def test_the_base_lines_are_valid():
    assert isinstance(statement_line_parse(statement_line(NIR)), StatementLine)
    assert isinstance(allowance_line_parse(allowance_line(NIR)), AllowanceLine)
