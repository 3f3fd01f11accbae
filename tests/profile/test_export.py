"""`assure export changes --since`: the outbound change feed, as JSON Lines."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from assure.core.models import AuditEvent
from assure.identity.services import member_actor
from assure.members import changes
from tests.profile.conftest import NOW

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "changes", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.fixture
def made(member, clock):
    actor = member_actor(member)
    changes.member_phone_change(member=member, phone="0711223344", actor=actor)
    clock.shift(dt.timedelta(hours=1))
    address = changes.address_check(line1="5 avenue Foch", postal_code="69006", city="Lyon")
    changes.member_address_change(member=member, address=address, actor=actor)
    changes.member_email_change_request(member=member, email="new@example.net", actor=actor)
    account = changes.BankAccount(iban="FR1420041010050500013M02606", bic="PSSTFRPP", holder="Z M")
    changes.member_bank_account_change(
        member=member, account=account, second_factor_at=NOW + dt.timedelta(hours=1), actor=actor
    )
    return member


def test_every_applied_change_since_a_time_oldest_first(made):
    lines, err = _run("--since", "2026-11-26T10:30:00+00:00")
    assert [line["kind"] for line in lines] == ["address", "bank_account"]
    address, bank = lines
    assert address["member_external_id"] == made.external_id
    assert address["address"] == {
        "line1": "5 avenue Foch",
        "line2": None,
        "postal_code": "69006",
        "city": "Lyon",
        "country": "FR",
    }
    assert address["changed_at"] == "2026-11-26T11:00:00+00:00"
    assert address["by"] == "member"
    # The fund needs the new account in full to pay into it.
    assert bank["bank_account"] == {
        "iban": "FR1420041010050500013M02606",
        "bic": "PSSTFRPP",
        "holder": "Z M",
    }
    assert "nir" not in address
    assert "2 change(s)" in err


def test_since_is_inclusive_and_a_pending_email_waits_for_its_link(made):
    lines, _err = _run("--since", "2026-11-26T10:00:00+00:00")
    assert [line["kind"] for line in lines] == ["phone", "address", "bank_account"]
    assert lines[0]["phone"] == "0711223344"


def test_out_file_and_audit(made, tmp_path):
    target = tmp_path / "changes.jsonl"
    lines, _err = _run("--since", "2026-11-26", "--out", str(target))
    assert lines == []
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(written) == 3
    assert not (tmp_path / "changes.jsonl.partial").exists()
    event = AuditEvent.objects.get(action="members.changes_exported")
    assert event.data["lines"] == 3


def test_a_bad_since_is_refused():
    with pytest.raises(CommandError):
        _run("--since", "yesterday")
