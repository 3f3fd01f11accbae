"""Members feed lines for tests: valid by default, any field overridden by keyword."""

from __future__ import annotations

import copy
import json
from typing import Any

from assure.members.nir import with_key


def nir(n: int, *, sex: str = "1", place: str = "75114") -> str:
    """A valid NIR, distinct for each n below 1000 (born in May 1985 by default)."""
    return with_key(f"{sex}8505{place}{n % 1000:03d}")


BASE: dict[str, Any] = {
    "external_id": "M0001",
    "nir": nir(1),
    "birth_name": "MARTIN",
    "usual_name": None,
    "given_names": "Camille Marie",
    "sex": "F",
    "birth_date": "1985-05-14",
    "birth_place_insee": "75114",
    "birth_country_insee": "99100",
    "vitale_serial": "1234567890",
    "email": "camille.martin@example.org",
    "phone": "06 12 34 56 78",
    "address": {
        "line1": "12 rue des Lilas",
        "line2": None,
        "postal_code": "75014",
        "city": "PARIS",
        "country": "FR",
    },
    "bank_account": {
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "AGRIFRPP",
        "holder": "Camille Martin",
    },
    "coverage": {
        "start": "2010-01-01",
        "end": None,
        "exemptions": [{"kind": "ald", "start": "2019-04-01", "end": None}],
    },
    "complementary": {"name": "Mutuelle des Volcans", "contract": "MV-0042"},
    "beneficiaries": [
        {
            "external_id": "B0001",
            "nir": None,
            "birth_name": "MARTIN",
            "given_names": "Léa",
            "sex": "F",
            "birth_date": "2015-03-02",
            "relation": "child",
        }
    ],
}


def member_line(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """Line n: its own external id, NIR and beneficiary ids, then the overrides."""
    line = copy.deepcopy(BASE)
    line["external_id"] = f"M{n:04d}"
    line["nir"] = nir(n)
    for index, beneficiary in enumerate(line["beneficiaries"]):
        beneficiary["external_id"] = f"B{n:04d}-{index}"
    line.update(copy.deepcopy(overrides))
    return line


def jsonl(*lines: dict[str, Any] | str) -> bytes:
    return "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    ).encode()
