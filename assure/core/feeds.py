"""The fund's feeds (FEEDS.md): what every feed shares, whichever records it fills.

A feed is JSON Lines read as a stream, one line at a time, so that memory stays flat whatever the
size of the file or request body. Each line is checked by the feed's `parse` (which either returns a
normalised record or the reasons it is refused, field by field, with stable codes), then the valid
lines are written a batch at a time by the feed's `apply`, in one transaction per batch. A line is
applied whole or rejected whole: when a batch meets a conflict the database refuses, the batch is
rolled back and replayed line by line, each in its own savepoint, so that only the offending line is
rejected.

Feeds register themselves (`feed_register`) from their app's `ready()`; the command line
(`assure import NAME FILE`) and the endpoint (`POST /api/v1/feeds/NAME`) find them here.
"""

from __future__ import annotations

import codecs
import collections
import datetime as dt
import gc
import json
import multiprocessing
import pickle
import re
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import IO, Any, ClassVar, Protocol

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.core import feed_workers
from assure.core.exceptions import NotFound
from assure.core.middleware import is_database_outage
from assure.core.models import FeedRun

# A line longer than this is refused without being held in memory (1 MiB is ~100 times the
# longest believable member line, beneficiaries included).
MAX_LINE_BYTES = 1024 * 1024
# The supervisor dashboard shows a sample of rejects per run, not all of them: a broken export of
# a million lines must not put a million rejects in one row.
REJECT_SAMPLE_SIZE = 100
# Reasons that concern the line as a whole rather than one field.
LINE = "__all__"


class ErrorCode(StrEnum):
    """Stable reasons a line or a field is refused; the fund's systems may act on them."""

    # The line itself.
    INVALID_ENCODING = "invalid_encoding"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    LINE_TOO_LONG = "line_too_long"
    CONFLICT = "conflict"
    # Any field.
    REQUIRED = "required"
    INVALID_TYPE = "invalid_type"
    TOO_LONG = "too_long"
    INVALID_CHARACTERS = "invalid_characters"
    INVALID_CHOICE = "invalid_choice"
    INVALID_DATE = "invalid_date"
    FUTURE_DATE = "future_date"
    END_BEFORE_START = "end_before_start"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_INTEGER = "invalid_integer"
    # Identifiers and contact details.
    INVALID_NIR = "invalid_nir"
    INVALID_IBAN = "invalid_iban"
    INVALID_BIC = "invalid_bic"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    INVALID_INSEE = "invalid_insee"
    INVALID_COUNTRY = "invalid_country"
    INVALID_POSTAL_CODE = "invalid_postal_code"
    INVALID_VITALE_SERIAL = "invalid_vitale_serial"
    # Against what the register already holds.
    DUPLICATE_NIR = "duplicate_nir"
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    BENEFICIARY_OF_ANOTHER_MEMBER = "beneficiary_of_another_member"
    UNKNOWN_MEMBER = "unknown_member"
    INCONSISTENT_AMOUNTS = "inconsistent_amounts"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Reject:
    """A refused line: its number in the input (from 1), its external id if readable, why."""

    line: int
    external_id: str | None
    errors: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "external_id": self.external_id, "errors": self.errors}


@dataclass
class ParsedLine:
    """A valid, normalised line waiting for its batch.

    `keys` are the unique keys the line writes (for instance ("nir", "1850…")): two lines sharing
    one never go in the same batch, so that a batch gives the same result as line-by-line.
    """

    line: int
    external_id: str
    record: Any
    keys: frozenset[tuple[str, str]] = frozenset()

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent back from the checking processes by the thousand: rebuilt from its fields in
        # one call, which unpickles faster than the generic object protocol.
        return (ParsedLine, (self.line, self.external_id, self.record, self.keys))


class Feed(ABC):
    """One kind of feed. Subclasses say how a line is read and how a batch is written."""

    name: ClassVar[str]

    def prepare(self) -> None:  # noqa: B027 - a hook most feeds do not need
        """Called once before the first batch, outside the batches' transactions."""

    @abstractmethod
    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        """Check and normalise one line; never touches the database."""

    @abstractmethod
    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        """Write a batch, one outcome per line in order, inside the caller's transaction.

        A line refused here (a conflict with the register) must leave nothing written. An
        unexpected IntegrityError may be raised: the batch is then replayed line by line.
        """


_FEEDS: dict[str, Feed] = {}


class UnknownFeed(NotFound):
    code = "not_found"
    title = _("Ce flux n'existe pas.")


def feed_register(feed: Feed) -> None:
    """Called from an app's `ready()`; registering the same name twice keeps the latest."""
    _FEEDS[feed.name] = feed


def feed_get(name: str) -> Feed:
    try:
        return _FEEDS[name]
    except KeyError:
        raise UnknownFeed() from None


def feed_names() -> list[str]:
    return sorted(_FEEDS)


# --- Reading JSON Lines ---------------------------------------------------------------------------


class LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_raw_lines(
    stream: LineReader | IO[bytes], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, int, bytes | Reject]]:
    """Yield (line number, bytes read so far, the line's bytes) for each line.

    Reads with `readline(limit)`, so neither a huge file nor a line without an end is ever held in
    memory whole: a line over the limit is skipped a chunk at a time and rejected.
    """
    number = 0
    consumed = 0
    while True:
        raw = stream.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        consumed += len(raw)
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while True:
                more = stream.readline(max_line_bytes)
                consumed += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield number, consumed, Reject(number, None, {LINE: [ErrorCode.LINE_TOO_LONG]})
            continue
        yield number, consumed, raw


def decode_json_line(raw: bytes, number: int) -> dict[str, Any] | Reject | None:
    """One line's object, its reject, or None for a blank line.

    UTF-8 only (a byte-order mark on the first line is tolerated); NaN and Infinity, which
    Python's json accepts, are refused as they are not JSON.
    """
    if number == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Reject(number, None, {LINE: [ErrorCode.INVALID_ENCODING]})
    if not text.strip():
        return None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return Reject(number, None, {LINE: [ErrorCode.INVALID_JSON]})
    if not isinstance(data, dict):
        return Reject(number, None, {LINE: [ErrorCode.NOT_AN_OBJECT]})
    return data


def read_json_lines(
    stream: LineReader | IO[bytes], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, int, dict[str, Any] | Reject]]:
    """Yield (line number, bytes read so far, object or reject) for each non-blank line."""
    for number, consumed, raw in read_raw_lines(stream, max_line_bytes=max_line_bytes):
        item = raw if isinstance(raw, Reject) else decode_json_line(raw, number)
        if item is not None:
            yield number, consumed, item


def readable_external_id(data: Mapping[str, Any]) -> str | None:
    """The external id to report with a reject, when the line has a usable one."""
    value = data.get("external_id")
    if isinstance(value, str) and value.strip():
        return value.strip()[:100]
    return None


# --- Checking fields ------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"-?\d{1,9}\.\d{2}")


# Unicode's "Cc" category: NUL is refused by PostgreSQL in text, and no other control character
# has a place in a register.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_today: list[Any] = [None, None]  # the fund's date, and the second of the clock it was read at


def feed_today() -> dt.date:
    """Today in the fund's time zone, looked up once a second of the clock rather than once a
    line (the lookup of the active time zone costs more than checking a line's dates)."""
    second = int(time.time())
    if second != _today[1]:
        _today[0], _today[1] = timezone.localdate(), second
    return _today[0]  # type: ignore[no-any-return]


class Fields:
    """Reads the fields of one JSON object, collecting every error with its dotted path.

    Each getter returns the normalised value, or None when it is absent or wrong (the error is then
    recorded), so that a parser reads every field and reports all that is wrong at once.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        errors: dict[str, list[str]] | None = None,
        prefix: str = "",
        today: dt.date | None = None,
    ) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {} if errors is None else errors
        self.prefix = prefix
        self._today = today

    @property
    def today(self) -> dt.date:
        """Today in the fund's time zone, looked up once per line rather than once per date."""
        if self._today is None:
            self._today = timezone.localdate()
        return self._today

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def error(self, key: str, code: str) -> None:
        self.errors.setdefault(self.path(key), []).append(str(code))

    def _present(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(key, ErrorCode.REQUIRED)
            return None
        return value

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
        code: str = ErrorCode.INVALID_CHARACTERS,
        upper: bool = False,
    ) -> str | None:
        """Stripped, in Unicode NFC (so that "é" typed two ways is one name)."""
        value = self.data.get(key)
        if type(value) is not str:  # the common case first: this runs ~20 times a line
            if value is None:
                if required:
                    self.error(key, ErrorCode.REQUIRED)
            else:
                self.error(key, ErrorCode.INVALID_TYPE)
            return None
        value = value.strip()
        if not value:
            if required:
                self.error(key, ErrorCode.REQUIRED)
            return None
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
        if upper:
            value = value.upper()
        if _CONTROL_CHARACTERS.search(value):
            self.error(key, ErrorCode.INVALID_CHARACTERS)
            return None
        if max_length is not None and len(value) > max_length:
            self.error(key, ErrorCode.TOO_LONG)
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.error(key, code)
            return None
        return value

    def choice(self, key: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        value = self._present(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            self.error(key, ErrorCode.INVALID_CHOICE)
            return None
        return value

    def date(self, key: str, *, required: bool = False, not_future: bool = False) -> dt.date | None:
        value = self._present(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.error(key, ErrorCode.INVALID_DATE)
            return None
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            self.error(key, ErrorCode.INVALID_DATE)
            return None
        if not_future and parsed > self.today:
            self.error(key, ErrorCode.FUTURE_DATE)
            return None
        return parsed

    def period(
        self, start_key: str, end_key: str, *, start_required: bool = True
    ) -> tuple[dt.date | None, dt.date | None]:
        start = self.date(start_key, required=start_required)
        end = self.date(end_key)
        if start is not None and end is not None and end < start:
            self.error(end_key, ErrorCode.END_BEFORE_START)
            return start, None
        return start, end

    def amount(self, key: str, *, required: bool = False) -> Decimal | None:
        """Euros as a string with two decimals ("19.00"), as FEEDS.md says."""
        value = self._present(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not _AMOUNT.fullmatch(value.strip()):
            self.error(key, ErrorCode.INVALID_AMOUNT)
            return None
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
            self.error(key, ErrorCode.INVALID_AMOUNT)
            return None

    def integer(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self._present(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, ErrorCode.INVALID_INTEGER)
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(key, ErrorCode.INVALID_INTEGER)
            return None
        return value

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, ErrorCode.REQUIRED)
            return None
        if not isinstance(value, bool):
            self.error(key, ErrorCode.INVALID_TYPE)
            return None
        return value

    def object(self, key: str, *, required: bool = False) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, ErrorCode.REQUIRED)
            return None
        if not isinstance(value, dict):
            self.error(key, ErrorCode.INVALID_TYPE)
            return None
        return Fields(value, errors=self.errors, prefix=f"{self.path(key)}.", today=self._today)

    def objects(self, key: str) -> list[Fields]:
        """A list of objects (absent or null is an empty list), each read with its index."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, ErrorCode.INVALID_TYPE)
            return []
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.errors.setdefault(f"{self.path(key)}.{index}", []).append(
                    ErrorCode.INVALID_TYPE
                )
                continue
            items.append(
                Fields(
                    item,
                    errors=self.errors,
                    prefix=f"{self.path(key)}.{index}.",
                    today=self._today,
                )
            )
        return items


# --- Running a feed -------------------------------------------------------------------------------


@dataclass
class FeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    reject_sample: list[dict[str, Any]] = field(default_factory=list)

    def count(self, outcome: Outcome | Reject) -> None:
        if isinstance(outcome, Reject):
            self.rejected += 1
            if len(self.reject_sample) < REJECT_SAMPLE_SIZE:
                self.reject_sample.append(outcome.as_dict())
        else:
            name = outcome._value_  # the enum's `value` property costs a descriptor call a line
            setattr(self, name, getattr(self, name) + 1)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _parse_line(feed: Feed, number: int, raw: bytes | Reject) -> ParsedLine | Reject | None:
    item = raw if isinstance(raw, Reject) else decode_json_line(raw, number)
    if item is None or isinstance(item, Reject):
        return item
    return feed.parse(item, line=number)


def parse_lines(
    feed_name: str, lines: Sequence[tuple[int, bytes | Reject]]
) -> list[tuple[int, ParsedLine | Reject]]:
    """Decode and check a chunk of raw lines, in a worker process."""
    feed = feed_get(feed_name)
    parsed = ((number, _parse_line(feed, number, raw)) for number, raw in lines)
    return [(number, item) for number, item in parsed if item is not None]


# Lines sent to a worker at a time: large enough that pickling is amortised, small enough that
# the chunks in flight (two per worker) keep memory flat.
WORKER_CHUNK_LINES = 500
# A chunk takes well under a second; a worker that died (killed, out of memory) would otherwise
# leave its chunk waited for forever.
WORKER_TIMEOUT_SECONDS = 300


def parsed_loads(data: bytes) -> list[tuple[int, ParsedLine | Reject]]:
    """A worker's checked chunk, unpickled with the cyclic garbage collector paused.

    Unpickling builds thousands of small dicts and tuples, and each few hundred of them set off a
    collection pass over everything this process holds: measured, that doubled the time a line
    cost here. What is built has no reference cycle, so reference counting alone frees it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)  # noqa: S301 - from our own worker processes
    finally:
        if enabled:
            gc.enable()


def _parsed(
    feed: Feed, stream: LineReader | IO[bytes], workers: int
) -> Iterator[tuple[int, int, ParsedLine | Reject]]:
    """Every non-blank line checked, in order, with the bytes read so far.

    With workers, decoding and checking (the bulk of the CPU time of a load) run in that many
    processes while this one writes to the database; a bounded number of chunks is in flight.
    """
    if workers <= 1:
        for number, consumed, raw in read_raw_lines(stream):
            parsed = _parse_line(feed, number, raw)
            if parsed is not None:
                yield number, consumed, parsed
        return

    context = multiprocessing.get_context("spawn")  # no fork of open database connections
    with context.Pool(workers, initializer=feed_workers.setup) as pool:
        in_flight: collections.deque[tuple[int, Any]] = collections.deque()
        chunk: list[tuple[int, bytes | Reject]] = []

        def drain(limit: int) -> Iterator[tuple[int, int, ParsedLine | Reject]]:
            while len(in_flight) > limit:
                consumed, pending = in_flight.popleft()
                for number, parsed in parsed_loads(pending.get(timeout=WORKER_TIMEOUT_SECONDS)):
                    yield number, consumed, parsed

        consumed = 0
        for number, consumed, raw in read_raw_lines(stream):
            chunk.append((number, raw))
            if len(chunk) >= WORKER_CHUNK_LINES:
                in_flight.append(
                    (consumed, pool.apply_async(feed_workers.parse_lines, (feed.name, chunk)))
                )
                chunk = []
                yield from drain(2 * workers)
        if chunk:
            in_flight.append(
                (consumed, pool.apply_async(feed_workers.parse_lines, (feed.name, chunk)))
            )
        yield from drain(0)


def _apply_batch(feed: Feed, batch: Sequence[ParsedLine], run: FeedRun) -> list[Outcome | Reject]:
    try:
        with transaction.atomic():
            return feed.apply(batch, run=run)
    except DatabaseError as exc:
        if is_database_outage(exc):
            # The database went away: the batch was rolled back whole; replaying it line by line
            # would only reject good lines. The load stops; a rerun applies what is missing.
            raise
        if len(batch) == 1:
            return [Reject(batch[0].line, batch[0].external_id, {LINE: [ErrorCode.CONFLICT]})]
    # Something the checks did not foresee (another writer, a constraint added later): replay
    # line by line so that only the lines the database refuses are rejected.
    outcomes: list[Outcome | Reject] = []
    for line in batch:
        outcomes.extend(_apply_batch(feed, [line], run))
    return outcomes


def feed_load(
    *,
    feed: Feed,
    stream: LineReader | IO[bytes],
    source: str,
    actor: str,
    on_reject: Callable[[Reject], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
    workers: int = 1,
) -> tuple[FeedResult, FeedRun]:
    """Read a whole feed from `stream` and apply it; one FeedRun records the run.

    Rejects are handed to `on_reject` as they come (the command line writes them to a file, the
    endpoint keeps them for its answer), so that nothing here grows with the input. `workers`
    above 1 checks lines in that many processes (worth it for large files only: each worker
    starts Django).
    """
    size = batch_size or settings.FEED_BATCH_SIZE
    run = FeedRun.objects.create(feed=feed.name, source=source, actor=actor[:150])
    result = FeedResult()

    def report(outcome: Outcome | Reject) -> None:
        result.count(outcome)
        if isinstance(outcome, Reject) and on_reject is not None:
            on_reject(outcome)

    batch: list[ParsedLine] = []
    batch_keys: set[tuple[str, str]] = set()
    pending: list[Reject] = []  # rejects read while a batch fills, reported in line order

    def flush() -> None:
        outcomes = _apply_batch(feed, batch, run) if batch else []
        merged = sorted(
            [(line.line, outcome) for line, outcome in zip(batch, outcomes, strict=True)]
            + [(reject.line, reject) for reject in pending],
            key=lambda pair: pair[0],
        )
        for _number, outcome in merged:
            report(outcome)
        batch.clear()
        batch_keys.clear()
        pending.clear()

    try:
        feed.prepare()
        for _number, consumed, parsed in _parsed(feed, stream, workers):
            if isinstance(parsed, Reject):
                pending.append(parsed)
            else:
                if batch_keys & parsed.keys:
                    flush()
                batch.append(parsed)
                batch_keys.update(parsed.keys)
            if len(batch) >= size or len(pending) >= size:
                flush()
                if on_progress is not None:
                    on_progress(consumed)
        flush()
    except BaseException as exc:
        run.status = FeedRun.Status.FAILED
        run.error = type(exc).__name__
        raise
    else:
        run.status = FeedRun.Status.FINISHED
    finally:
        run.finished_at = timezone.now()
        run.created = result.created
        run.updated = result.updated
        run.unchanged = result.unchanged
        run.rejected = result.rejected
        run.rejects_sample = result.reject_sample
        run.save()
    return result, run
