"""Keys sent to PostgreSQL as one separated text: nothing can be lost or split on the way."""

from __future__ import annotations

import pytest

from assure.members.bulk import _json, _keys


def test_keys_are_joined_by_the_unit_separator():
    assert _keys(["M1", "M2", "2A-x"]) == "M1\x1fM2\x1f2A-x"
    assert _keys(["only"]) == "only"
    assert _keys([]) == ""


@pytest.mark.parametrize("values", [["M1\x1fM2"], ["M1", ""], [""]])
def test_a_key_that_would_not_come_back_whole_is_refused(values):
    with pytest.raises(ValueError, match="separator"):
        _keys(values)


def test_exemptions_are_json():
    assert _json([]) == "[]"
    assert _json([{"kind": "ald", "start": "2024-01-01", "end": None}]) == (
        '[{"kind": "ald", "start": "2024-01-01", "end": null}]'
    )
