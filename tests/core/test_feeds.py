"""The machinery every feed shares: reading JSON Lines, checking fields, running a feed."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from assure.core.exceptions import NotFound
from assure.core.feeds import (
    Feed,
    Fields,
    Outcome,
    ParsedLine,
    Reject,
    feed_get,
    feed_load,
    feed_names,
    read_json_lines,
)
from assure.core.models import FeedRun


def read(body: bytes, **kwargs: Any) -> list[tuple[int, Any]]:
    return [(n, item) for n, _consumed, item in read_json_lines(io.BytesIO(body), **kwargs)]


def reasons(item: Any) -> list[str]:
    assert isinstance(item, Reject)
    return item.errors["__all__"]


def test_lines_are_numbered_from_one_and_blank_lines_skipped():
    items = read(b'{"a": 1}\n\n   \r\n{"b": 2}\r\n{"c": 3}')
    assert items == [(1, {"a": 1}), (4, {"b": 2}), (5, {"c": 3})]


def test_a_byte_order_mark_on_the_first_line_is_tolerated():
    assert read(b'\xef\xbb\xbf{"a": 1}\n') == [(1, {"a": 1})]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope\n", "invalid_json"),
        (b'{"a": NaN}\n', "invalid_json"),
        (b'{"a": Infinity}\n', "invalid_json"),
        (b"[" * 100_000 + b"\n", "invalid_json"),  # deeper than the parser's recursion limit
        (b'"text"\n', "not_an_object"),
        (b"[1, 2]\n", "not_an_object"),
        (b"null\n", "not_an_object"),
        (b'{"name": "\xe9t\xe9"}\n', "invalid_encoding"),  # Latin-1, not UTF-8
        (b'\xff\xfe{\x00"\x00}\x00\n', "invalid_encoding"),  # UTF-16
    ],
)
def test_a_line_that_is_not_a_json_object_in_utf8_is_rejected(body, code):
    [(number, item)] = read(body)
    assert number == 1
    assert reasons(item) == [code]


def test_an_overlong_line_is_rejected_without_losing_the_next_ones():
    body = b'{"a": 1}\n{"long": "' + b"x" * 5000 + b'"}\n{"b": 2}\n'
    items = read(body, max_line_bytes=1000)
    assert items[0] == (1, {"a": 1})
    assert items[1][0] == 2
    assert reasons(items[1][1]) == ["line_too_long"]
    assert items[2] == (3, {"b": 2})


def test_bytes_read_are_reported_for_the_progress_bar():
    body = b'{"a": 1}\n{"b": 2}\n'
    consumed = [c for _n, c, _item in read_json_lines(io.BytesIO(body))]
    assert consumed == [9, 18]


def test_fields_collects_every_error_with_its_path():
    fields = Fields(
        {
            "amount": "19.0",
            "rate": 101,
            "flag": "yes",
            "period": {"start": "2026-02-01", "end": "2026-01-31"},
            "items": [{"x": 1}, "nope"],
        }
    )
    assert fields.amount("amount") is None
    assert fields.integer("rate", minimum=0, maximum=100) is None
    assert fields.boolean("flag") is None
    period = fields.object("period")
    assert period is not None
    assert period.period("start", "end") == (dt.date(2026, 2, 1), None)
    assert len(fields.objects("items")) == 1
    assert fields.string("missing", required=True) is None
    assert fields.errors == {
        "amount": ["invalid_amount"],
        "rate": ["invalid_integer"],
        "flag": ["invalid_type"],
        "period.end": ["end_before_start"],
        "items.1": ["invalid_type"],
        "missing": ["required"],
    }


def test_fields_reads_good_values():
    fields = Fields({"amount": "19.00", "rate": 70, "flag": False, "n": True})
    assert fields.amount("amount") == Decimal("19.00")
    assert fields.integer("rate", minimum=0, maximum=100) == 70
    assert fields.boolean("flag") is False
    assert fields.integer("n") is None  # JSON true is not the integer 1
    assert fields.errors == {"n": ["invalid_integer"]}


def test_the_members_feed_is_registered_and_unknown_feeds_are_not_found():
    assert "members" in feed_names()
    assert feed_get("members").name == "members"
    with pytest.raises(NotFound):
        feed_get("nonsense")


class ExplodingFeed(Feed):
    name = "exploding"

    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        return ParsedLine(line=line, external_id=str(data.get("id")), record=data)

    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        raise RuntimeError("disk on fire")


@pytest.mark.django_db
def test_a_run_that_fails_is_recorded_as_failed():
    with pytest.raises(RuntimeError):
        feed_load(
            feed=ExplodingFeed(), stream=io.BytesIO(b'{"id": 1}\n'), source="cli", actor="tests"
        )
    run = FeedRun.objects.get()
    assert (run.feed, run.status, run.error) == ("exploding", "failed", "RuntimeError")
    assert run.finished_at is not None


class CountingFeed(Feed):
    name = "counting"

    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        return ParsedLine(line=line, external_id=str(data["id"]), record=data)

    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        return [Outcome.CREATED for _line in lines]


@pytest.mark.django_db
def test_the_sample_of_rejects_kept_on_the_run_is_capped():
    body = b"x\n" * 150 + b'{"id": 1}\n'
    rejects: list[Reject] = []
    result, run = feed_load(
        feed=CountingFeed(),
        stream=io.BytesIO(body),
        source="api",
        actor="token",
        on_reject=rejects.append,
    )
    assert result.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 150}
    assert len(rejects) == 150
    run.refresh_from_db()
    assert len(run.rejects_sample) == 100
    assert run.rejects_sample[0] == {
        "line": 1,
        "external_id": None,
        "errors": {"__all__": ["invalid_json"]},
    }
