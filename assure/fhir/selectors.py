"""Reads behind the FHIR R4 endpoints, always scoped to the member who asks.

A Patient is the member or one of the people covered through them; anything else is "not found",
exactly like an id that does not exist. Explanations of benefit are read by keyset on the index
that serves the member's own list, (member, care date, id), newest first: a page costs the same on
the first page of a 10,000-line history as on the last.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import NotFound, ValidationFailed
from assure.members.models import Beneficiary, Member
from assure.payments.models import Statement

# A beneficiary's Patient id carries a prefix: member and beneficiary rows are numbered apart, so
# bare numbers could name two people.
BENEFICIARY_PREFIX = "beneficiary-"
DEFAULT_COUNT = 20
MAX_COUNT = 100
# Larger numbers are no row's id, and PostgreSQL would refuse them as bigint.
_MAX_ID_DIGITS = 18


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    title = _("Le curseur de pagination est invalide.")


@dataclass(frozen=True)
class Subject:
    """The person a Patient stands for: the member, or one of their beneficiaries."""

    member: Member
    beneficiary: Beneficiary | None = None

    @property
    def patient_id(self) -> str:
        return patient_id(self.member, self.beneficiary)


def patient_id(member: Member, beneficiary: Beneficiary | None) -> str:
    if beneficiary is None:
        return str(member.pk)
    return f"{BENEFICIARY_PREFIX}{beneficiary.pk}"


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= _MAX_ID_DIGITS


def subject_get_for_member(*, member: Member, patient: str) -> Subject:
    """The member's own Patient or a beneficiary's; NotFound for anything else."""
    if _is_id(patient):
        if int(patient) == member.pk:
            return Subject(member=member)
        raise NotFound()
    rest = patient.removeprefix(BENEFICIARY_PREFIX)
    if rest != patient and _is_id(rest):
        found = Beneficiary.objects.filter(pk=int(rest), member_id=member.pk).first()
        if found is not None:
            return Subject(member=member, beneficiary=found)
    raise NotFound()


def beneficiaries_by_id(*, member: Member, ids: set[int]) -> dict[int, Beneficiary]:
    if not ids:
        return {}
    return {b.pk: b for b in Beneficiary.objects.filter(member_id=member.pk, pk__in=ids)}


# --- Explanations of benefit ------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: `after` reads older lines, otherwise newer ones."""

    care_date: dt.date
    pk: int
    after: bool


def cursor_encode(statement: Statement, *, after: bool) -> str:
    raw = f"{'a' if after else 'b'}.{statement.care_date.isoformat()}.{statement.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(value: str) -> Cursor:
    try:
        padded = value + "=" * (-len(value) % 4)
        direction, day, pk = base64.urlsafe_b64decode(padded.encode()).decode().split(".")
        if direction not in {"a", "b"} or not _is_id(pk):
            raise ValueError(direction)
        return Cursor(care_date=dt.date.fromisoformat(day), pk=int(pk), after=direction == "a")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor(errors={"_cursor": ["invalid"]}) from None


@dataclass
class StatementPage:
    items: list[Statement]
    total: int
    next_cursor: str | None
    previous_cursor: str | None


# The leading bound on care_date alone is what the index range starts from; the rest only sorts
# out the lines of that one day, so a page deep in the history reads no more than the first.
def _older(day: dt.date, pk: int) -> Q:
    return Q(care_date__lte=day) & (Q(care_date__lt=day) | Q(pk__lt=pk))


def _newer(day: dt.date, pk: int) -> Q:
    return Q(care_date__gte=day) & (Q(care_date__gt=day) | Q(pk__gt=pk))


def _statements_of(subject: Subject) -> QuerySet[Statement]:
    qs = Statement.objects.filter(member_id=subject.member.pk)
    if subject.beneficiary is None:
        return qs.filter(beneficiary__isnull=True)
    return qs.filter(beneficiary_id=subject.beneficiary.pk)


def statement_page_for_subject(
    *, subject: Subject, count: int = DEFAULT_COUNT, cursor: str | None = None
) -> StatementPage:
    """One page of the lines of care given to `subject`, newest first, with both neighbours.

    The whole history is searchable (FHIR clients take a member's data away with them); each page
    is one index range read plus a count and an existence check on the same index.
    """
    count = max(1, min(count, MAX_COUNT))
    base = _statements_of(subject)
    position = cursor_decode(cursor) if cursor else None
    if position is None or position.after:
        qs = base
        if position is not None:
            qs = qs.filter(_older(position.care_date, position.pk))
        rows = list(qs.order_by("-care_date", "-pk")[: count + 1])
        more_older = len(rows) > count
        items = rows[:count]
        more_newer = (
            position is not None
            and bool(items)
            and (base.filter(_newer(items[0].care_date, items[0].pk)).exists())
        )
    else:
        qs = base.filter(_newer(position.care_date, position.pk))
        rows = list(qs.order_by("care_date", "pk")[: count + 1])
        more_newer = len(rows) > count
        items = list(reversed(rows[:count]))
        more_older = bool(items) and base.filter(_older(items[-1].care_date, items[-1].pk)).exists()
    return StatementPage(
        items=items,
        total=base.count(),
        next_cursor=cursor_encode(items[-1], after=True) if more_older else None,
        previous_cursor=cursor_encode(items[0], after=False) if more_newer else None,
    )


def statement_get_for_member(*, member: Member, statement_id: str) -> Statement:
    """The member's line (their own care or a beneficiary's), or NotFound."""
    if not _is_id(statement_id):
        raise NotFound()
    found = (
        Statement.objects.select_related("beneficiary")
        .filter(pk=int(statement_id), member_id=member.pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found
