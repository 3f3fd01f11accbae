"""The members feed (FEEDS.md, "members"): one line per insured person and the people they cover.

`parse` checks every rule of the contract and gives the line's normalised form; `apply` hands a
batch to the register's service. The digest of the normalised form is kept on the member, so that a
daily re-run of an unchanged register costs one read per batch and no write.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from babel.core import get_global
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import nir as stdnum_nir

from assure.core.feeds import (
    ErrorCode,
    Feed,
    Fields,
    Outcome,
    ParsedLine,
    Reject,
    feed_today,
    readable_external_id,
)
from assure.core.models import FeedRun
from assure.core.services import Actor
from assure.members.bulk import register_store
from assure.members.models import Beneficiary, Member
from assure.members.nir import InvalidNir, normalize_nir
from assure.members.services import members_feed_apply

# Commune of birth: 5 characters, Corsica's 2A/2B included; born abroad is "99" and a country code.
INSEE_COMMUNE = re.compile(r"(?:\d{5}|2[AB]\d{3})")
INSEE_COUNTRY = re.compile(r"99\d{3}")
VITALE_SERIAL = re.compile(r"\d{1,32}")
FRENCH_POSTAL_CODE = re.compile(r"\d{5}")
# E.164: "+", a country code and at most 15 digits in all; French national: ten digits from "0".
E164 = re.compile(r"\+[1-9]\d{6,14}")
FRENCH_NATIONAL_PHONE = re.compile(r"0[1-9]\d{8}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# Sex digit of a NIR: 1 and 2, 3 and 4 for people registered from abroad, 7 and 8 temporary.
NIR_FIRST_DIGITS = frozenset("123478")

# ISO 3166 alpha-2 codes of real territories (Babel's list, without its groupings like "EU").
COUNTRIES = frozenset(
    code
    for code in get_global("territory_currencies")
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "ZZ", "QO"}
)

SEXES = [choice.value for choice in Member.Sex]
RELATIONS = [choice.value for choice in Beneficiary.Relation]
EXEMPTION_KINDS = ["ald", "maternity", "css", "ame"]


@dataclass(frozen=True)
class MemberLine:
    """A member line in its normalised form: the model's fields, and its beneficiaries."""

    member: dict[str, Any]
    beneficiaries: list[dict[str, Any]]
    digest: str


# A NIR already in the register's form (15 characters, Corsica's 2A/2B): python-stdnum would
# clean it character by character to find it unchanged; only its key is left to check.
_COMPACT_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}")


def nir_normalize(value: str) -> str:
    """What `normalize_nir(value)` returns, or its InvalidNir."""
    if _COMPACT_NIR.fullmatch(value):
        if stdnum_nir.calc_check_digits(value) != value[13:]:
            raise InvalidNir("checksum")
        return value
    return normalize_nir(value)


def _nir(fields: Fields, key: str, *, required: bool) -> str | None:
    value = fields.string(key, required=required, max_length=40)
    if value is None:
        return None
    try:
        nir = nir_normalize(value)
    except InvalidNir:
        fields.error(key, ErrorCode.INVALID_NIR)
        return None
    if nir[0] not in NIR_FIRST_DIGITS:
        fields.error(key, ErrorCode.INVALID_NIR)
        return None
    return nir


def _phone(fields: Fields, key: str) -> str | None:
    value = fields.string(key, max_length=32)
    if value is None:
        return None
    compact = _PHONE_SEPARATORS.sub("", value)
    if E164.fullmatch(compact) or FRENCH_NATIONAL_PHONE.fullmatch(compact):
        return compact
    fields.error(key, ErrorCode.INVALID_PHONE)
    return None


def _email(fields: Fields, key: str) -> str | None:
    value = fields.string(key, max_length=254)
    if value is None:
        return None
    try:
        validate_email(value)
    except DjangoValidationError:
        fields.error(key, ErrorCode.INVALID_EMAIL)
        return None
    return value


def iban_validate(value: str) -> str:
    """python-stdnum's IBAN check (about a fifth of a line's checking time, kept: the library is
    the reference, and a faster copy would have to follow its private tables)."""
    return str(stdnum_iban.validate(value))


def _iban(fields: Fields, key: str) -> str | None:
    value = fields.string(key, required=True, max_length=50)
    if value is None:
        return None
    try:
        return iban_validate(value)
    except StdnumValidationError:
        fields.error(key, ErrorCode.INVALID_IBAN)
        return None


@functools.lru_cache(maxsize=4096)
def _valid_bic(value: str) -> str | None:
    # A register names a few hundred banks at most: each BIC is checked once per process.
    try:
        return str(stdnum_bic.validate(value))
    except StdnumValidationError:
        return None


def _bic(fields: Fields, key: str) -> str | None:
    value = fields.string(key, max_length=20)
    if value is None:
        return None
    valid = _valid_bic(value)
    if valid is None:
        fields.error(key, ErrorCode.INVALID_BIC)
    return valid


def _beneficiary(item: Fields) -> dict[str, Any]:
    return {
        "external_id": item.string("external_id", required=True, max_length=64),
        "nir": _nir(item, "nir", required=False),
        "birth_name": item.string("birth_name", required=True, max_length=100),
        "given_names": item.string("given_names", required=True, max_length=150),
        "sex": item.choice("sex", SEXES, required=True),
        "birth_date": item.date("birth_date", required=True, not_future=True),
        "relation": item.choice("relation", RELATIONS, required=True),
    }


def _digest(member: dict[str, Any], beneficiaries: list[dict[str, Any]]) -> str:
    # The repr of plain values (str, None, date, lists and dicts built in a fixed order here) is a
    # canonical form that costs a fraction of a sorted JSON dump on millions of lines. A change of
    # this form makes the next run count every member as updated once, nothing worse.
    canonical = repr((member, beneficiaries))
    return hashlib.sha256(canonical.encode()).hexdigest()


def member_line_parse(data: dict[str, Any]) -> MemberLine | dict[str, list[str]]:
    """Every rule of FEEDS.md for one members line: its normalised form, or the errors by field."""
    fields = Fields(data, today=feed_today())
    member: dict[str, Any] = {
        "external_id": fields.string("external_id", required=True, max_length=64),
        "nir": _nir(fields, "nir", required=True),
        "birth_name": fields.string("birth_name", required=True, max_length=100),
        "usual_name": fields.string("usual_name", max_length=100),
        "given_names": fields.string("given_names", required=True, max_length=150),
        "sex": fields.choice("sex", SEXES, required=True),
        "birth_date": fields.date("birth_date", required=True, not_future=True),
        "birth_place_insee": fields.string(
            "birth_place_insee", pattern=INSEE_COMMUNE, code=ErrorCode.INVALID_INSEE, upper=True
        ),
        "birth_country_insee": fields.string(
            "birth_country_insee", pattern=INSEE_COUNTRY, code=ErrorCode.INVALID_INSEE
        ),
        "vitale_serial": fields.string(
            "vitale_serial", pattern=VITALE_SERIAL, code=ErrorCode.INVALID_VITALE_SERIAL
        ),
        "email": _email(fields, "email"),
        "phone": _phone(fields, "phone"),
    }

    address = fields.object("address", required=True)
    if address is not None:
        country = address.string("country", upper=True, max_length=2) or "FR"
        if country not in COUNTRIES:
            address.error("country", ErrorCode.INVALID_COUNTRY)
        postal_code = address.string("postal_code", required=True, max_length=10)
        if postal_code is not None and country == "FR":
            postal_code = postal_code.replace(" ", "")
            if not FRENCH_POSTAL_CODE.fullmatch(postal_code):
                address.error("postal_code", ErrorCode.INVALID_POSTAL_CODE)
        member.update(
            address_line1=address.string("line1", required=True, max_length=100),
            address_line2=address.string("line2", max_length=100),
            postal_code=postal_code,
            city=address.string("city", required=True, max_length=100),
            country=country,
        )

    bank = fields.object("bank_account")
    member.update(
        iban=_iban(bank, "iban") if bank else None,
        bic=_bic(bank, "bic") if bank else None,
        bank_holder=bank.string("holder", max_length=100) if bank else None,
    )

    coverage = fields.object("coverage", required=True)
    if coverage is not None:
        start, end = coverage.period("start", "end")
        exemptions = []
        for item in coverage.objects("exemptions"):
            kind = item.choice("kind", EXEMPTION_KINDS, required=True)
            ex_start, ex_end = item.period("start", "end")
            exemptions.append(
                {
                    "kind": kind,
                    "start": ex_start.isoformat() if ex_start else None,
                    "end": ex_end.isoformat() if ex_end else None,
                }
            )
        member.update(coverage_start=start, coverage_end=end, exemptions=exemptions)

    complementary = fields.object("complementary")
    member.update(
        complementary_name=complementary.string("name", max_length=100) if complementary else None,
        complementary_contract=(
            complementary.string("contract", max_length=64) if complementary else None
        ),
    )

    beneficiaries = [_beneficiary(item) for item in fields.objects("beneficiaries")]
    seen: set[str] = set()
    for index, beneficiary in enumerate(beneficiaries):
        external_id = beneficiary["external_id"]
        if external_id is None:
            continue
        if external_id in seen:
            fields.error(f"beneficiaries.{index}.external_id", ErrorCode.DUPLICATE_EXTERNAL_ID)
        seen.add(external_id)

    if fields.errors:
        return fields.errors
    return MemberLine(
        member=member, beneficiaries=beneficiaries, digest=_digest(member, beneficiaries)
    )


class MembersFeed(Feed):
    name = "members"

    def parse(self, data: dict[str, Any], *, line: int) -> ParsedLine | Reject:
        parsed = member_line_parse(data)
        if not isinstance(parsed, MemberLine):
            return Reject(line, readable_external_id(data), parsed)
        keys = {("member", parsed.member["external_id"]), ("nir", parsed.member["nir"])}
        keys.update(("beneficiary", b["external_id"]) for b in parsed.beneficiaries)
        return ParsedLine(
            line=line,
            external_id=parsed.member["external_id"],
            record=parsed,
            keys=frozenset(keys),
        )

    def prepare(self) -> None:
        register_store().prepare()

    def apply(self, lines: Sequence[ParsedLine], *, run: FeedRun) -> list[Outcome | Reject]:
        return members_feed_apply(lines=lines, actor=Actor.feed(f"{self.name}#{run.pk}"))
