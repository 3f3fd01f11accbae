"""Writes to the register."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from assure.core.feeds import ErrorCode, Outcome, ParsedLine, Reject
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.members.models import Beneficiary, Member

if TYPE_CHECKING:
    from assure.members.feed import MemberLine

MEMBER_FEED_FIELDS = [
    "nir",
    "birth_name",
    "usual_name",
    "given_names",
    "sex",
    "birth_date",
    "birth_place_insee",
    "birth_country_insee",
    "vitale_serial",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "iban",
    "bic",
    "bank_holder",
    "coverage_start",
    "coverage_end",
    "exemptions",
    "complementary_name",
    "complementary_contract",
]
BENEFICIARY_FEED_FIELDS = [
    "member",
    "nir",
    "birth_name",
    "given_names",
    "sex",
    "birth_date",
    "relation",
    "active",
]


def members_feed_apply(*, lines: Sequence[ParsedLine], actor: Actor) -> list[Outcome | Reject]:
    """Write a batch of members lines (already checked) in the caller's transaction.

    A constant number of queries whatever the batch size: one read of the members the batch
    touches (by external id or by NIR), one of their beneficiaries, then bulk writes. Lines that
    conflict with the register (a NIR or a beneficiary that belongs to someone else) are rejected
    before anything is written. A line whose digest matches the one stored is left alone.

    Updates leave an audit event naming the fields changed (never their values); creations are
    recorded by the feed run itself, which keeps the first load of a register to bulk writes.
    """
    records: list[MemberLine] = [line.record for line in lines]
    existing = {
        external_id: (pk, nir, digest)
        for pk, external_id, nir, digest in Member.objects.filter(
            Q(external_id__in=[r.member["external_id"] for r in records])
            | Q(nir__in=[r.member["nir"] for r in records])
        ).values_list("pk", "external_id", "nir", "feed_digest")
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
    if not to_write:
        return [o for o in outcomes if o is not None]

    # Beneficiaries: those named by the lines, and those the members already have.
    known_member_pks = [
        existing[line.external_id][0] for _i, line in to_write if line.external_id in existing
    ]
    named = [b["external_id"] for _i, line in to_write for b in line.record.beneficiaries]
    beneficiary_owner: dict[str, int] = dict(
        Beneficiary.objects.filter(
            Q(external_id__in=named) | Q(member_id__in=known_member_pks)
        ).values_list("external_id", "member_id")
    )
    writable: list[tuple[int, ParsedLine]] = []
    for index, line in to_write:
        current = existing.get(line.external_id)
        member_pk = current[0] if current else None
        errors: dict[str, list[str]] = {}
        for position, beneficiary in enumerate(line.record.beneficiaries):
            owner = beneficiary_owner.get(beneficiary["external_id"])
            if owner is not None and owner != member_pk:
                errors[f"beneficiaries.{position}.external_id"] = [
                    ErrorCode.BENEFICIARY_OF_ANOTHER_MEMBER
                ]
        if errors:
            outcomes[index] = Reject(line.line, line.external_id, errors)
        else:
            outcomes[index] = Outcome.UPDATED if current else Outcome.CREATED
            writable.append((index, line))

    _write(writable, existing, actor)
    return [o for o in outcomes if o is not None]


def _write(
    lines: Sequence[tuple[int, ParsedLine]],
    existing: dict[str, tuple[int, str, str]],
    actor: Actor,
) -> None:
    if not lines:
        return
    updated_pks = [
        existing[line.external_id][0] for _i, line in lines if line.external_id in existing
    ]
    before: dict[int, dict[str, Any]] = (
        {
            row["pk"]: row
            for row in Member.objects.filter(pk__in=updated_pks).values("pk", *MEMBER_FEED_FIELDS)
        }
        if updated_pks
        else {}
    )

    members = []
    for _i, line in lines:
        record: MemberLine = line.record
        member = Member(**record.member, feed_digest=record.digest)
        current = existing.get(line.external_id)
        if current is not None:
            member.pk = current[0]
        members.append(member)
    Member.objects.bulk_create(
        members,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=[*MEMBER_FEED_FIELDS, "feed_digest", "updated_at"],
    )

    beneficiaries = []
    kept: list[str] = []
    for member, (_i, line) in zip(members, lines, strict=True):
        for data in line.record.beneficiaries:
            beneficiaries.append(Beneficiary(member=member, active=True, **data))
            kept.append(data["external_id"])
    if beneficiaries:
        Beneficiary.objects.bulk_create(
            beneficiaries,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=BENEFICIARY_FEED_FIELDS,
        )
    if updated_pks:
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
                    member_id=member.pk,
                    object_type="member",
                    object_id=str(member.pk),
                    data={"fields": _changed(before.get(member.pk, {}), member)},
                )
                for member in members
                if member.pk in before
            ]
        )


def _changed(before: dict[str, Any], member: Member) -> list[str]:
    return [name for name in MEMBER_FEED_FIELDS if before.get(name) != getattr(member, name)]
