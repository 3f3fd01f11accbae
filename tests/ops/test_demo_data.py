"""`assure demo-data`: a believable register, loaded through the members feed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from stdnum import iban as stdnum_iban

from assure.members.feed import MemberLine, member_line_parse
from assure.members.models import Beneficiary, Member
from assure.members.nir import is_temporary_nir
from assure.ops import demo


def demo_data(*args: str) -> str:
    out = StringIO()
    call_command("demo-data", *args, stdout=out)
    return out.getvalue()


def test_every_demo_line_is_valid_and_covers_the_cases_people_meet():
    lines = [json.loads(line) for line in demo.demo_member_lines()]
    assert len(lines) >= 25
    parsed = [member_line_parse(line) for line in lines]
    assert all(isinstance(p, MemberLine) for p in parsed), [
        p for p in parsed if isinstance(p, dict)
    ]
    places = {line["birth_place_insee"] or "" for line in lines}
    countries = {line["birth_country_insee"] for line in lines}
    assert any(p.startswith("2A") for p in places)
    assert any(p.startswith("2B") for p in places)
    assert {"974", "971"} <= {p[:3] for p in places}
    assert countries - {"99100"}, "someone is born abroad"
    names = {line["birth_name"] for line in lines} | {line["given_names"] for line in lines}
    assert {"N'DIAYE", "D'ALMEIDA", "Éloïse"} <= names
    assert any(is_temporary_nir(line["nir"]) for line in lines)
    kinds = {e["kind"] for line in lines for e in line["coverage"]["exemptions"]}
    assert {"ald", "css"} <= kinds
    ibans = [line["bank_account"]["iban"] for line in lines if line["bank_account"]]
    assert ibans
    assert all(stdnum_iban.is_valid(i) for i in ibans)
    assert len(set(ibans)) == len(ibans)
    assert sum(bool(line["beneficiaries"]) for line in lines) >= 10


@pytest.mark.django_db
def test_demo_data_loads_the_register_and_a_second_run_changes_nothing():
    out = demo_data()
    assert "25 members created" in out
    assert Member.objects.count() == 25
    assert Beneficiary.objects.count() >= 15
    assert "25 unchanged" in demo_data()


@pytest.mark.django_db
def test_if_empty_skips_a_filled_register_but_still_runs_the_steps_for_their_logins(monkeypatch):
    calls = []
    monkeypatch.setattr(
        demo, "DEMO_STEPS", [*demo.DEMO_STEPS, lambda load: calls.append(load) or ["Login: x"]]
    )
    first = demo_data("--if-empty")
    assert "25 members created" in first
    assert first.rstrip().endswith("Login: x")
    second = demo_data("--if-empty")
    assert "not empty" in second
    assert "already loaded" in second
    assert second.rstrip().endswith("Login: x")
    assert calls == [True, False]
    assert Member.objects.count() == 25


@pytest.mark.django_db
def test_demo_data_is_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        demo_data()
    assert not Member.objects.exists()
