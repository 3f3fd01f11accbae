"""Demo payments: a believable history for each demo member, loaded through the real feeds.

Dates count back from today, so that the demo always shows recent payments, something pending,
the chart filled over twelve months and, for a few members, an ongoing sick leave. Amounts follow
the rules of DOMAIN.md (the feeds would refuse them otherwise).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from assure.core.feeds import feed_get, feed_load
from assure.core.models import FeedRun
from assure.members.models import Member
from assure.payments import rules
from assure.payments.models import Statement

# (category, act code, label, provider, charged, base, rate, units)
_ACTS: list[tuple[str, str, str, str, str, str, int, int]] = [
    (
        "consultation",
        "G",
        "Consultation chez le médecin généraliste",
        "Dr Anne Lefort",
        "30.00",
        "30.00",
        70,
        1,
    ),
    (
        "consultation",
        "G",
        "Consultation chez le médecin généraliste",
        "Dr Karim Haddad",
        "30.00",
        "30.00",
        70,
        1,
    ),
    (
        "consultation",
        "CS",
        "Consultation chez le pédiatre",
        "Dr Claire Vidal",
        "35.00",
        "35.00",
        70,
        1,
    ),
    (
        "pharmacy",
        "PHARMA",
        "Médicaments (3 boîtes)",
        "Pharmacie du Centre",
        "24.60",
        "24.60",
        65,
        3,
    ),
    (
        "pharmacy",
        "PHARMA",
        "Médicaments (2 boîtes)",
        "Pharmacie de la Gare",
        "12.40",
        "12.40",
        65,
        2,
    ),
    (
        "paramedical",
        "AMK",
        "Séance de kinésithérapie",
        "Cabinet de kinésithérapie Pasteur",
        "17.50",
        "17.50",
        60,
        1,
    ),
    (
        "laboratory",
        "B",
        "Analyses de biologie médicale",
        "Laboratoire Bioclinic",
        "28.35",
        "28.35",
        60,
        1,
    ),
    (
        "dental",
        "SC12",
        "Soins dentaires (détartrage)",
        "Dr Paul Mercier, chirurgien-dentiste",
        "43.38",
        "43.38",
        60,
        1,
    ),
    ("imaging", "ZBQK", "Radiographie", "Centre d'imagerie médicale", "39.90", "39.90", 70, 1),
    ("optical", "OPT", "Verres correcteurs", "Optique Lumière", "180.00", "12.00", 60, 1),
]


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _statement_lines(member: Member, today: dt.date, rng: random.Random) -> list[dict[str, Any]]:
    exemptions = member.exemptions or []
    people: list[tuple[str | None, dt.date]] = [(None, member.birth_date)]
    people += [(b.external_id, b.birth_date) for b in member.beneficiaries.all() if b.active]
    lines: list[dict[str, Any]] = []
    flat_year: dict[int, Decimal] = {}
    deductible_year: dict[int, Decimal] = {}
    for n in range(rng.randint(14, 26)):
        days_ago = int(rng.triangular(1, 420, 20))
        care = today - dt.timedelta(days=days_ago)
        category, code, label, provider, charged, base, rate, units = rng.choice(_ACTS)
        beneficiary, birth = rng.choice(people)
        if category == "consultation" and code == "CS" and beneficiary is None and len(people) > 1:
            beneficiary, birth = people[1]
        if any(e.get("kind") == "ald" for e in exemptions):
            rate = 100 if category in {"consultation", "laboratory", "pharmacy"} else rate
        exempt = rules.is_exempt(birth_date=birth, exemptions=exemptions, on=care)
        act = rules.act_reimbursement(
            base_amount=Decimal(base),
            rate=rate,
            category=category,
            units=units,
            exempt=exempt,
            flat_fee_year=flat_year.get(care.year, Decimal(0)),
            deductible_year=deductible_year.get(care.year, Decimal(0)),
        )
        flat_year[care.year] = flat_year.get(care.year, Decimal(0)) + act.flat_fee
        deductible_year[care.year] = deductible_year.get(care.year, Decimal(0)) + act.deductible
        received = care + dt.timedelta(days=rng.randint(0, 3))
        status = "paid"
        if days_ago < 6:
            status = rng.choice(["received", "processing"])
        elif n % 17 == 5:
            status = "rejected"
        # Payments go out on Fridays and group what was processed that week.
        paid = received + dt.timedelta(days=(4 - received.weekday()) % 7 + 7)
        if status == "paid" and paid > today:
            status = "processing"
        third_party = category in {"pharmacy", "laboratory"} or (exempt and category != "optical")
        lines.append(
            {
                "external_id": f"{member.external_id}-ST{n:03d}",
                "member_nir": member.nir,
                "beneficiary_external_id": beneficiary,
                "status": status,
                "care_date": care.isoformat(),
                "received_on": received.isoformat(),
                "paid_on": paid.isoformat() if status == "paid" else None,
                "category": category,
                "act_code": code,
                "label": label,
                "provider": provider,
                "amount_charged": charged,
                "base_amount": base,
                "rate": rate,
                "reimbursed": _amount(act.reimbursed),
                "flat_fee": _amount(act.flat_fee),
                "deductible": _amount(act.deductible),
                "paid_to": "provider" if third_party else "member",
                "complementary_forwarded": member.complementary_name is not None,
                "payment_reference": (
                    f"VIR-{paid:%Y%m%d}-{member.pk:05d}{'P' if third_party else 'M'}"
                    if status == "paid"
                    else None
                ),
                "rejection_reason": (
                    "Acte non remboursable : il ne figure pas à la nomenclature."
                    if status == "rejected"
                    else None
                ),
            }
        )
    return lines


def _allowance_lines(member: Member, today: dt.date) -> list[dict[str, Any]]:
    """An ongoing sick leave of five weeks, paid every 14 days, the last period in processing."""
    start = today - dt.timedelta(days=33)
    daily_gross = Decimal("38.64")
    lines = []
    period_start = start + dt.timedelta(days=3)  # three waiting days
    for n in range(2):
        period_end = period_start + dt.timedelta(days=13)
        days = (period_end - period_start).days + 1
        gross = rules.money(daily_gross * days)
        levies = rules.money(gross * Decimal("0.067"))
        paid_on = period_end + dt.timedelta(days=5)
        paid = paid_on <= today
        lines.append(
            {
                "external_id": f"{member.external_id}-IJ{n + 1}",
                "member_nir": member.nir,
                "sick_leave": {
                    "external_id": f"{member.external_id}-AT1",
                    "kind": "illness",
                    "start": start.isoformat(),
                    "end": None,
                },
                "status": "paid" if paid else "processing",
                "period_start": period_start.isoformat(),
                "period_end": period_end.isoformat(),
                "days": days,
                "daily_gross": _amount(daily_gross),
                "gross": _amount(gross),
                "social_levies": _amount(levies),
                "net": _amount(gross - levies),
                "paid_on": paid_on.isoformat() if paid else None,
                "paid_to": "member",
            }
        )
        period_start = period_end + dt.timedelta(days=1)
    return lines


def demo_payments(load: bool) -> list[str]:
    """Statements for every demo member, and a sick leave for one in four."""
    if not load:
        return [f"Payments: {Statement.objects.count()} statement lines already loaded."]
    today = timezone.localdate()
    statements: list[dict[str, Any]] = []
    allowances: list[dict[str, Any]] = []
    members = Member.objects.filter(external_id__startswith="DEMO-").prefetch_related(
        "beneficiaries"
    )
    for index, member in enumerate(members.order_by("pk")):
        # Made-up demo figures, reproducible for a given day: no secret is drawn from it.
        rng = random.Random(f"{member.external_id}-{today.isoformat()}")  # noqa: S311
        statements.extend(_statement_lines(member, today, rng))
        if index % 4 == 0:
            allowances.extend(_allowance_lines(member, today))
    report = []
    for feed, lines in (("statements", statements), ("allowances", allowances)):
        result, _run = feed_load(
            feed=feed_get(feed),
            stream=io.BytesIO("\n".join(json.dumps(line) for line in lines).encode()),
            source=FeedRun.Source.CLI,
            actor="demo-data",
        )
        counts = result.counts
        report.append(
            f"Payments ({feed}): {counts['created']} created, {counts['rejected']} rejected."
        )
    return report
