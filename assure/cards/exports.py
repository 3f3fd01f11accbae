"""The files exchanged with the card maker.

Out: one CSV per export run, listing the cards to make, with the holder's identity as the card
prints it and the member's postal address block as La Poste wants it (NF Z10-011). In: the maker's
status file, one line per card that changed (`order_id,status,date,reason`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assure.cards import selectors, services
from assure.cards.exceptions import InvalidTransition
from assure.cards.models import CardOrder
from assure.core.services import Actor
from assure.notifications.postal import PostalRecipient, address_block

EXPORT_COLUMNS = [
    "order_id",
    "batch",
    "family_name",
    "given_names",
    "birth_date",
    "personal_id",
    "institution_id",
    "card_expiry",
    *(f"address_{n}" for n in range(1, 7)),
]
UPDATE_COLUMNS = ["order_id", "status", "date", "reason"]
MAKER_STATUSES = {CardOrder.Status.SENT, CardOrder.Status.DELIVERED, CardOrder.Status.RETURNED}


@dataclass(frozen=True)
class ExportResult:
    batch: str
    path: Path | None
    count: int


def _row(order: CardOrder, batch: str, expiry: dt.date) -> list[str]:
    member = order.member
    person = order.beneficiary
    family = person.birth_name if person else member.family_name
    given = person.given_names if person else member.given_names
    birth = person.birth_date if person else member.birth_date
    nir = (person.nir if person else None) or member.nir
    lines = [member.address_line1] + ([member.address_line2] if member.address_line2 else [])
    block = address_block(
        PostalRecipient(
            name=f"{member.given_names} {member.family_name}",
            lines=tuple(lines),
            postal_code=member.postal_code,
            city=member.city,
            country="FRANCE" if member.country in {"", "FR"} else member.country,
        )
    )
    address = [*block, *[""] * 6][:6]
    return [
        str(order.pk),
        batch,
        family.upper(),
        given,
        birth.isoformat(),
        nir,
        settings.ASSURE_FUND_INSTITUTION_ID,
        expiry.isoformat(),
        *address,
    ]


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the card runs to the 28th
        return day.replace(year=day.year + years, day=28)


def card_orders_export(*, actor: Actor, directory: Path | None = None) -> ExportResult:
    """Write the orders not yet sent to the maker, and mark them in production.

    The file is complete under its final name before the transaction commits: should the commit
    fail, the next run lists the same orders again (a card made twice), never none (a card lost).
    """
    now = timezone.now()
    today = timezone.localdate(now)
    batch = f"EHIC-{timezone.localtime(now):%Y%m%d-%H%M%S}"
    directory = Path(directory or settings.CARDS_EXPORT_DIR)
    expiry = _years_later(today, settings.CARDS_EHIC_VALIDITY_YEARS)
    with transaction.atomic():
        orders = list(selectors.card_orders_to_export().select_for_update(of=("self",)))
        if not orders:
            return ExportResult(batch=batch, path=None, count=0)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for order in orders:
            writer.writerow(_row(order, batch, expiry))
        for order in orders:
            services.card_order_status_change(
                actor=actor, order_id=order.pk, status=CardOrder.Status.IN_PRODUCTION
            )
        CardOrder.objects.filter(pk__in=[o.pk for o in orders]).update(export_batch=batch)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{batch}.csv"
        draft = directory / f".{batch}.csv.part"
        draft.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(draft, path)
    return ExportResult(batch=batch, path=path, count=len(orders))


@dataclass
class UpdateResult:
    changed: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def card_orders_update(*, actor: Actor, text: str) -> UpdateResult:
    """Apply the maker's status file; each line on its own (a bad line never blocks the rest)."""
    result = UpdateResult()
    reader = csv.DictReader(io.StringIO(text))
    missing = set(UPDATE_COLUMNS[:3]) - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"missing columns: {', '.join(sorted(missing))}")
    for row in reader:
        line = reader.line_num
        try:
            order_id = int((row.get("order_id") or "").strip())
        except ValueError:
            result.rejected.append((line, "order_id: not a number"))
            continue
        status = (row.get("status") or "").strip()
        if status not in MAKER_STATUSES:
            result.rejected.append((line, f"status: {status!r} is not sent, delivered or returned"))
            continue
        try:
            on = dt.date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            result.rejected.append((line, "date: expected YYYY-MM-DD"))
            continue
        if not CardOrder.objects.filter(pk=order_id).exists():
            result.rejected.append((line, "order_id: unknown order"))
            continue
        try:
            _order, changed = services.card_order_status_change(
                actor=actor,
                order_id=order_id,
                status=status,
                on=on,
                reason=(row.get("reason") or "").strip(),
            )
        except InvalidTransition as error:
            result.rejected.append(
                (line, f"status: cannot go from {error.extra['from']} to {status}")
            )
            continue
        if changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return result
