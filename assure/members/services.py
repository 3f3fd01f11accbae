"""Writes to the register."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assure.core.feeds import ErrorCode, Outcome, ParsedLine, Reject
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.members.bulk import MEMBER_FEED_FIELDS, BeneficiaryRow, MemberRow, register_store
from assure.members.models import Beneficiary, Member

if TYPE_CHECKING:
    from assure.members.feed import MemberLine


def members_feed_apply(*, lines: Sequence[ParsedLine], actor: Actor) -> list[Outcome | Reject]:
    """Write a batch of members lines (already checked) in the caller's transaction.

    A constant number of queries whatever the batch size: one read of the members the batch
    touches (by external id or by NIR), one of the beneficiaries it names, then one bulk write per
    table and kind (insert, update). Lines that conflict with the register (a NIR or a beneficiary
    that belongs to someone else) are rejected before anything is written; the caller's
    transaction covers a conflict that appears meanwhile. A line whose digest matches the one
    stored is left alone.

    Updates leave an audit event naming the fields changed (never their values); creations are
    recorded by the feed run itself, which keeps the first load of a register to bulk writes.
    """
    store = register_store()
    records: list[MemberLine] = [line.record for line in lines]
    existing = {
        external_id: (pk, nir, digest)
        for pk, external_id, nir, digest in store.members_find(
            [r.member["external_id"] for r in records], [r.member["nir"] for r in records]
        )
    }
    nir_holder = {nir: external_id for external_id, (_pk, nir, _digest) in existing.items()}

    outcomes: list[Outcome | Reject | None] = []
    to_write: list[tuple[int, ParsedLine]] = []
    for index, line in enumerate(lines):
        record: MemberLine = line.record
        external_id = record.member["external_id"]
        current = existing.get(external_id)
        if current is not None and current[2] == record.digest:
            outcomes.append(Outcome.UNCHANGED)
            continue
        holder = nir_holder.get(record.member["nir"])
        if holder is not None and holder != external_id:
            outcomes.append(Reject(line.line, external_id, {"nir": [ErrorCode.DUPLICATE_NIR]}))
            continue
        outcomes.append(None)
        to_write.append((index, line))

    if to_write:
        owners = store.beneficiary_owners(
            [b["external_id"] for _i, line in to_write for b in line.record.beneficiaries]
        )
        writable: list[MemberLine] = []
        for index, line in to_write:
            current = existing.get(line.external_id)
            member_pk = current[0] if current else None
            errors: dict[str, list[str]] = {}
            for position, beneficiary in enumerate(line.record.beneficiaries):
                owner = owners.get(beneficiary["external_id"])
                if owner is not None and owner != member_pk:
                    errors[f"beneficiaries.{position}.external_id"] = [
                        ErrorCode.BENEFICIARY_OF_ANOTHER_MEMBER
                    ]
            if errors:
                outcomes[index] = Reject(line.line, line.external_id, errors)
            else:
                outcomes[index] = Outcome.UPDATED if current else Outcome.CREATED
                writable.append(line.record)
        _write(writable, existing, owners, actor)
    return [outcome for outcome in outcomes if outcome is not None]


def _write(
    records: list[MemberLine],
    existing: dict[str, tuple[int, str, str]],
    beneficiary_owners: dict[str, int],
    actor: Actor,
) -> None:
    if not records:
        return
    store = register_store()
    new: list[MemberRow] = []
    known: list[MemberRow] = []
    for record in records:
        row = {**record.member, "feed_digest": record.digest}
        (known if record.member["external_id"] in existing else new).append(row)

    before: dict[str, dict[str, Any]] = {}
    if known:
        before = {
            row["external_id"]: row
            for row in Member.objects.filter(
                pk__in=[existing[row["external_id"]][0] for row in known]
            ).values("external_id", *MEMBER_FEED_FIELDS)
        }
        store.members_update(known)
    member_pks = {external_id: values[0] for external_id, values in existing.items()}
    if new:
        member_pks.update(store.members_insert(new))

    new_beneficiaries: list[BeneficiaryRow] = []
    known_beneficiaries: list[BeneficiaryRow] = []
    for record in records:
        member_pk = member_pks[record.member["external_id"]]
        for data in record.beneficiaries:
            row = {**data, "member_id": member_pk}
            if data["external_id"] in beneficiary_owners:
                known_beneficiaries.append(row)
            else:
                new_beneficiaries.append(row)
    store.beneficiaries_update(known_beneficiaries)
    store.beneficiaries_insert(new_beneficiaries)

    if known:
        updated_pks = [member_pks[row["external_id"]] for row in known]
        kept = [b["external_id"] for record in records for b in record.beneficiaries]
        # Missing from the member's new line: no longer shown, kept for the history.
        Beneficiary.objects.filter(member_id__in=updated_pks, active=True).exclude(
            external_id__in=kept
        ).update(active=False)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor_kind=actor.kind,
                    actor_id=actor.id,
                    actor_display=actor.display[:150],
                    action="member.updated_by_feed",
                    member_id=member_pks[row["external_id"]],
                    object_type="member",
                    object_id=str(member_pks[row["external_id"]]),
                    data={"fields": _changed(before.get(row["external_id"], {}), row)},
                )
                for row in known
            ]
        )


def _changed(before: dict[str, Any], after: MemberRow) -> list[str]:
    return [name for name in MEMBER_FEED_FIELDS if before.get(name) != after[name]]
