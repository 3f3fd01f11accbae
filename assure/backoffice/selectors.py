"""Reads of the back office: member search, a member's file, the supervisor's figures and the
audit trail. Staff reads are not scoped to an owner; the views check permissions, and opening a
file records a consultation (services.consultation_record)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from assure.core.compiled import CompiledRead
from assure.core.exceptions import NotFound
from assure.core.models import AuditEvent, FeedRun
from assure.identity import throttling
from assure.identity.models import Account, ProvisionalCode
from assure.members.models import Beneficiary, Member
from assure.members.nir import InvalidNir, normalize_nir
from assure.notifications.selectors import outbox_backlog

SEARCH_LIMIT = 20


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def member_search(
    *, nir: str = "", name: str = "", birth_date: dt.date | None = None
) -> list[Member]:
    """By NIR (exact, spaces ignored), or by a family or given name and the birth date."""
    if nir:
        try:
            normalized = normalize_nir(nir)
        except InvalidNir:
            return []
        return list(Member.objects.filter(nir=normalized)[:1])
    if name and birth_date:
        folded = _fold(name)
        return list(
            Member.objects.filter(birth_date=birth_date)
            .filter(
                Q(birth_name__iexact=folded)
                | Q(usual_name__iexact=folded)
                | Q(birth_name__iexact=name.strip())
                | Q(usual_name__iexact=name.strip())
                | Q(given_names__istartswith=name.strip())
            )
            .order_by("birth_name", "given_names")[:SEARCH_LIMIT]
        )
    return []


# The reads of a member's file (three requests per file opened: the reason asked, recorded, the
# file shown) are compiled once, not on every page (assure.core.compiled).
def _member_query(member_id: int) -> QuerySet[Member]:
    return Member.objects.filter(pk=member_id)[:1]  # the key is unique: no ORDER BY


def _account_query(member_id: int) -> QuerySet[Account]:
    return Account.objects.filter(member_id=member_id).order_by("pk")[:1]


def _history_query(member_id: int) -> QuerySet[AuditEvent]:
    # The feed's updates (member.*) and the member's own changes (members.*: address, phone,
    # e-mail, bank account).
    return (
        AuditEvent.objects.filter(member_id=member_id)
        .filter(Q(action__startswith="member.") | Q(action__startswith="members."))
        .order_by("-at", "-id")[:20]
    )


def _beneficiaries_query(member_id: int) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.filter(member_id=member_id, active=True)


_member = CompiledRead(Member, _member_query, stand_ins=(-1,))
_account = CompiledRead(Account, _account_query, stand_ins=(-1,))
_history = CompiledRead(AuditEvent, _history_query, stand_ins=(-1,))
_beneficiaries = CompiledRead(Beneficiary, _beneficiaries_query, stand_ins=(-1,))


def member_get(member_id: int) -> Member:
    member = _member.first(member_id) if type(member_id) is int else None
    if member is None:
        raise NotFound()
    return member


@dataclass
class AccountStatus:
    state: str  # "none", "active", "locked", "terminated"
    account: Account | None = None
    locked_until: dt.datetime | None = None


def account_status(member: Member) -> AccountStatus:
    account = _account.first(member.pk)
    if account is None:
        return AccountStatus("none")
    if account.status == Account.Status.TERMINATED:
        return AccountStatus("terminated", account)
    lock = throttling.login_lock(member.nir)
    if lock is not None:
        return AccountStatus("locked", account, lock.until)
    return AccountStatus("active", account)


@dataclass
class MemberFile:
    member: Member
    status: AccountStatus
    beneficiaries: list[Any]
    sections: dict[str, Any] = field(default_factory=dict)
    history: list[AuditEvent] = field(default_factory=list)


def _optional_sections(member: Member) -> dict[str, Any]:
    """Each area's part of the file, when that area is installed (imports guarded)."""
    sections: dict[str, Any] = {}
    try:
        from assure.payments import selectors as payments
    except ImportError:  # pragma: no cover - payments not installed
        pass
    else:
        sections["payments"] = payments.statement_latest_paid_for_member(member=member, limit=5)
        sections["pending"] = payments.statement_pending_for_member(member=member, limit=5)
        sections["sick_leaves"] = payments.sick_leave_list_for_member(member=member)[:3]
    try:
        from assure.messaging import selectors as messaging
    except ImportError:  # pragma: no cover
        pass
    else:
        sections["threads"] = messaging.thread_latest_for_member(member=member)
    try:
        from assure.documents import selectors as documents
    except ImportError:  # pragma: no cover
        pass
    else:
        sections["certificates"] = documents.certificate_list_for_member(
            member=member, limit=10
        ).items
    try:
        from assure.cards import selectors as cards
    except ImportError:  # pragma: no cover
        pass
    else:
        sections["card_orders"] = cards.card_order_list_for_member(member=member, limit=10)
    return sections


def member_file(member: Member) -> MemberFile:
    return MemberFile(
        member=member,
        status=account_status(member),
        beneficiaries=_beneficiaries.all(member.pk),
        sections=_optional_sections(member),
        history=_history.all(member.pk),
    )


# --- Supervisor ----------------------------------------------------------------------------------


@dataclass
class Dashboard:
    teams: list[Any]
    locked_today: int
    codes_by_channel: dict[str, int]
    card_orders_by_status: dict[str, int] | None
    feed_runs: list[FeedRun]
    # E-mails and letters not yet delivered (pending, sending, failed, oldest age): a growing
    # backlog means the SMTP relay or the workers are down.
    outbox: dict[str, int] | None = None


def dashboard() -> Dashboard:
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        from assure.messaging.selectors import team_figures
    except ImportError:  # pragma: no cover
        teams: list[Any] = []
    else:
        teams = team_figures()
    locked_today = AuditEvent.objects.filter(
        action="identity.account_locked", at__gte=today_start
    ).count()
    codes = dict(
        ProvisionalCode.objects.filter(created_at__gte=today_start)
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    cards: dict[str, int] | None
    try:
        from assure.cards.models import CardOrder
    except ImportError:  # pragma: no cover
        cards = None
    else:
        cards = dict(
            CardOrder.objects.values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    return Dashboard(
        teams=teams,
        locked_today=locked_today,
        codes_by_channel={"email": codes.get("email", 0), "post": codes.get("post", 0)},
        card_orders_by_status=cards,
        feed_runs=list(FeedRun.objects.order_by("-started_at")[:10]),
        outbox=outbox_backlog(),
    )


def audit_search(
    *,
    member_id: int | None = None,
    staff: str = "",
    action: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all().order_by("-at", "-id")
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if staff:
        ids = [
            str(pk)
            for pk in User.objects.filter(username__iexact=staff).values_list("pk", flat=True)
        ]
        qs = qs.filter(actor_kind=AuditEvent.ActorKind.STAFF, actor_id__in=ids)
    if action:
        qs = qs.filter(action__startswith=action)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def staff_list() -> QuerySet[User]:
    return (
        User.objects.filter(is_staff=True)
        .prefetch_related("groups")
        .select_related("staff_profile")
        .order_by("username")
    )


@dataclass
class CardOrders:
    counts: dict[str, int]
    today: list[Any]
    returned: list[Any]
    listed: list[Any]
    status: str


def card_orders(*, status: str = "") -> CardOrders | None:
    """Today's orders, the returned cards to follow up, and one status's orders (newest first);
    None when the cards area is not installed."""
    try:
        from assure.cards.models import CardOrder
    except ImportError:  # pragma: no cover
        return None
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    base = CardOrder.objects.select_related("member", "beneficiary")
    counts = dict(
        CardOrder.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    if status not in CardOrder.Status.values:
        status = ""
    return CardOrders(
        counts={value: counts.get(value, 0) for value in CardOrder.Status.values},
        today=list(base.filter(ordered_at__gte=today_start).order_by("-ordered_at")[:200]),
        returned=list(
            base.filter(status=CardOrder.Status.RETURNED).order_by("-returned_at", "-id")[:200]
        ),
        listed=list(base.filter(status=status).order_by("-ordered_at")[:200]) if status else [],
        status=status,
    )
