"""Every rule of FEEDS.md's members table, one row each: what is refused, and with which code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from assure.members.feed import MemberLine, member_line_parse
from assure.members.nir import with_key
from tests.members.lines import member_line

DELETE = object()


def changed(path: str, value: Any) -> dict[str, Any]:
    """A valid line with one field (dotted path, list indexes as numbers) set or removed."""
    line = member_line()
    *parents, last = path.split(".")
    target: Any = line
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is DELETE:
        del target[last]
    else:
        target[last] = value
    return line


def errors_of(line: dict[str, Any]) -> dict[str, list[str]]:
    result = member_line_parse(line)
    assert not isinstance(result, MemberLine), "the line was accepted"
    return result


def accepted(line: dict[str, Any]) -> MemberLine:
    result = member_line_parse(line)
    assert isinstance(result, MemberLine), f"refused: {result}"
    return result


REFUSED = [
    # path, value, field reported, code
    ("external_id", DELETE, "external_id", "required"),
    ("external_id", "  ", "external_id", "required"),
    ("external_id", 42, "external_id", "invalid_type"),
    ("external_id", "X" * 65, "external_id", "too_long"),
    ("external_id", "M\x001", "external_id", "invalid_characters"),
    ("nir", DELETE, "nir", "required"),
    ("nir", None, "nir", "required"),
    ("nir", "185057511400", "nir", "invalid_nir"),  # too short
    ("nir", with_key("1850575114001")[:-2] + "00", "nir", "invalid_nir"),  # wrong key
    ("nir", "1850575X1400199", "nir", "invalid_nir"),  # a letter outside 2A/2B
    ("nir", "185052C00400199", "nir", "invalid_nir"),  # 2C is not Corsica
    ("nir", with_key("5850575114001"), "nir", "invalid_nir"),  # no such sex digit
    ("nir", 185057511400101, "nir", "invalid_type"),
    ("birth_name", DELETE, "birth_name", "required"),
    ("birth_name", "", "birth_name", "required"),
    ("birth_name", "A" * 101, "birth_name", "too_long"),
    ("usual_name", ["MARTIN"], "usual_name", "invalid_type"),
    ("given_names", DELETE, "given_names", "required"),
    ("sex", DELETE, "sex", "required"),
    ("sex", "X", "sex", "invalid_choice"),
    ("sex", "f", "sex", "invalid_choice"),
    ("birth_date", DELETE, "birth_date", "required"),
    ("birth_date", "14/05/1985", "birth_date", "invalid_date"),
    ("birth_date", "1985-02-30", "birth_date", "invalid_date"),
    ("birth_date", "19850514", "birth_date", "invalid_date"),
    ("birth_date", "2030-01-01", "birth_date", "future_date"),
    ("birth_place_insee", "7511", "birth_place_insee", "invalid_insee"),
    ("birth_place_insee", "2C004", "birth_place_insee", "invalid_insee"),
    ("birth_country_insee", "100", "birth_country_insee", "invalid_insee"),
    ("birth_country_insee", "98100", "birth_country_insee", "invalid_insee"),
    ("vitale_serial", "12AB", "vitale_serial", "invalid_vitale_serial"),
    ("email", "not-an-address", "email", "invalid_email"),
    ("email", "a@b", "email", "invalid_email"),
    ("phone", "12345", "phone", "invalid_phone"),
    ("phone", "+33 6 12", "phone", "invalid_phone"),
    ("phone", "00 33 6 12 34 56 78", "phone", "invalid_phone"),
    ("address", DELETE, "address", "required"),
    ("address", "12 rue des Lilas", "address", "invalid_type"),
    ("address.line1", DELETE, "address.line1", "required"),
    ("address.postal_code", DELETE, "address.postal_code", "required"),
    ("address.postal_code", "7501", "address.postal_code", "invalid_postal_code"),
    ("address.city", "", "address.city", "required"),
    ("address.country", "FRA", "address.country", "too_long"),
    ("address.country", "XX", "address.country", "invalid_country"),
    ("bank_account", "FR76...", "bank_account", "invalid_type"),
    ("bank_account.iban", DELETE, "bank_account.iban", "required"),
    ("bank_account.iban", "FR7630006000011234567890188", "bank_account.iban", "invalid_iban"),
    ("bank_account.iban", "FR76", "bank_account.iban", "invalid_iban"),
    ("bank_account.bic", "AGRI", "bank_account.bic", "invalid_bic"),
    ("coverage", DELETE, "coverage", "required"),
    ("coverage.start", DELETE, "coverage.start", "required"),
    ("coverage.start", "2010-13-01", "coverage.start", "invalid_date"),
    ("coverage.end", "2009-12-31", "coverage.end", "end_before_start"),
    ("coverage.exemptions", {"kind": "ald"}, "coverage.exemptions", "invalid_type"),
    ("coverage.exemptions.0", "ald", "coverage.exemptions.0", "invalid_type"),
    ("coverage.exemptions.0.kind", "cmu", "coverage.exemptions.0.kind", "invalid_choice"),
    ("coverage.exemptions.0.kind", DELETE, "coverage.exemptions.0.kind", "required"),
    ("coverage.exemptions.0.start", DELETE, "coverage.exemptions.0.start", "required"),
    ("coverage.exemptions.0.end", "2019-01-01", "coverage.exemptions.0.end", "end_before_start"),
    ("complementary", "MV", "complementary", "invalid_type"),
    ("complementary.contract", "C" * 65, "complementary.contract", "too_long"),
    ("beneficiaries", {}, "beneficiaries", "invalid_type"),
    ("beneficiaries.0", "B0001", "beneficiaries.0", "invalid_type"),
    ("beneficiaries.0.external_id", DELETE, "beneficiaries.0.external_id", "required"),
    ("beneficiaries.0.nir", "123", "beneficiaries.0.nir", "invalid_nir"),
    ("beneficiaries.0.birth_name", DELETE, "beneficiaries.0.birth_name", "required"),
    ("beneficiaries.0.given_names", DELETE, "beneficiaries.0.given_names", "required"),
    ("beneficiaries.0.sex", "U", "beneficiaries.0.sex", "invalid_choice"),
    ("beneficiaries.0.birth_date", "2099-01-01", "beneficiaries.0.birth_date", "future_date"),
    ("beneficiaries.0.birth_date", DELETE, "beneficiaries.0.birth_date", "required"),
    ("beneficiaries.0.relation", "cousin", "beneficiaries.0.relation", "invalid_choice"),
    ("beneficiaries.0.relation", DELETE, "beneficiaries.0.relation", "required"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "code"),
    REFUSED,
    ids=[f"{path}={'<deleted>' if v is DELETE else v!r}" for path, v, _f, _c in REFUSED],
)
def test_a_wrong_field_rejects_the_line_with_its_code(path, value, field, code):
    assert errors_of(changed(path, value)) == {field: [code]}


def test_every_wrong_field_is_reported_at_once():
    line = member_line(nir="123", sex="X", birth_date="yesterday")
    assert errors_of(line) == {
        "nir": ["invalid_nir"],
        "sex": ["invalid_choice"],
        "birth_date": ["invalid_date"],
    }


def test_two_beneficiaries_with_one_external_id_reject_the_line():
    line = member_line()
    line["beneficiaries"].append(dict(line["beneficiaries"][0], given_names="Hugo"))
    assert errors_of(line) == {"beneficiaries.1.external_id": ["duplicate_external_id"]}


def test_birth_date_today_is_accepted_but_tomorrow_is_refused():
    with time_machine.travel(dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC), tick=False):
        assert accepted(changed("birth_date", "2026-11-26"))
        assert errors_of(changed("birth_date", "2026-11-27")) == {"birth_date": ["future_date"]}


ACCEPTED = [
    # path, value, model field, stored value
    (
        "nir",
        "2 85 05 75 114 001 " + with_key("2850575114001")[-2:],
        "nir",
        with_key("2850575114001"),
    ),
    ("nir", with_key("185052A004123"), "nir", with_key("185052A004123")),  # Ajaccio
    ("nir", with_key("185052B033123").lower(), "nir", with_key("185052B033123")),  # Bastia
    ("nir", with_key("1850597411123"), "nir", with_key("1850597411123")),  # La Réunion
    ("nir", with_key("1850599350123"), "nir", with_key("1850599350123")),  # born in Morocco
    ("nir", with_key("7850599155123"), "nir", with_key("7850599155123")),  # temporary
    ("birth_place_insee", "2a004", "birth_place_insee", "2A004"),
    ("birth_place_insee", None, "birth_place_insee", None),
    ("birth_name", "N'DIAYE", "birth_name", "N'DIAYE"),
    ("given_names", "E\u0301loi\u0308se", "given_names", "Éloïse"),  # decomposed → NFC
    ("birth_name", "  D'ALMEIDA  ", "birth_name", "D'ALMEIDA"),
    ("usual_name", "", "usual_name", None),
    ("email", None, "email", None),
    ("phone", "+262 692 33 44 55", "phone", "+262692334455"),
    ("phone", "01.23.45.67.89", "phone", "0123456789"),
    ("phone", None, "phone", None),
    ("address.country", DELETE, "country", "FR"),
    ("address.country", "be", "country", "BE"),
    ("address.postal_code", "75 014", "postal_code", "75014"),
    ("bank_account", None, "iban", None),
    (
        "bank_account.iban",
        "fr76 3000 6000 0112 3456 7890 189",
        "iban",
        "FR7630006000011234567890189",
    ),
    ("bank_account.bic", None, "bic", None),
    ("coverage.exemptions", None, "exemptions", []),
    ("complementary", None, "complementary_name", None),
    ("vitale_serial", None, "vitale_serial", None),
]


@pytest.mark.parametrize(("path", "value", "field", "stored"), ACCEPTED)
def test_accepted_values_are_normalised(path, value, field, stored):
    assert accepted(changed(path, value)).member[field] == stored


@pytest.mark.parametrize("kind", ["ald", "maternity", "css", "ame"])
def test_each_exemption_kind_is_accepted(kind):
    record = accepted(changed("coverage.exemptions.0.kind", kind))
    assert record.member["exemptions"] == [{"kind": kind, "start": "2019-04-01", "end": None}]


def test_unknown_fields_are_ignored_and_do_not_change_the_digest():
    plain = accepted(member_line())
    extra = accepted(
        member_line(favourite_colour="blue", address={**member_line()["address"], "floor": 3})
    )
    assert extra == plain


def test_the_digest_follows_the_normalised_values():
    spaced = accepted(member_line(nir=" ".join(member_line()["nir"])))
    assert spaced.digest == accepted(member_line()).digest
    assert accepted(member_line(city="LYON")).digest == accepted(member_line()).digest
    assert accepted(changed("address.city", "LYON")).digest != accepted(member_line()).digest


def test_beneficiaries_may_be_absent():
    line = member_line()
    del line["beneficiaries"]
    assert accepted(line).beneficiaries == []
