"""Write a realistic members register as a members feed (FEEDS.md), streaming to disk.

    python bench/generate.py --members 100000 --out var/bench/members-100000.jsonl

Deterministic: the same --members and --seed give the same file, byte for byte. NIRs carry valid
keys (Corsica's 2A/2B, overseas departments and births abroad included) and are unique; IBANs are
French, with valid RIB and IBAN keys; about 40% of members cover beneficiaries.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import random
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TextIO

GIVEN_F = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Emma",
    "Louise",
    "Jade",
    "Zoé",
    "Anaïs",
    "Hélène",
    "Éloïse",
    "Maëlys",
    "Océane",
    "Awa",
    "Fatou",
    "Nathalie",
    "Sophie",
    "Isabelle",
    "Marie-Claire",
    "Josiane",
    "Yasmine",
    "Lina",
    "Nadia",
    "Françoise",
    "Brigitte",
    "Annick",
]
GIVEN_M = [
    "Lucas",
    "Hugo",
    "Louis",
    "Jules",
    "Gabriel",
    "Arthur",
    "Théo",
    "Nathan",
    "Kévin",
    "Loïc",
    "Rémi",
    "François",
    "Jean-Baptiste",
    "Mohamed",
    "Moussa",
    "Julien",
    "Thierry",
    "Philippe",
    "Antoine",
    "Yannick",
    "Oleksandr",
    "Noah",
    "Paul",
    "Mathis",
    "Éric",
    "Jérôme",
    "Amine",
]
FAMILY = [
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "THOMAS",
    "ROBERT",
    "RICHARD",
    "PETIT",
    "DURAND",
    "LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFÈVRE",
    "MICHEL",
    "GARCIA",
    "DAVID",
    "BERTRAND",
    "ROUX",
    "VINCENT",
    "FOURNIER",
    "MOREL",
    "GIRARD",
    "ANDRÉ",
    "MERCIER",
    "N'DIAYE",
    "D'ALMEIDA",
    "CASANOVA",
    "SANTONI",
    "PAYET",
    "HOARAU",
    "LE GOFF",
    "GUÉGUEN",
    "BENALI",
    "DIALLO",
    "KOVALENKO",
    "D'ORNANO",
    "JEAN-BAPTISTE",
    "LOUIS-JOSEPH",
    "NGUYEN",
    "DA SILVA",
    "ÉTIENNE",
]
# (INSEE commune, postal code, city) — mainland, Corsica and overseas.
PLACES = [
    ("75114", "75014", "PARIS"),
    ("75111", "75011", "PARIS"),
    ("69383", "69003", "LYON"),
    ("13203", "13003", "MARSEILLE"),
    ("31555", "31000", "TOULOUSE"),
    ("06088", "06000", "NICE"),
    ("44109", "44000", "NANTES"),
    ("67482", "67000", "STRASBOURG"),
    ("34172", "34000", "MONTPELLIER"),
    ("33063", "33000", "BORDEAUX"),
    ("59350", "59000", "LILLE"),
    ("35238", "35000", "RENNES"),
    ("21231", "21000", "DIJON"),
    ("38185", "38000", "GRENOBLE"),
    ("76540", "76000", "ROUEN"),
    ("29019", "29200", "BREST"),
    ("63113", "63000", "CLERMONT-FERRAND"),
    ("2A004", "20000", "AJACCIO"),
    ("2B033", "20200", "BASTIA"),
    ("97411", "97400", "SAINT-DENIS"),
    ("97416", "97410", "SAINT-PIERRE"),
    ("97120", "97110", "POINTE-À-PITRE"),
    ("97209", "97200", "FORT-DE-FRANCE"),
    ("97302", "97300", "CAYENNE"),
    ("93066", "93200", "SAINT-DENIS"),
]
# INSEE country codes of births abroad.
ABROAD = ["99350", "99352", "99341", "99139", "99155", "99335", "99109", "99134", "99127"]
STREETS = [
    "rue des Lilas",
    "avenue Jean Jaurès",
    "boulevard Victor Hugo",
    "rue de la République",
    "place de l'Église",
    "chemin des Vignes",
    "rue Pasteur",
    "allée des Tilleuls",
    "impasse du Moulin",
    "cours Napoléon",
    "rue du Général de Gaulle",
    "quai des Bateliers",
]
BANKS = [
    ("30004", "BNPAFRPP"),
    ("30003", "SOGEFRPP"),
    ("20041", "PSSTFRPPPAR"),
    ("10278", "CMCIFR2A"),
    ("18206", "AGRIFRPP882"),
    ("17515", "CEPAFRPP751"),
]
EXEMPTIONS = ["ald", "css", "maternity", "ame"]
# Letters to numbers for the IBAN key: F=15, R=27, then "00".
_FR00 = "152700"


def nir_key(nir13: str) -> str:
    number = nir13.replace("2A", "19").replace("2B", "18") if nir13[5:7] in ("2A", "2B") else nir13
    return f"{97 - int(number) % 97:02d}"


def iban(bank: str, branch: str, account: str) -> str:
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    return f"FR{98 - int(bban + _FR00) % 97:02d}{bban}"


class Register:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.orders: dict[str, int] = {}

    def nir(self, sex: str, born: str, place: str, temporary: bool = False) -> str:
        first = ("7" if sex == "M" else "8") if temporary else ("1" if sex == "M" else "2")
        while True:
            prefix = f"{first}{born[2:4]}{born[5:7]}{place}"
            order = self.orders.get(prefix, 0) + 1
            if order < 1000:
                self.orders[prefix] = order
                nir13 = f"{prefix}{order:03d}"
                return nir13 + nir_key(nir13)
            place = self.rng.choice(PLACES)[0]  # this commune's month is full: another one

    def date(self, start_year: int, end_year: int) -> str:
        rng = self.rng
        return (
            f"{rng.randint(start_year, end_year)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        )

    def person(self, sex: str) -> str:
        return self.rng.choice(GIVEN_F if sex == "F" else GIVEN_M)

    def member(self, n: int) -> dict[str, Any]:
        rng = self.rng
        sex = rng.choice("FM")
        born = self.date(1940, 2006)
        abroad = rng.random() < 0.08
        place, _postal_code, _city = rng.choice(PLACES)
        birth_place = None if abroad else place
        country = rng.choice(ABROAD) if abroad else "99100"
        temporary = rng.random() < 0.005
        family = rng.choice(FAMILY)
        given = self.person(sex)
        if rng.random() < 0.3:
            given = f"{given} {self.person(sex)}"
        _home, home_postal, home_city = rng.choice(PLACES)
        bank, bic = rng.choice(BANKS)
        has_bank = rng.random() < 0.95
        external_id = f"M{n:09d}"
        beneficiaries = []
        if rng.random() < 0.4:
            if rng.random() < 0.5:
                other = "M" if sex == "F" else "F"
                beneficiaries.append(
                    {
                        "external_id": f"{external_id}-S",
                        "nir": self.nir(other, b := self.date(1940, 2006), place),
                        "birth_name": rng.choice(FAMILY),
                        "given_names": self.person(other),
                        "sex": other,
                        "birth_date": b,
                        "relation": "spouse",
                    }
                )
            for k in range(rng.randint(0 if beneficiaries else 1, 3)):
                child_sex = rng.choice("FM")
                beneficiaries.append(
                    {
                        "external_id": f"{external_id}-C{k + 1}",
                        "nir": None,
                        "birth_name": family,
                        "given_names": self.person(child_sex),
                        "sex": child_sex,
                        "birth_date": self.date(2008, 2025),
                        "relation": "child",
                    }
                )
        exemptions = []
        if rng.random() < 0.12:
            exemptions.append(
                {"kind": rng.choice(EXEMPTIONS), "start": self.date(2010, 2025), "end": None}
            )
        phone = (
            f"0{rng.choice('67')} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d} "
            f"{rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
        )
        return {
            "external_id": external_id,
            "nir": self.nir(sex, born, birth_place or country, temporary),
            "birth_name": family,
            "usual_name": rng.choice(FAMILY) if sex == "F" and rng.random() < 0.3 else None,
            "given_names": given,
            "sex": sex,
            "birth_date": born,
            "birth_place_insee": birth_place,
            "birth_country_insee": country,
            "vitale_serial": f"{rng.randint(10**9, 10**10 - 1)}",
            "email": f"membre{n}@example.org" if rng.random() < 0.8 else None,
            "phone": phone if rng.random() < 0.85 else None,
            "address": {
                "line1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                "line2": None,
                "postal_code": home_postal,
                "city": home_city,
                "country": "FR",
            },
            "bank_account": (
                {
                    "iban": iban(
                        bank, f"{rng.randint(0, 99999):05d}", f"{rng.randint(0, 10**11 - 1):011d}"
                    ),
                    "bic": bic,
                    "holder": f"{given.split()[0]} {family}",
                }
                if has_bank
                else None
            ),
            "coverage": {"start": max(born, "2000-01-01"), "end": None, "exemptions": exemptions},
            "complementary": (
                {"name": "Mutuelle des Volcans", "contract": f"MV-{n:09d}"}
                if rng.random() < 0.6
                else None
            ),
            "beneficiaries": beneficiaries,
        }


# Statements end a week before this day, so that they are never "in the future" for the feed.
STATEMENTS_UNTIL = dt.date(2026, 11, 20)
# (category, act code, label, base, rate, flat fee, deductible per unit, most units)
ACTS = [
    ("consultation", "G", "Consultation chez le médecin généraliste", "30.00", 70, "2.00", "0", 1),
    ("consultation", "CS", "Consultation chez le pédiatre", "35.00", 70, "2.00", "0", 1),
    ("pharmacy", "PHARMA", "Médicaments", "18.40", 65, "0.00", "1", 4),
    ("paramedical", "AMK", "Séance de kinésithérapie", "17.50", 60, "0.00", "1", 1),
    ("laboratory", "B", "Analyses de biologie médicale", "28.35", 60, "2.00", "0", 1),
    ("dental", "SC12", "Soins dentaires", "43.38", 60, "2.00", "0", 1),
    ("transport", "TAX", "Transport en taxi conventionné", "62.00", 65, "0.00", "4", 1),
    ("hospital", "GHS", "Séjour hospitalier", "1250.00", 80, "0.00", "0", 1),
]


def statement_lines(member: dict[str, Any], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` statement lines (FEEDS.md) for one member, over the last 27 months, adding up."""
    people = [None] + [b["external_id"] for b in member["beneficiaries"]]
    lines = []
    for k in range(count):
        category, code, label, base, rate, flat_fee, unit, most = rng.choice(ACTS)
        units = rng.randint(1, most)
        deductible = Decimal(unit) * units
        covered = (Decimal(base) * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        reimbursed = max(Decimal(0), covered - Decimal(flat_fee) - deductible)
        day = 1 + (k * 821 + rng.randint(0, 40)) % 820  # spread over the last 27 months
        status = "paid" if day > 8 else rng.choice(["received", "processing"])
        care = STATEMENTS_UNTIL - dt.timedelta(days=day)
        lines.append(
            {
                "external_id": f"{member['external_id']}-S{k:03d}",
                "member_nir": member["nir"],
                "beneficiary_external_id": rng.choice(people),
                "status": status,
                "care_date": care.isoformat(),
                "received_on": (care + dt.timedelta(days=1)).isoformat(),
                "paid_on": (care + dt.timedelta(days=6)).isoformat() if status == "paid" else None,
                "category": category,
                "act_code": code,
                "label": label,
                "provider": "Dr Martin" if category == "consultation" else None,
                "amount_charged": base,
                "base_amount": base,
                "rate": rate,
                "reimbursed": f"{reimbursed:.2f}",
                "flat_fee": flat_fee,
                "deductible": f"{deductible:.2f}",
                "paid_to": rng.choice(["member", "member", "provider"]),
                "complementary_forwarded": member["complementary"] is not None,
                "payment_reference": f"VIR-{member['external_id']}-{day // 7}"
                if status == "paid"
                else None,
                "rejection_reason": None,
            }
        )
    return lines


def generate(
    members: int,
    out: TextIO,
    seed: int = 20261126,
    *,
    statements_per_member: int = 0,
    statements_out: TextIO | None = None,
) -> None:
    register = Register(seed)
    # A generator of its own, so that the members file stays the same with or without statements.
    payments_rng = random.Random(seed + 1)
    write = out.write
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for n in range(1, members + 1):
        member = register.member(n)
        write(dumps(member))
        write("\n")
        if statements_out is not None and statements_per_member:
            for line in statement_lines(member, statements_per_member, payments_rng):
                statements_out.write(dumps(line))
                statements_out.write("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--statements-per-member", type=int, default=0, help="statement lines for each member"
    )
    parser.add_argument("--statements-out", type=Path, help="statements feed file to write")
    args = parser.parse_args(argv)
    if args.out is None:
        generate(args.members, sys.stdout, args.seed)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as files:
        out = files.enter_context(args.out.open("w", encoding="utf-8", buffering=1024 * 1024))
        statements = None
        if args.statements_per_member:
            path = args.statements_out or args.out.with_name(f"statements-{args.out.name}")
            statements = files.enter_context(
                path.open("w", encoding="utf-8", buffering=1024 * 1024)
            )
        generate(
            args.members,
            out,
            args.seed,
            statements_per_member=args.statements_per_member,
            statements_out=statements,
        )


if __name__ == "__main__":
    main()
