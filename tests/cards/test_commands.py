"""`assure cards export` and `assure cards update FILE`: the exchange with the card maker."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.core.management import call_command

from assure.cards.models import CardOrder
from assure.cards.services import card_order_create
from assure.core.models import AuditEvent
from tests.cards.conftest import actor_for
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _orders(member):
    lea = member.beneficiaries.get()
    mine = card_order_create(actor=actor_for(member), member=member, person="self")
    hers = card_order_create(actor=actor_for(member), member=member, person=str(lea.pk))
    return mine, hers


def _export(tmp_path, capsys) -> list[dict]:
    call_command("cards", "export", "--output", str(tmp_path))
    out = capsys.readouterr().out
    files = sorted(tmp_path.glob("EHIC-*.csv"))
    assert files, out
    with files[-1].open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_lists_the_orders_and_marks_them_in_production(member, tmp_path, capsys):
    mine, hers = _orders(member)
    rows = _export(tmp_path, capsys)
    assert [int(r["order_id"]) for r in rows] == [mine.pk, hers.pk]
    me, child = rows
    assert (me["family_name"], me["given_names"], me["birth_date"]) == (
        "MARTIN",
        "Zoé",
        "1985-05-14",
    )
    assert me["personal_id"] == member.nir
    assert (child["given_names"], child["birth_date"]) == ("Léa", "2015-03-02")
    assert me["card_expiry"] == "2028-11-26"
    assert me["address_1"].startswith("ZOÉ MARTIN") or me["address_1"].upper().startswith("ZO")
    assert any("75014 PARIS" in me[f"address_{n}"] for n in range(1, 7))
    for o in (mine, hers):
        o.refresh_from_db()
        assert o.status == "in_production"
        assert o.export_batch == me["batch"]
    assert AuditEvent.objects.filter(action="card_order.status_changed").count() == 2


def test_a_second_export_has_nothing_new(member, tmp_path, capsys):
    _orders(member)
    _export(tmp_path, capsys)
    call_command("cards", "export", "--output", str(tmp_path))
    assert "No card to order." in capsys.readouterr().out
    assert len(list(tmp_path.glob("EHIC-*.csv"))) == 1


def _update(tmp_path, lines: list[str]):
    path = tmp_path / "status.csv"
    path.write_text("order_id,status,date,reason\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as raised:
        call_command("cards", "update", str(path))
    return raised.value.code


def test_update_applies_sent_delivered_and_returned(member, tmp_path, capsys):
    mine, hers = _orders(member)
    _export(tmp_path, capsys)
    path = tmp_path / "status.csv"
    path.write_text(
        "order_id,status,date,reason\n"
        f"{mine.pk},sent,2026-11-28,\n"
        f"{hers.pk},sent,2026-11-28,\n"
        f"{mine.pk},delivered,2026-12-01,\n"
        f"{hers.pk},returned,2026-12-03,not_collected\n",
        encoding="utf-8",
    )
    call_command("cards", "update", str(path))  # no SystemExit: everything applied
    assert "4 changed, 0 unchanged, 0 rejected." in capsys.readouterr().out
    mine.refresh_from_db()
    hers.refresh_from_db()
    assert (mine.status, mine.sent_at, mine.delivered_at) == (
        "delivered",
        dt.date(2026, 11, 28),
        dt.date(2026, 12, 1),
    )
    assert (hers.status, hers.return_reason) == ("returned", "not_collected")
    # The same file again changes nothing.
    call_command("cards", "update", str(path))
    assert "0 changed, 4 unchanged, 0 rejected." in capsys.readouterr().out


def test_update_reports_bad_lines_with_their_numbers_and_exits_1(member, tmp_path, capsys):
    mine, hers = _orders(member)
    code = _update(
        tmp_path,
        [
            f"{mine.pk},sent,2026-11-28,",  # line 2: not in production yet
            "abc,sent,2026-11-28,",  # line 3
            f"{hers.pk},lost,2026-11-28,",  # line 4
            f"{hers.pk},sent,28/11/2026,",  # line 5
            "999999,sent,2026-11-28,",  # line 6
        ],
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "line 2: status: cannot go from ordered to sent" in err
    assert "line 3: order_id" in err
    assert "line 4: status" in err
    assert "line 5: date" in err
    assert "line 6: order_id: unknown order" in err
    assert set(CardOrder.objects.values_list("status", flat=True)) == {"ordered"}


def test_update_of_an_unreadable_file_exits_2(tmp_path, capsys, db):
    with pytest.raises(SystemExit) as raised:
        call_command("cards", "update", str(tmp_path / "missing.csv"))
    assert raised.value.code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("something,else\n1,2\n", encoding="utf-8")
    with pytest.raises(SystemExit) as raised:
        call_command("cards", "update", str(bad))
    assert raised.value.code == 2
    assert "missing columns" in capsys.readouterr().err


def test_export_never_lists_another_status(tmp_path, capsys, db):
    member = MemberFactory()
    from tests.members.factories import BeneficiaryFactory

    BeneficiaryFactory(member=member)
    mine, hers = _orders(member)
    CardOrder.objects.filter(pk=hers.pk).update(status="sent")
    rows = _export(tmp_path, capsys)
    assert [int(r["order_id"]) for r in rows] == [mine.pk]
