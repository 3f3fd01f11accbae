"""What each certificate says, as a `pdf.Page`: French text, the fund's identity from settings.

Figures are the feed's: allowances are shown as the fund paid them. The taxable amount of the tax
statement follows the French rules for daily allowances: the deductible part of the CSG (3.8 % of
the gross of the 6.2 % levied, CGI art. 154 quinquies) is taken off, and allowances after a work
accident are taxable for half their amount (CGI art. 80 quinquies).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from assure.documents.pdf import Page, Table
from assure.members.models import Beneficiary, Member
from assure.members.nir import format_nir, mask_nir
from assure.payments.models import AllowancePayment, SickLeave
from assure.payments.templatetags.payments_format import format_date, format_euros

DEDUCTIBLE_CSG_RATE = Decimal("0.038")
WORK_ACCIDENT_TAXABLE_SHARE = Decimal("0.5")

RELATIONS = {"child": "Enfant", "spouse": "Conjoint(e)", "other": "Autre personne à charge"}
EXEMPTIONS = {
    "ald": "Affection de longue durée (ALD) : soins liés pris en charge à 100 %",
    "maternity": "Maternité : soins pris en charge à 100 %",
    "css": "Complémentaire santé solidaire (CSS)",
    "ame": "Aide médicale de l'État (AME)",
}
LEAVE_KINDS = {
    "illness": "Maladie",
    "work_accident": "Accident du travail",
    "maternity": "Maternité",
    "paternity": "Paternité",
}


@dataclass(frozen=True)
class Stamp:
    """The parts every certificate carries besides its own content."""

    reference: str  # displayed form
    verify_url: str
    issued_on: dt.date


def _page(title: str, subtitle: str, stamp: Stamp, **parts: object) -> Page:
    return Page(
        fund_name=settings.ASSURE_FUND_NAME,
        fund_address=list(settings.ASSURE_FUND_ADDRESS),
        title=title,
        subtitle=subtitle,
        reference=stamp.reference,
        verify_url=stamp.verify_url,
        author=settings.ASSURE_FUND_NAME,
        **parts,  # type: ignore[arg-type]
    )


def full_name(person: Member | Beneficiary) -> str:
    family = person.family_name if isinstance(person, Member) else person.birth_name
    return f"{person.given_names} {family.upper()}"


def _nir(value: str | None) -> str:
    if not value:
        return "rattaché(e) à l'assuré(e)"
    try:
        return format_nir(value)
    except ValueError:  # a register value stdnum cannot group is still printed as sent
        return value


def current_exemptions(member: Member, today: dt.date) -> list[tuple[str, str]]:
    rows = []
    for item in member.exemptions or []:
        start = dt.date.fromisoformat(item["start"]) if item.get("start") else None
        end = dt.date.fromisoformat(item["end"]) if item.get("end") else None
        if (start is None or start <= today) and (end is None or end >= today):
            since = f"depuis le {format_date(start)}" if start else ""
            until = f" jusqu'au {format_date(end)}" if end else ""
            rows.append((EXEMPTIONS.get(item.get("kind", ""), item.get("kind", "")), since + until))
    return rows


def entitlement_page(
    *,
    member: Member,
    beneficiaries: Sequence[Beneficiary],
    show_exemptions: bool,
    valid_until: dt.date,
    stamp: Stamp,
) -> Page:
    coverage = [
        ("Droits ouverts depuis le", format_date(member.coverage_start)),
        ("Attestation valable jusqu'au", format_date(valid_until)),
        ("Régime", "Régime général, assurance maladie"),
        ("Caisse d'affiliation", settings.ASSURE_FUND_NAME),
    ]
    if member.complementary_name:
        coverage.append(("Organisme complémentaire", member.complementary_name))
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        (
            "Assuré(e)",
            [
                ("Nom et prénoms", full_name(member)),
                ("Né(e) le", format_date(member.birth_date)),
                ("Numéro de sécurité sociale", _nir(member.nir)),
            ],
        ),
        ("Droits à l'assurance maladie", coverage),
    ]
    if beneficiaries:
        sections.append(
            (
                "Ayants droit",
                [
                    (
                        full_name(b),
                        f"{RELATIONS.get(b.relation, 'Ayant droit')}, né(e) le "
                        f"{format_date(b.birth_date)}",
                    )
                    for b in beneficiaries
                ],
            )
        )
    notes = []
    if show_exemptions:
        rows = current_exemptions(member, stamp.issued_on)
        sections.append(("Exonérations", rows or [("Aucune exonération en cours", "")]))
    else:
        notes.append(
            "Cette attestation ne mentionne pas les exonérations éventuelles de l'assuré(e), "
            "à sa demande."
        )
    return _page(
        "Attestation de droits à l'assurance maladie",
        f"Délivrée le {format_date(stamp.issued_on)} à la demande de l'assuré(e), "
        "pour faire valoir ses droits auprès des professionnels et établissements de santé.",
        stamp,
        sections=sections,
        notes=notes,
    )


def allowance_page(
    *,
    member: Member,
    payments: Sequence[AllowancePayment],
    start: dt.date,
    end: dt.date,
    stamp: Stamp,
) -> Page:
    rows = [
        [
            f"{format_date(p.period_start)} au {format_date(p.period_end)}",
            str(p.days),
            format_euros(p.daily_gross),
            format_euros(p.gross),
            format_euros(p.social_levies),
            format_euros(p.net),
            format_date(p.paid_on),
            "assuré(e)" if p.paid_to == AllowancePayment.PaidTo.MEMBER else "employeur",
        ]
        for p in payments
    ]
    gross = sum((p.gross for p in payments), Decimal("0"))
    levies = sum((p.social_levies for p in payments), Decimal("0"))
    net = sum((p.net for p in payments), Decimal("0"))
    days = sum(p.days for p in payments)
    table = Table(
        headers=["Période", "Jours", "Brut/jour", "Brut", "CSG-CRDS", "Net", "Payé le", "À"],
        rows=rows,
        widths=[3.4, 1, 1.4, 1.5, 1.5, 1.5, 1.5, 1.4],
        numeric=frozenset({1, 2, 3, 4, 5}),
        total=[
            "Total",
            str(days),
            "",
            format_euros(gross),
            format_euros(levies),
            format_euros(net),
            "",
            "",
        ],
    )
    notes = []
    if not payments:
        notes.append("Aucune indemnité journalière n'a été payée pendant cette période.")
    return _page(
        "Attestation de paiement des indemnités journalières",
        f"Indemnités journalières payées du {format_date(start)} au {format_date(end)}. "
        f"Délivrée le {format_date(stamp.issued_on)}.",
        stamp,
        sections=[
            (
                "Assuré(e)",
                [
                    ("Nom et prénoms", full_name(member)),
                    ("Né(e) le", format_date(member.birth_date)),
                    ("Numéro de sécurité sociale", _nir(member.nir)),
                ],
            )
        ],
        table=table,
        notes=notes,
    )


def taxable_amount(payment: AllowancePayment) -> Decimal:
    base = payment.gross - (payment.gross * DEDUCTIBLE_CSG_RATE).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    if payment.sick_leave.kind == SickLeave.Kind.WORK_ACCIDENT:
        base = (base * WORK_ACCIDENT_TAXABLE_SHARE).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return base


def tax_page(
    *, member: Member, payments: Sequence[AllowancePayment], year: int, stamp: Stamp
) -> Page:
    by_kind: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal("0")] * 4)
    for p in payments:
        totals = by_kind[p.sick_leave.kind]
        totals[0] += p.gross
        totals[1] += p.social_levies
        totals[2] += p.net
        totals[3] += taxable_amount(p)
    rows = [
        [LEAVE_KINDS.get(kind, kind), *(format_euros(v) for v in totals)]
        for kind, totals in sorted(by_kind.items())
    ]
    sums = [sum((t[i] for t in by_kind.values()), Decimal("0")) for i in range(4)]
    table = Table(
        headers=["Nature", "Brut", "CSG-CRDS", "Net payé", "Montant imposable"],
        rows=rows,
        widths=[3, 2, 2, 2, 2.4],
        numeric=frozenset({1, 2, 3, 4}),
        total=["Total", *(format_euros(v) for v in sums)],
    )
    notes = [
        "Montant imposable : indemnités brutes diminuées de la CSG déductible (3,8 %) ; "
        "les indemnités d'accident du travail sont imposables pour la moitié de leur montant. "
        "Ce montant est en principe déjà prérempli dans votre déclaration de revenus.",
    ]
    if not payments:
        notes.insert(0, f"Aucune indemnité journalière n'a été payée en {year}.")
    return _page(
        f"Relevé fiscal des indemnités journalières {year}",
        f"Indemnités journalières payées du 01/01/{year} au 31/12/{year}, à déclarer avec vos "
        f"revenus de {year}. Délivré le {format_date(stamp.issued_on)}.",
        stamp,
        sections=[
            (
                "Bénéficiaire des indemnités",
                [
                    ("Nom et prénoms", full_name(member)),
                    ("Né(e) le", format_date(member.birth_date)),
                    ("Numéro de sécurité sociale", _nir(member.nir)),
                ],
            )
        ],
        table=table,
        notes=notes,
    )


def ehic_provisional_page(
    *, member: Member, person: Member | Beneficiary, valid_until: dt.date, stamp: Stamp
) -> Page:
    family = person.family_name if isinstance(person, Member) else person.birth_name
    nir = person.nir or member.nir
    return _page(
        "Certificat provisoire de remplacement de la carte européenne d'assurance maladie",
        "Ce certificat remplace la carte européenne d'assurance maladie pendant sa période de "
        "validité, dans les États de l'Union européenne, de l'Espace économique européen, "
        "en Suisse et au Royaume-Uni.",
        stamp,
        sections=[
            (
                "Titulaire",
                [
                    ("3. Nom", family.upper()),
                    ("4. Prénoms", person.given_names),
                    ("5. Date de naissance", format_date(person.birth_date)),
                    ("6. Numéro d'identification personnel", _nir(nir)),
                ],
            ),
            (
                "Institution compétente",
                [
                    ("7. Numéro d'identification", settings.ASSURE_FUND_INSTITUTION_ID),
                    ("8. Numéro d'identification de la carte", stamp.reference),
                    ("9. Date d'expiration", format_date(valid_until)),
                ],
            ),
            (
                "Période de validité du certificat",
                [
                    ("a) Du", format_date(stamp.issued_on)),
                    ("b) Au", format_date(valid_until)),
                    ("c) Date de délivrance", format_date(stamp.issued_on)),
                ],
            ),
        ],
        notes=[
            "Présentez ce certificat avec une pièce d'identité au professionnel de santé. "
            f"Assuré(e) ouvrant droit : {full_name(member)}, "
            f"numéro {mask_nir(member.nir)}.",
        ],
    )
