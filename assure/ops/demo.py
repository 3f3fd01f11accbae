"""Demo data: a believable register, loaded through the real members feed.

`assure demo-data` runs each step of `DEMO_STEPS` in order and prints the lines they return, so that
a person trying the demo sees at the end what to log in with. A step is a callable taking `load`:
True to load its data, False when the data is already there (`--if-empty` on a filled database), in
which case it only returns what a person needs to know (logins). Other areas add their steps (demo
accounts, payments, an advisor) by appending to `DEMO_STEPS` here; the register is the first.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable
from typing import Any

from stdnum import iban as stdnum_iban

from assure.core.feeds import feed_get, feed_load
from assure.core.models import FeedRun
from assure.members.models import Member
from assure.members.nir import with_key

DemoStep = Callable[[bool], list[str]]

# (given names, birth name, usual name, sex, birth date, place: INSEE commune, or None and an INSEE
#  country code when born abroad, address (line1, postal code, city), bank (code, BIC), extras)
_PEOPLE: list[dict[str, Any]] = [
    {
        "given": "Camille Marie",
        "birth": "MARTIN",
        "sex": "F",
        "born": "1985-05-14",
        "place": "75114",
        "address": ("12 rue des Lilas", "75014", "Paris"),
        "bank": ("30004", "BNPAFRPP"),
        "phone": "06 12 34 56 78",
        "children": [("Léa", "F", "2015-03-02"), ("Hugo", "M", "2018-09-21")],
    },
    {
        "given": "Jean-Baptiste",
        "birth": "CASANOVA",
        "sex": "M",
        "born": "1972-11-03",
        "place": "2A004",
        "address": ("8 cours Napoléon", "20000", "Ajaccio"),
        "bank": ("20041", "PSSTFRPPPAR"),
        "phone": "+33495214365",
        "spouse": ("Marie-Ange", "F", "1975-02-17", "PIETRI"),
    },
    {
        "given": "Marie-Dominique",
        "birth": "SANTONI",
        "sex": "F",
        "born": "1968-06-30",
        "place": "2B033",
        "address": ("3 boulevard Paoli", "20200", "Bastia"),
        "bank": ("18206", "AGRIFRPP882"),
        "exemptions": [("ald", "2019-04-01", None)],
    },
    {
        "given": "Awa",
        "birth": "N'DIAYE",
        "sex": "F",
        "born": "1990-01-25",
        "country": "99341",
        "address": ("27 rue Gabriel Péri", "93200", "Saint-Denis"),
        "bank": ("30003", "SOGEFRPP"),
        "exemptions": [("css", "2026-01-01", "2026-12-31")],
        "children": [("Moussa", "M", "2016-07-11"), ("Aminata", "F", "2020-12-05")],
    },
    {
        "given": "Éloïse",
        "birth": "D'ALMEIDA",
        "sex": "F",
        "born": "1995-08-19",
        "country": "99139",
        "address": ("41 rue Paul Bert", "69003", "Lyon"),
        "bank": ("10278", "CMCIFR2A"),
        "phone": "07 81 22 45 10",
    },
    {
        "given": "Kévin",
        "birth": "PAYET",
        "sex": "M",
        "born": "1988-03-12",
        "place": "97411",
        "address": ("15 rue de Paris", "97400", "Saint-Denis"),
        "bank": ("17515", "CEPAFRPP751"),
        "phone": "+262692334455",
        "children": [("Noah", "M", "2019-02-14")],
    },
    {
        "given": "Josiane",
        "birth": "JEAN-BAPTISTE",
        "sex": "F",
        "born": "1963-10-08",
        "place": "97120",
        "address": ("Résidence Les Flamboyants, bât. C", "97110", "Pointe-à-Pitre"),
        "bank": ("30004", "BNPAFRPP"),
        "phone": "+590690112233",
        "exemptions": [("ald", "2021-09-15", None)],
    },
    {
        "given": "François",
        "birth": "LE GOFF",
        "sex": "M",
        "born": "1955-12-01",
        "place": "29019",
        "address": ("5 rue de Siam", "29200", "Brest"),
        "bank": ("18206", "AGRIFRPP882"),
        "spouse": ("Annick", "F", "1957-04-22", "KERMARREC"),
    },
    {
        "given": "Hélène",
        "birth": "ROUX",
        "usual": "FABRE",
        "sex": "F",
        "born": "1979-07-07",
        "place": "34172",
        "address": ("22 avenue de Lodève", "34070", "Montpellier"),
        "bank": ("30003", "SOGEFRPP"),
        "spouse": ("Olivier", "M", "1977-01-30", "FABRE"),
        "children": [("Lucie", "F", "2010-05-28")],
    },
    {
        "given": "Mohamed Amine",
        "birth": "BENALI",
        "sex": "M",
        "born": "1982-02-14",
        "country": "99352",
        "address": ("9 boulevard National", "13003", "Marseille"),
        "bank": ("20041", "PSSTFRPPPAR"),
        "children": [("Yasmine", "F", "2012-10-10")],
    },
    {
        "given": "Anaïs",
        "birth": "LEFÈVRE",
        "sex": "F",
        "born": "2001-04-03",
        "place": "59350",
        "address": ("60 rue Solférino", "59000", "Lille"),
        "bank": ("30004", "BNPAFRPP"),
    },
    {
        "given": "Oleksandr",
        "birth": "KOVALENKO",
        "sex": "M",
        "born": "1991-09-09",
        "country": "99155",
        "temporary": True,
        "address": ("2 impasse des Tilleuls", "31500", "Toulouse"),
        "bank": ("10278", "CMCIFR2A"),
    },
    {
        "given": "Inès",
        "birth": "MOREAU",
        "sex": "F",
        "born": "1993-06-16",
        "place": "35238",
        "address": ("14 rue de Saint-Malo", "35000", "Rennes"),
        "bank": ("17515", "CEPAFRPP751"),
        "exemptions": [("maternity", "2026-06-01", "2026-12-20")],
    },
    {
        "given": "Philippe",
        "birth": "ROUSSEAU",
        "sex": "M",
        "born": "1960-02-29",
        "place": "33063",
        "address": ("31 cours de l'Intendance", "33000", "Bordeaux"),
        "bank": ("30003", "SOGEFRPP"),
        "exemptions": [("ald", "2015-03-01", None)],
        "spouse": ("Brigitte", "F", "1962-08-12", "ROUSSEAU"),
    },
    {
        "given": "Chloé",
        "birth": "BERNARD",
        "sex": "F",
        "born": "1987-11-23",
        "place": "67482",
        "address": ("7 quai des Bateliers", "67000", "Strasbourg"),
        "bank": ("30004", "BNPAFRPP"),
        "children": [("Jules", "M", "2021-01-19")],
    },
    {
        "given": "Loïc",
        "birth": "GUÉGUEN",
        "sex": "M",
        "born": "1983-05-05",
        "place": "29232",
        "address": ("18 rue Kéréon", "29000", "Quimper"),
        "bank": ("18206", "AGRIFRPP882"),
    },
    {
        "given": "Maëlys",
        "birth": "HOARAU",
        "sex": "F",
        "born": "1998-12-24",
        "place": "97416",
        "address": ("4 rue des Bons Enfants", "97410", "Saint-Pierre"),
        "bank": ("20041", "PSSTFRPPPAR"),
        "phone": "+262693445566",
    },
    {
        "given": "Yannick",
        "birth": "D'ORNANO",
        "sex": "M",
        "born": "1970-04-18",
        "place": "2A004",
        "address": ("1 rue Fesch", "20000", "Ajaccio"),
        "bank": ("30003", "SOGEFRPP"),
        "children": [("Paul", "M", "2009-06-02"), ("Carla", "F", "2011-03-27")],
    },
    {
        "given": "Fatou",
        "birth": "DIALLO",
        "sex": "F",
        "born": "1986-10-02",
        "country": "99335",
        "address": ("33 rue de Paris", "93100", "Montreuil"),
        "bank": None,
        "exemptions": [("ame", "2026-03-01", "2027-02-28")],
    },
    {
        "given": "Julien",
        "birth": "PETIT",
        "sex": "M",
        "born": "1992-07-21",
        "place": "06088",
        "address": ("10 avenue Jean Médecin", "06000", "Nice"),
        "bank": ("10278", "CMCIFR2A"),
    },
    {
        "given": "Sophie",
        "birth": "LAURENT",
        "sex": "F",
        "born": "1976-01-11",
        "place": "21231",
        "address": ("26 rue des Forges", "21000", "Dijon"),
        "bank": ("17515", "CEPAFRPP751"),
        "children": [("Emma", "F", "2008-11-30")],
    },
    {
        "given": "Thierry",
        "birth": "LOUIS-JOSEPH",
        "sex": "M",
        "born": "1965-09-14",
        "place": "97209",
        "address": ("12 rue Victor Hugo", "97200", "Fort-de-France"),
        "bank": ("30004", "BNPAFRPP"),
        "phone": "+596696778899",
    },
    {
        "given": "Manon",
        "birth": "GIRARD",
        "sex": "F",
        "born": "2003-03-08",
        "place": "38185",
        "address": ("5 place Grenette", "38000", "Grenoble"),
        "bank": ("20041", "PSSTFRPPPAR"),
    },
    {
        "given": "Antoine",
        "birth": "MERCIER",
        "sex": "M",
        "born": "1958-08-08",
        "place": "76540",
        "address": ("44 rue du Gros-Horloge", "76000", "Rouen"),
        "bank": ("18206", "AGRIFRPP882"),
        "exemptions": [("ald", "2020-11-01", None)],
        "spouse": ("Martine", "F", "1960-05-15", "LECLERC"),
    },
    {
        "given": "Océane",
        "birth": "ÉTIENNE",
        "sex": "F",
        "born": "1997-02-03",
        "place": "63113",
        "address": ("3 rue du Port", "63000", "Clermont-Ferrand"),
        "bank": ("30003", "SOGEFRPP"),
    },
]

_COMPLEMENTARY = [("Mutuelle des Volcans", "MV-"), ("Harmonie Santé Demo", "HSD-"), None]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def _iban(bank_code: str, n: int) -> str:
    branch = f"{(n * 7919) % 100000:05d}"
    account = f"{(n * 104729 + 1234567) % 10**11:011d}"
    # The French RIB key, so that the account is believable to a French bank's checks too.
    rib_key = 97 - (89 * int(bank_code) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank_code}{branch}{account}{rib_key:02d}"
    return f"FR{stdnum_iban.calc_check_digits('FR00' + bban)}{bban}"


def _nir(sex: str, born: str, place: str, order: int, *, temporary: bool = False) -> str:
    first = ("7" if sex == "M" else "8") if temporary else ("1" if sex == "M" else "2")
    return with_key(f"{first}{born[2:4]}{born[5:7]}{place}{order:03d}")


def demo_member_lines() -> list[str]:
    """The demo register as members feed lines (JSON), deterministic from one run to the next."""
    lines = []
    for n, person in enumerate(_PEOPLE, start=1):
        place = person.get("place")
        country = person.get("country", "99100")
        nir = _nir(
            person["sex"],
            person["born"],
            place or country,
            100 + n * 7,
            temporary=person.get("temporary", False),
        )
        family = person.get("usual") or person["birth"]
        email_name = f"{_ascii(person['given'].split()[0])}.{_ascii(family)}"
        line1, postal_code, city = person["address"]
        bank = person.get("bank")
        complementary = _COMPLEMENTARY[n % len(_COMPLEMENTARY)]
        beneficiaries = []
        for index, (given, sex, born) in enumerate(person.get("children", []), start=1):
            beneficiaries.append(
                {
                    "external_id": f"DEMO-{n:04d}-B{index}",
                    "nir": None,
                    "birth_name": family,
                    "given_names": given,
                    "sex": sex,
                    "birth_date": born,
                    "relation": "child",
                }
            )
        if "spouse" in person:
            given, sex, born, birth_name = person["spouse"]
            beneficiaries.append(
                {
                    "external_id": f"DEMO-{n:04d}-S",
                    "nir": _nir(sex, born, place or country, 300 + n),
                    "birth_name": birth_name,
                    "given_names": given,
                    "sex": sex,
                    "birth_date": born,
                    "relation": "spouse",
                }
            )
        line = {
            "external_id": f"DEMO-{n:04d}",
            "nir": nir,
            "birth_name": person["birth"],
            "usual_name": person.get("usual"),
            "given_names": person["given"],
            "sex": person["sex"],
            "birth_date": person["born"],
            "birth_place_insee": place,
            "birth_country_insee": country,
            "vitale_serial": f"{1000000000 + n * 1373:010d}",
            "email": f"{email_name}@example.org",
            "phone": person.get("phone", f"06 {10 + n:02d} {20 + n:02d} {30 + n:02d} {40 + n:02d}"),
            "address": {
                "line1": line1,
                "line2": None,
                "postal_code": postal_code,
                "city": city.upper(),
                "country": "FR",
            },
            "bank_account": (
                {
                    "iban": _iban(bank[0], n),
                    "bic": bank[1],
                    "holder": f"{person['given'].split()[0]} {family}",
                }
                if bank
                else None
            ),
            "coverage": {
                "start": max(person["born"], "2005-01-01"),
                "end": None,
                "exemptions": [
                    {"kind": kind, "start": start, "end": end}
                    for kind, start, end in person.get("exemptions", [])
                ],
            },
            "complementary": (
                {"name": complementary[0], "contract": f"{complementary[1]}{n * 4421:08d}"}
                if complementary
                else None
            ),
            "beneficiaries": beneficiaries,
        }
        lines.append(json.dumps(line, ensure_ascii=False))
    return lines


def demo_members(load: bool) -> list[str]:
    """First step: the register, sent through the members feed exactly as the fund would."""
    if not load:
        return [f"Register: {Member.objects.count()} members already loaded."]
    body = "\n".join(demo_member_lines()).encode()
    result, _run = feed_load(
        feed=feed_get("members"),
        stream=io.BytesIO(body),
        source=FeedRun.Source.CLI,
        actor="demo-data",
    )
    counts = result.counts
    return [
        f"Register: {counts['created']} members created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['rejected']} rejected."
    ]


DEMO_STEPS: list[DemoStep] = [demo_members]

from assure.identity.demo import demo_account  # noqa: E402 - each area's step, in order

DEMO_STEPS.append(demo_account)

from assure.payments.demo import demo_payments  # noqa: E402

DEMO_STEPS.append(demo_payments)

from assure.messaging.demo import demo_messaging  # noqa: E402

DEMO_STEPS.append(demo_messaging)

from assure.documents.demo import demo_documents  # noqa: E402

DEMO_STEPS.append(demo_documents)

from assure.backoffice.demo import demo_backoffice  # noqa: E402 - after messaging's advisor

DEMO_STEPS.append(demo_backoffice)
