"""Reads of the messaging. A member reads only their own threads and files ("not yours" answers
exactly as "does not exist"); staff reads are for holders of `messaging.answer_thread` and each look
at a member's thread is recorded."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import statistics
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from assure.core.compiled import CompiledRead
from assure.core.exceptions import NotFound, ValidationFailed
from assure.core.fixed_urls import reverse_with_id
from assure.core.services import Actor, audit_record
from assure.members.models import Member
from assure.messaging.models import (
    Attachment,
    Message,
    Subject,
    Team,
    Thread,
    english_wanted,
    in_language,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
FIGURES_DAYS = 90

QUEUES = ("unassigned", "mine", "overdue", "waiting_member")


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"


def _subjects_query() -> QuerySet[Subject]:
    return Subject.objects.filter(active=True).select_related("team")


def _subject_by_code_query(code: str) -> QuerySet[Subject]:
    # A slice, not first(): the code is unique, so no ORDER BY to build and run.
    return Subject.objects.filter(code=code, active=True).select_related("team")[:1]


# The message form lists the subjects, and sending reads the one chosen, on every message a
# member writes: both compiled once (assure.core.compiled).
_subjects = CompiledRead(Subject, _subjects_query, stand_ins=())
_subject_by_code = CompiledRead(Subject, _subject_by_code_query, stand_ins=("-",))
_teams = CompiledRead(Team, lambda: Team.objects.all(), stand_ins=())


def subject_list() -> list[Subject]:
    """The subjects a member may write about, in the fund's order, with their team."""
    return _subjects.all()


def subject_get(code: str) -> Subject | None:
    """The active subject of this code, with its team; or None."""
    # A NUL byte is no subject's code, and PostgreSQL refuses it in a query (a 500, not a miss).
    if not code or "\x00" in code:
        return None
    return _subject_by_code.first(code)


def _cursor_encode(thread: Thread) -> str:
    raw = f"{thread.last_message_at.isoformat()}|{thread.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        at = parse_datetime(when)
        if at is None:
            raise ValueError(when)
        return at, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(errors={"cursor": ["invalid"]}) from None


@dataclass(frozen=True)
class ThreadPage:
    items: list[Thread]
    next_cursor: str | None


def thread_list_for_member(
    *, member: Member, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> ThreadPage:
    """One page of the member's threads, the latest activity first."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = Thread.objects.filter(member=member).select_related("subject")
    if cursor:
        at, pk = _cursor_decode(cursor)
        qs = qs.filter(Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=pk))
    rows = list(qs.order_by("-last_message_at", "-id")[: limit + 1])
    items = rows[:limit]
    return ThreadPage(
        items=items, next_cursor=_cursor_encode(items[-1]) if len(rows) > limit else None
    )


def _unread_query(member_id: int) -> QuerySet[Thread, Any]:
    return (
        Thread.objects.filter(member_id=member_id, unread_by_member=True)
        .order_by()
        .values_list("pk")
    )


# Accueil, the page members open most, asks it each time: compiled once (assure.core.compiled).
# The ids rather than a count: a compiled read keeps plain columns, and a member's unread
# answers are a handful.
_unread_ids = CompiledRead(Thread, _unread_query, stand_ins=(-1,))


def thread_unread_count_for_member(*, member: Member) -> int:
    """For Accueil: how many threads hold an answer the member has not opened."""
    return len(_unread_ids.tuples(member.pk))


def _latest_query(member_id: int) -> QuerySet[Thread, Any]:
    return (
        Thread.objects.filter(member_id=member_id)
        .select_related("subject", "team")
        .order_by("-last_message_at")[:10]
    )


# The advisors' member file shows them on every visit: compiled once.
_latest = CompiledRead(Thread, _latest_query, stand_ins=(-1,))


def thread_latest_for_member(*, member: Member) -> list[Thread]:
    """The member's ten most recent conversations, with their subject and team."""
    return _latest.all(member.pk)


def _with_messages(qs: QuerySet[Thread]) -> QuerySet[Thread]:
    return qs.select_related("subject", "team").prefetch_related(
        Prefetch(
            "messages",
            queryset=Message.objects.order_by("created_at", "id").prefetch_related("attachments"),
        )
    )


def thread_get_for_member(*, member: Member, thread_id: int) -> Thread:
    thread = _with_messages(Thread.objects.filter(member=member, pk=thread_id)).first()
    if thread is None:
        raise NotFound()
    return thread


def attachment_get_for_member(*, member: Member, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(pk=attachment_id, message__thread__member=member).first()
    if attachment is None:
        raise NotFound()
    return attachment


# --- Staff ----------------------------------------------------------------------------------------


def team_list() -> list[Team]:
    return _teams.all()


# What one queue page lists: an advisor works from the top (the oldest question first) and the
# rest waits for the next look.
QUEUE_PAGE = 100


@dataclass(frozen=True)
class QueueRow:
    """One line of an advisor's queue, as displayed (no model instances: a page lists a hundred)."""

    pk: int
    subject: str
    member: str
    team: str
    answer_expected_by: dt.date | None
    advisor: str

    @property
    def url(self) -> str:
        return reverse_with_id("backoffice:messaging:thread", self.pk)

    @property
    def due(self) -> str:
        return self.answer_expected_by.strftime("%d/%m/%Y") if self.answer_expected_by else "—"


def thread_queue(*, team: Team | None, queue: str, user: Any) -> QuerySet[Thread]:
    """A team's queue: unassigned (new), mine, overdue (past the expected date), waiting for the
    member. The oldest question first, so that nobody waits behind newer ones. The pages read
    its first lines compiled (queue_rows); the tests check them against this queryset."""
    return _queue_query(
        queue,
        team_id=team.pk if team is not None else None,
        user_id=getattr(user, "pk", None),
        today=timezone.localdate(),
    )


def _queue_query(
    queue: str, *, team_id: int | None, user_id: int | None, today: dt.date
) -> QuerySet[Thread]:
    qs = Thread.objects.all()
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if queue == "mine":
        qs = qs.filter(assigned_to_id=user_id).exclude(status=Thread.Status.CLOSED)
    elif queue == "overdue":
        qs = qs.filter(status=Thread.Status.WAITING_ADVISOR, answer_expected_by__lt=today)
    elif queue == "waiting_member":
        qs = qs.filter(status=Thread.Status.WAITING_MEMBER)
    else:
        qs = qs.filter(status=Thread.Status.WAITING_ADVISOR, assigned_to__isnull=True)
    return qs.order_by("answer_expected_by", "waiting_since", "id")


QUEUE_COLUMNS = (
    "pk",
    "subject__label",
    "subject__label_en",
    "member__given_names",
    "member__usual_name",
    "member__birth_name",
    "team__name",
    "team__name_en",
    "answer_expected_by",
    "assigned_to__first_name",
    "assigned_to__last_name",
    "assigned_to__username",
)
_NO_DAY = dt.date(1000, 1, 1)


@functools.cache
def _queue_read(queue: str, with_team: bool) -> CompiledRead[Thread]:
    """The first page of one queue, compiled once (advisors open the queue all day long).

    Its arguments are only those this queue's SQL holds, in this order: the team's id when one
    is chosen, the advisor's id for "mine", the day for "overdue"."""

    def build(*args: Any) -> Any:
        values = list(args)
        team_id = values.pop(0) if with_team else None
        user_id = values.pop(0) if queue == "mine" else None
        today = values.pop(0) if queue == "overdue" else _NO_DAY
        query = _queue_query(queue, team_id=team_id, user_id=user_id, today=today)
        return query.values_list(*QUEUE_COLUMNS)[:QUEUE_PAGE]

    stand_ins = _queue_args(queue, team_id=-1 if with_team else None, user_id=-2, today=_NO_DAY)
    return CompiledRead(Thread, build, stand_ins=stand_ins)


def _queue_args(queue: str, *, team_id: int | None, user_id: Any, today: dt.date) -> list[Any]:
    """A compiled queue's arguments, for its stand-ins and for each read alike (_queue_read)."""
    args: list[Any] = [team_id] if team_id is not None else []
    if queue == "mine":
        args.append(user_id)
    if queue == "overdue":
        args.append(today)
    return args


def queue_rows(*, team: Team | None, queue: str, user: Any) -> list[QueueRow]:
    """The first QUEUE_PAGE lines of a queue, read as plain values in one query."""
    english = english_wanted()  # once for the page, not once a line
    queue = queue if queue in QUEUES else "unassigned"  # as _queue_query reads any other name
    if queue == "mine" and getattr(user, "pk", None) is None:
        return []  # nobody signed in has no thread of their own
    args = _queue_args(
        queue,
        team_id=team.pk if team is not None else None,
        user_id=getattr(user, "pk", None),
        today=timezone.localdate(),
    )
    values = _queue_read(queue, team is not None).tuples(*args)
    rows = []
    for (
        pk,
        label,
        label_en,
        given_names,
        usual_name,
        birth_name,
        team_name,
        team_name_en,
        expected,
        first_name,
        last_name,
        username,
    ) in values:
        # The same wording as the models' display_label, display_name and get_full_name.
        advisor = f"{first_name or ''} {last_name or ''}".strip() or username or "—"
        rows.append(
            QueueRow(
                pk=pk,
                subject=in_language(label, label_en, wanted_english=english),
                member=f"{given_names.split(' ')[0]} {usual_name or birth_name}",
                team=in_language(team_name, team_name_en, wanted_english=english),
                answer_expected_by=expected,
                advisor=advisor,
            )
        )
    return rows


def queue_counts(*, team: Team | None, user: Any) -> dict[str, int]:
    """How many threads each queue holds. Every queue is made of open threads, so the count reads
    only those (the status index), however many closed threads the years have kept.

    Written in SQL, as the ORM's aggregate of the same counts (`queue_counts_orm`, which the
    tests compare it with) took longer to build than to run, on every look at the queue."""
    connection = connections[router.db_for_read(Thread)]
    table = connection.ops.quote_name(Thread._meta.db_table)
    waiting = Thread.Status.WAITING_ADVISOR.value
    waiting_member = Thread.Status.WAITING_MEMBER.value
    query = (
        "SELECT COUNT(CASE WHEN status = %s AND assigned_to_id IS NULL THEN 1 END),"  # noqa: S608
        " COUNT(CASE WHEN assigned_to_id = %s THEN 1 END),"
        " COUNT(CASE WHEN status = %s AND answer_expected_by < %s THEN 1 END),"
        " COUNT(CASE WHEN status = %s THEN 1 END)"
        f" FROM {table} WHERE status IN (%s, %s)"  # the table's name, not data
    )
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    params = [waiting, getattr(user, "pk", None), waiting, today, waiting_member]
    params += [waiting, waiting_member]
    if team is not None:
        query += " AND team_id = %s"
        params.append(team.pk)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        unassigned, mine, overdue, member = cursor.fetchone()
    return {"unassigned": unassigned, "mine": mine, "overdue": overdue, "waiting_member": member}


def queue_counts_orm(*, team: Team | None, user: Any) -> dict[str, int]:
    """The same counts through the ORM: the definition queue_counts is checked against."""
    qs = Thread.objects.filter(
        status__in=[Thread.Status.WAITING_ADVISOR, Thread.Status.WAITING_MEMBER]
    )
    if team is not None:
        qs = qs.filter(team=team)
    today = timezone.localdate()
    waiting = Q(status=Thread.Status.WAITING_ADVISOR)
    return qs.aggregate(
        unassigned=Count("id", filter=waiting & Q(assigned_to__isnull=True)),
        mine=Count("id", filter=Q(assigned_to=user)),
        overdue=Count("id", filter=waiting & Q(answer_expected_by__lt=today)),
        waiting_member=Count("id", filter=Q(status=Thread.Status.WAITING_MEMBER)),
    )


def thread_get_for_staff(*, actor: Actor, thread_id: int, record: bool = True) -> Thread:
    """A thread with its messages and notes; the look itself is an audit event (the member sees
    who consulted their file). Acting on the thread records the action instead (`record=False`)."""
    thread = (
        _with_messages(Thread.objects.filter(pk=thread_id))
        .select_related("member", "assigned_to")
        .prefetch_related("notes__staff_user")
        .first()
    )
    if thread is None:
        raise NotFound()
    if not record:
        return thread
    audit_record(
        actor=actor,
        action="messaging.thread_viewed",
        member_id=thread.member_id,
        object_type="thread",
        object_id=thread.pk,
        reason="Messagerie",
    )
    return thread


def attachment_get_for_staff(*, actor: Actor, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.select_related("message__thread").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise NotFound()
    audit_record(
        actor=actor,
        action="messaging.attachment_viewed",
        member_id=attachment.message.thread.member_id,
        object_type="attachment",
        object_id=attachment.pk,
        reason="Messagerie",
    )
    return attachment


@dataclass(frozen=True)
class TeamFigures:
    team: Team
    answered: int
    median_hours: float | None
    p90_hours: float | None
    open: int
    overdue: int


def _quantiles(hours: list[float]) -> tuple[float | None, float | None]:
    if not hours:
        return None, None
    if len(hours) == 1:
        return hours[0], hours[0]
    deciles = statistics.quantiles(hours, n=10, method="inclusive")
    return statistics.median(hours), deciles[8]


def team_figures(*, days: int = FIGURES_DAYS) -> list[TeamFigures]:
    """Per team, over the threads created in the last `days` days: time to the first answer
    (median and 90th percentile, in hours), open threads and those past their answer date."""
    since = timezone.now() - dt.timedelta(days=days)
    today = timezone.localdate()
    hours: dict[int, list[float]] = {}
    for team_id, created, answered in Thread.objects.filter(
        created_at__gte=since, first_answered_at__isnull=False
    ).values_list("team_id", "created_at", "first_answered_at"):
        if answered is not None:
            hours.setdefault(team_id, []).append((answered - created).total_seconds() / 3600)
    waiting = Q(threads__status=Thread.Status.WAITING_ADVISOR)
    teams = Team.objects.annotate(
        open_count=Count("threads", filter=waiting),
        overdue_count=Count("threads", filter=waiting & Q(threads__answer_expected_by__lt=today)),
    )
    figures = []
    for team in teams:
        team_hours = sorted(hours.get(team.pk, []))
        median, p90 = _quantiles(team_hours)
        figures.append(
            TeamFigures(
                team=team,
                answered=len(team_hours),
                median_hours=median,
                p90_hours=p90,
                open=team.open_count,  # type: ignore[attr-defined]
                overdue=team.overdue_count,  # type: ignore[attr-defined]
            )
        )
    return figures
