"""Writes of the payments app: the feeds' batches, and the notices of new payments.

Each batch costs a constant number of queries whatever its size: one read of the members it names
(by NIR), one of the beneficiaries or sick leaves, one of the rows already there, then bulk
upserts. Lines that conflict with the register are rejected before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from assure.core.bulk_keys import KEYS_ARRAY, rows_for_keys
from assure.core.exceptions import DomainError
from assure.core.feeds import LINE, ErrorCode, Outcome, ParsedLine, Reject
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.identity.models import Account
from assure.members.models import Beneficiary, Member
from assure.notifications.services import email_queue
from assure.payments.models import AllowancePayment, SickLeave, Statement

if TYPE_CHECKING:
    from assure.payments.feed import AllowanceLine, StatementLine

logger = logging.getLogger(__name__)

UNKNOWN_BENEFICIARY = "unknown_beneficiary"
SICK_LEAVE_OF_ANOTHER_MEMBER = "sick_leave_of_another_member"
PAYMENT_NOTICE_TEMPLATE = "payment_notice"

STATEMENT_FEED_FIELDS = [
    "member",
    "beneficiary",
    "status",
    "care_date",
    "received_on",
    "paid_on",
    "category",
    "act_code",
    "label",
    "provider",
    "amount_charged",
    "base_amount",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
    "paid_to",
    "complementary_forwarded",
    "payment_reference",
    "rejection_reason",
    "feed_digest",
    "updated_at",
]
ALLOWANCE_FEED_FIELDS = [
    "sick_leave",
    "member",
    "status",
    "period_start",
    "period_end",
    "days",
    "daily_gross",
    "gross",
    "social_levies",
    "net",
    "paid_on",
    "paid_to",
    "feed_digest",
    "updated_at",
]


def _members_by_nir(nirs: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(nirs))
    if connection.vendor == "postgresql":
        return dict(rows_for_keys(_MEMBERS_BY_NIR, wanted))  # type: ignore[arg-type]
    return dict(Member.objects.filter(nir__in=wanted).values_list("nir", "pk"))


def _beneficiaries_by_external_id(external_ids: set[str]) -> dict[str, tuple[int, int]]:
    """external id → (beneficiary id, its member's id)."""
    if not external_ids:
        return {}
    if connection.vendor == "postgresql":
        rows = rows_for_keys(_BENEFICIARIES_BY_EXTERNAL_ID, sorted(external_ids))
    else:
        rows = list(
            Beneficiary.objects.filter(external_id__in=external_ids).values_list(
                "external_id", "pk", "member_id"
            )
        )
    return {external_id: (pk, owner) for external_id, pk, owner in rows}


def _statements_by_external_id(external_ids: list[str]) -> dict[str, tuple[int, str, str]]:
    """external id → (statement id, feed digest, status), for the lines already stored."""
    if connection.vendor == "postgresql":
        rows = rows_for_keys(_STATEMENTS_BY_EXTERNAL_ID, external_ids)
    else:
        rows = list(
            Statement.objects.filter(external_id__in=external_ids).values_list(
                "external_id", "pk", "feed_digest", "status"
            )
        )
    return {external_id: (pk, digest, status) for external_id, pk, digest, status in rows}


# A batch's lookups on PostgreSQL: keys as one text split by the server (assure.core.bulk_keys).
# Table names come from the models only.
_MEMBERS_BY_NIR = f"SELECT nir, id FROM {Member._meta.db_table} WHERE nir = ANY({KEYS_ARRAY})"  # noqa: S608
_BENEFICIARIES_BY_EXTERNAL_ID = (
    f"SELECT external_id, id, member_id FROM {Beneficiary._meta.db_table} "  # noqa: S608
    f"WHERE external_id = ANY({KEYS_ARRAY})"
)
_STATEMENTS_BY_EXTERNAL_ID = (
    f"SELECT external_id, id, feed_digest, status FROM {Statement._meta.db_table} "  # noqa: S608
    f"WHERE external_id = ANY({KEYS_ARRAY})"
)


def _unknown_member(line: ParsedLine) -> Reject:
    return Reject(line.line, line.external_id, {"member_nir": [ErrorCode.UNKNOWN_MEMBER]})


def statements_feed_apply(
    *, lines: Sequence[ParsedLine], run_id: int, actor: Actor
) -> list[Outcome | Reject]:
    """Write a batch of checked statements lines in the caller's transaction.

    A line whose digest matches the stored one is left alone. Members with a line newly paid get
    one notice per run (the idempotency key names the run), written in the same transaction.
    """
    records: list[StatementLine] = [line.record for line in lines]
    member_pk = _members_by_nir(r.member_nir for r in records)
    beneficiary_of = _beneficiaries_by_external_id(
        {r.beneficiary_external_id for r in records if r.beneficiary_external_id}
    )
    existing = _statements_by_external_id([line.external_id for line in lines])

    outcomes: list[Outcome | Reject] = []
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    newly_paid: set[int] = set()
    status_changes: list[tuple[int, str, str, int]] = []
    for line, record in zip(lines, records, strict=True):
        current = existing.get(line.external_id)
        if current is not None and current[1] == record.digest:
            outcomes.append(Outcome.UNCHANGED)
            continue
        owner = member_pk.get(record.member_nir)
        if owner is None:
            outcomes.append(_unknown_member(line))
            continue
        beneficiary_pk = None
        if record.beneficiary_external_id:
            found = beneficiary_of.get(record.beneficiary_external_id)
            if found is None:
                outcomes.append(
                    Reject(
                        line.line,
                        line.external_id,
                        {"beneficiary_external_id": [UNKNOWN_BENEFICIARY]},
                    )
                )
                continue
            if found[1] != owner:
                outcomes.append(
                    Reject(
                        line.line,
                        line.external_id,
                        {"beneficiary_external_id": [ErrorCode.BENEFICIARY_OF_ANOTHER_MEMBER]},
                    )
                )
                continue
            beneficiary_pk = found[0]
        status = record.fields["status"]
        if current is not None and current[2] != status:
            status_changes.append((current[0], current[2], status, owner))
        if status == Statement.Status.PAID and (current is None or current[2] != status):
            newly_paid.add(owner)
        (changed if current else new).append(
            {
                **record.fields,
                "member_id": owner,
                "beneficiary_id": beneficiary_pk,
                "feed_digest": record.digest,
            }
        )
        outcomes.append(Outcome.UPDATED if current else Outcome.CREATED)

    if new or changed:
        _statements_write(new=new, changed=changed)
    if status_changes:
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor_kind=actor.kind,
                    actor_id=actor.id,
                    actor_display=actor.display[:150],
                    action="statement.status_changed",
                    member_id=member_id,
                    object_type="statement",
                    object_id=str(pk),
                    data={"from": before, "to": after},
                )
                for pk, before, after, member_id in status_changes
            ]
        )
    if newly_paid:
        payment_notices_queue(member_ids=newly_paid, run_id=run_id, actor=actor)
    return outcomes


# Columns of payments_statement the feed writes, in the order of the staging table.
_STATEMENT_COLUMNS = [
    "external_id",
    "member_id",
    "beneficiary_id",
    *(
        name
        for name in STATEMENT_FEED_FIELDS
        if name not in {"member", "beneficiary", "updated_at"}
    ),
    "created_at",
    "updated_at",
]


def _statements_write(*, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    """Insert the batch's new lines and update its changed ones, by external id.

    On PostgreSQL new lines go straight into the table by COPY (the batch has just read, in this
    transaction, that they are not there; if another writer added one meanwhile, the batch fails
    and is replayed line by line, which then finds it). Changed lines are COPYed into a temporary
    staging table and upserted from there in one INSERT ... ON CONFLICT: a fraction of the cost
    of binding two dozen parameters per row. Elsewhere (SQLite), Django's bulk upsert does both.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        Statement.objects.bulk_create(
            [Statement(**row) for row in [*new, *changed]],
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=STATEMENT_FEED_FIELDS,
        )
        return
    columns = ", ".join(_STATEMENT_COLUMNS)
    with connection.cursor() as cursor:
        if new:
            _statements_copy(cursor, f"COPY payments_statement ({columns}) FROM STDIN", new, now)
        if not changed:
            return
        # Created by the transaction that first needs it in this session (and again after a
        # rollback); emptied after each batch, as a batch may share its transaction with others.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS payments_statement_staging AS "  # noqa: S608
            f"SELECT {columns} FROM payments_statement WITH NO DATA"
        )
        _statements_copy(
            cursor, f"COPY payments_statement_staging ({columns}) FROM STDIN", changed, now
        )
        updates = ", ".join(
            f"{name} = EXCLUDED.{name}"
            for name in _STATEMENT_COLUMNS
            if name not in {"external_id", "created_at"}
        )
        cursor.execute(
            f"INSERT INTO payments_statement ({columns}) "  # noqa: S608 - names from the model
            f"SELECT {columns} FROM payments_statement_staging "
            f"ON CONFLICT (external_id) DO UPDATE SET {updates}"
        )
        # TRUNCATE, not DELETE: nothing vacuums a temporary table, so deleted rows would pile
        # up and every later batch would scan them all.
        cursor.execute("TRUNCATE payments_statement_staging")


def _statements_copy(cursor: Any, sql: str, rows: list[dict[str, Any]], now: Any) -> None:
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    now if name in {"created_at", "updated_at"} else row[name]
                    for name in _STATEMENT_COLUMNS
                ]
            )


def allowances_feed_apply(
    *, lines: Sequence[ParsedLine], run_id: int, actor: Actor
) -> list[Outcome | Reject]:
    """Write a batch of checked allowance lines and their sick leaves, in one transaction."""
    records: list[AllowanceLine] = [line.record for line in lines]
    member_pk = _members_by_nir(r.member_nir for r in records)
    leave_ids = {r.sick_leave["external_id"] for r in records}
    leave_owner: dict[str, int] = dict(
        SickLeave.objects.filter(external_id__in=leave_ids).values_list("external_id", "member_id")
    )
    existing: dict[str, tuple[int, str, str]] = {
        external_id: (pk, digest, status)
        for pk, external_id, digest, status in AllowancePayment.objects.filter(
            external_id__in=[line.external_id for line in lines]
        ).values_list("pk", "external_id", "feed_digest", "status")
    }

    outcomes: list[Outcome | Reject] = []
    accepted: list[tuple[ParsedLine, AllowanceLine, int]] = []
    leaves: dict[str, SickLeave] = {}
    newly_paid: set[int] = set()
    for line, record in zip(lines, records, strict=True):
        current = existing.get(line.external_id)
        if current is not None and current[1] == record.digest:
            outcomes.append(Outcome.UNCHANGED)
            continue
        owner = member_pk.get(record.member_nir)
        if owner is None:
            outcomes.append(_unknown_member(line))
            continue
        leave_id = record.sick_leave["external_id"]
        holder = leave_owner.get(leave_id)
        if holder is not None and holder != owner:
            outcomes.append(
                Reject(
                    line.line,
                    line.external_id,
                    {"sick_leave.external_id": [SICK_LEAVE_OF_ANOTHER_MEMBER]},
                )
            )
            continue
        leave_owner[leave_id] = owner  # a later line of the batch naming it for another member
        leaves[leave_id] = SickLeave(member_id=owner, **record.sick_leave)
        accepted.append((line, record, owner))
        if record.fields["status"] == AllowancePayment.Status.PAID and (
            current is None or current[2] != record.fields["status"]
        ):
            newly_paid.add(owner)
        outcomes.append(Outcome.UPDATED if current else Outcome.CREATED)

    if accepted:
        SickLeave.objects.bulk_create(
            list(leaves.values()),
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["member", "kind", "start", "end", "updated_at"],
        )
        leave_pk = {leave.external_id: leave.pk for leave in leaves.values()}
        if any(pk is None for pk in leave_pk.values()):  # pragma: no cover - old SQLite only
            leave_pk = dict(
                SickLeave.objects.filter(external_id__in=list(leave_pk)).values_list(
                    "external_id", "pk"
                )
            )
        rows = []
        for line, record, owner in accepted:
            row = AllowancePayment(
                sick_leave_id=leave_pk[record.sick_leave["external_id"]],
                member_id=owner,
                feed_digest=record.digest,
                **record.fields,
            )
            current = existing.get(line.external_id)
            if current is not None:
                row.pk = current[0]
            rows.append(row)
        AllowancePayment.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=ALLOWANCE_FEED_FIELDS,
        )
    if newly_paid:
        payment_notices_queue(member_ids=newly_paid, run_id=run_id, actor=actor)
    return outcomes


def payment_notices_queue(*, member_ids: Iterable[int], run_id: int, actor: Actor) -> int:
    """One e-mail per member who has an account and new paid lines in this feed run.

    The notice names no amount, act or care and carries no link (phishing copies fake exactly
    such links): it tells the member to open their space themselves. Members without an account
    have no space to look at and get nothing. Returns how many notices were queued.
    """
    accounts = (
        Account.objects.select_related("member")
        .filter(member_id__in=list(member_ids), status=Account.Status.ACTIVE)
        .only("pk", "email", "email_verified", "member__email", "member__given_names")
    )
    queued = 0
    for account in accounts:
        address = account.contact_email
        if not address:
            continue
        try:
            email_queue(
                to=address,
                template=PAYMENT_NOTICE_TEMPLATE,
                context=_notice_context(account.member),
                idempotency_key=f"payments.notice:{run_id}:{account.member_id}",
                member_id=account.member_id,
            )
        except DomainError:
            logger.warning("payment notice for member %s not queued", account.member_id)
            continue
        queued += 1
    return queued


def _notice_context(member: Member) -> dict[str, Any]:
    # The fund's name and the address to type come from the outbox's own context.
    return {"first_name": member.given_names.split(" ")[0]}


__all__ = ["LINE", "allowances_feed_apply", "payment_notices_queue", "statements_feed_apply"]
