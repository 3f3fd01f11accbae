"""Property tests: whatever arrives, the importer answers and reports each bad line, whole."""

from __future__ import annotations

import codecs
import io
import json
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assure.core.feeds import Reject, feed_get, feed_load
from assure.core.models import FeedRun
from assure.members.models import Beneficiary, Member
from tests.members.lines import member_line

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

FIELD_PATHS = [
    ("external_id",),
    ("nir",),
    ("birth_name",),
    ("given_names",),
    ("sex",),
    ("birth_date",),
    ("birth_place_insee",),
    ("phone",),
    ("email",),
    ("address",),
    ("address", "postal_code"),
    ("address", "country"),
    ("bank_account",),
    ("bank_account", "iban"),
    ("coverage",),
    ("coverage", "start"),
    ("coverage", "exemptions"),
    ("beneficiaries",),
    ("beneficiaries", 0),
    ("beneficiaries", 0, "external_id"),
    ("beneficiaries", 0, "birth_date"),
    ("beneficiaries", 0, "nir"),
]


@st.composite
def mutated_lines(draw: Any) -> dict[str, Any]:
    """A valid line with a few fields replaced by arbitrary JSON."""
    line = member_line(draw(st.integers(min_value=1, max_value=999)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(FIELD_PATHS))
        target: Any = line
        for part in path[:-1]:
            in_dict = isinstance(target, dict) and part in target
            in_list = isinstance(target, list) and isinstance(part, int) and part < len(target)
            if in_dict or in_list:
                target = target[part]
            else:
                target = None
                break
        last = path[-1]
        if isinstance(target, dict) or (
            isinstance(target, list) and isinstance(last, int) and last < len(target)
        ):
            target[last] = draw(json_values)
    return line


def run(body: bytes) -> tuple[dict[str, int], list[Reject]]:
    rejects: list[Reject] = []
    result, _run = feed_load(
        feed=feed_get("members"),
        stream=io.BytesIO(body),
        source=FeedRun.Source.CLI,
        actor="properties",
        on_reject=rejects.append,
        batch_size=3,
    )
    return result.counts, rejects


def counted_lines(body: bytes) -> list[int]:
    """Numbers of the lines the importer must account for: all but the blank ones."""
    numbers = []
    for number, raw in enumerate(io.BytesIO(body).readlines(), start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            blank = not raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            numbers.append(number)
    return numbers


def rolled_back(check: Any) -> None:
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_arbitrary_bytes_never_crash_and_every_line_is_accounted_for(chunks):
    body = b"\n".join(chunks)

    def check() -> None:
        counts, rejects = run(body)
        assert sum(counts.values()) == len(counted_lines(body))
        assert all(r.line in counted_lines(body) for r in rejects)

    rolled_back(check)


@PROPERTY_SETTINGS
@given(st.lists(json_values, min_size=1, max_size=6))
def test_arbitrary_json_is_rejected_line_by_line(values):
    body = b"".join(json.dumps(v).encode() + b"\n" for v in values)

    def check() -> None:
        counts, rejects = run(body)
        assert counts["rejected"] == len(values)
        assert [r.line for r in rejects] == list(range(1, len(values) + 1))
        assert all(r.errors for r in rejects)
        assert not Member.objects.exists()

    rolled_back(check)


@PROPERTY_SETTINGS
@given(mutated_lines())
def test_a_rejected_line_leaves_no_trace_and_an_accepted_one_is_whole(line):
    body = json.dumps(line, ensure_ascii=False).encode() + b"\n"

    def check() -> None:
        counts, rejects = run(body)
        if rejects:
            assert counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
            assert rejects[0].line == 1
            assert not Member.objects.exists()
            assert not Beneficiary.objects.exists()
            assert not FeedRun.objects.filter(created__gt=0).exists()
        else:
            assert counts["created"] == 1
            member = Member.objects.get()
            assert member.beneficiaries.count() == len(line.get("beneficiaries") or [])
            assert run(body)[0]["unchanged"] == 1

    rolled_back(check)


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(["good", "bad", "blank", "garbage"]), min_size=1, max_size=10))
def test_every_bad_line_is_reported_with_its_number(kinds):
    lines = []
    for n, kind in enumerate(kinds, start=1):
        if kind == "good":
            lines.append(json.dumps(member_line(n)).encode())
        elif kind == "bad":
            lines.append(json.dumps(member_line(n, birth_date="1985-13-01")).encode())
        elif kind == "blank":
            lines.append(b"   ")
        else:
            lines.append(b"\xff\xfe{")
    body = b"\n".join(lines) + b"\n"

    def check() -> None:
        counts, rejects = run(body)
        expected = [n for n, kind in enumerate(kinds, start=1) if kind in {"bad", "garbage"}]
        assert [r.line for r in rejects] == expected
        assert counts["created"] == kinds.count("good")
        assert Member.objects.count() == kinds.count("good")

    rolled_back(check)
