"""The import's NIR check answers exactly as the register's (python-stdnum), number for number."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assure.members.feed import nir_normalize
from assure.members.nir import InvalidNir, normalize_nir, with_key


def _nir_ours(value: str) -> str | None:
    try:
        return nir_normalize(value)
    except InvalidNir:
        return None


def _nir_theirs(value: str) -> str | None:
    try:
        return normalize_nir(value)
    except InvalidNir:
        return None


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["185057505612399", "2850575056123", "1850575056123", "196012A03300147"]),
    st.lists(st.tuples(st.integers(0, 16), st.sampled_from("0123456789ABab .-٣")), max_size=3),
)
def test_nir_check_answers_as_the_register_does(start, edits):
    value = start if len(start) == 15 else with_key(start)
    for position, character in edits:
        value = value[:position] + character + value[position + 1 :]
    assert _nir_ours(value) == _nir_theirs(value)


def test_nir_in_the_register_form_is_checked_by_its_key():
    good = with_key("1850575056123")
    assert _nir_ours(good) == good
    assert _nir_ours(good[:-1] + str((int(good[-1]) + 1) % 10)) is None
    for value in (with_key("19601" + "2A" + "033001"), with_key("19601" + "2B" + "033001")):
        assert _nir_ours(value) == _nir_theirs(value) == value
