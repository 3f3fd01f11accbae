"""The statements and allowances feeds: every rule of FEEDS.md, idempotence, batching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assure.core.models import AuditEvent
from assure.payments.models import AllowancePayment, SickLeave, Statement
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.lines import allowance_line, load, statement_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder():
    return MemberFactory()


# --- statements: one rule a row ------------------------------------------------------------------

STATEMENT_REJECTS = [
    ({"external_id": None}, "external_id", "required"),
    ({"status": "lost"}, "status", "invalid_choice"),
    ({"care_date": "2026-13-01"}, "care_date", "invalid_date"),
    (
        {
            "care_date": "2026-12-01",
            "received_on": "2026-12-02",
            "paid_on": None,
            "status": "received",
        },
        "care_date",
        "future_date",
    ),
    ({"received_on": None}, "received_on", "required"),
    ({"received_on": "2026-10-19"}, "received_on", "received_before_care"),
    ({"paid_on": None}, "paid_on", "required"),  # paid without a date
    ({"paid_on": "2026-10-21"}, "paid_on", "paid_before_received"),
    ({"category": "spa"}, "category", "invalid_choice"),
    ({"act_code": None}, "act_code", "required"),
    ({"label": ""}, "label", "required"),
    ({"amount_charged": "30"}, "amount_charged", "invalid_amount"),
    ({"base_amount": 30.0}, "base_amount", "invalid_amount"),
    ({"flat_fee": "-2.00", "reimbursed": "23.00"}, "flat_fee", "negative_amount"),
    ({"rate": 101}, "rate", "invalid_integer"),
    ({"rate": "70"}, "rate", "invalid_integer"),
    ({"paid_to": "bank"}, "paid_to", "invalid_choice"),
    ({"complementary_forwarded": "yes"}, "complementary_forwarded", "invalid_type"),
    ({"status": "rejected", "paid_on": None}, "rejection_reason", "required"),
    ({"reimbursed": "21.00"}, "reimbursed", "inconsistent_amounts"),
    ({"reimbursed": "19.02"}, "reimbursed", "inconsistent_amounts"),
    ({"member_nir": "185057505612345"}, "member_nir", "invalid_nir"),
    ({"member_nir": None}, "member_nir", "required"),
]


@pytest.mark.parametrize(("changes", "field", "code"), STATEMENT_REJECTS)
def test_statement_line_rejected(holder, changes, field, code):
    result, rejects = load("statements", [statement_line(holder.nir, **changes)])
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert code in rejects[0].errors[field], rejects[0].errors
    assert rejects[0].line == 1
    assert not Statement.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"reimbursed": "19.01"},  # a cent of tolerance
        {"reimbursed": "18.99"},
        {"status": "received", "paid_on": None, "payment_reference": None},
        {"status": "processing", "paid_on": None},
        {"status": "rejected", "paid_on": None, "rejection_reason": "Acte non remboursable"},
        {"provider": None, "beneficiary_external_id": None, "unknown_field": "ignored"},
        {"member_nir": "1 85 05 75 056 001 44"},  # spaces are removed (set below)
    ],
)
def test_statement_line_accepted(holder, changes):
    if "member_nir" in changes:
        changes["member_nir"] = " ".join([holder.nir[:5], holder.nir[5:10], holder.nir[10:]])
    result, rejects = load("statements", [statement_line(holder.nir, **changes)])
    assert rejects == []
    assert result.created == 1
    line = Statement.objects.get()
    assert line.member == holder
    assert line.reimbursed == Decimal(changes.get("reimbursed", "19.00"))


def test_unknown_member_is_rejected_then_accepted_once_the_member_exists():
    line = statement_line(MemberFactory.build().nir)
    result, rejects = load("statements", [line])
    assert rejects[0].errors == {"member_nir": ["unknown_member"]}
    MemberFactory(nir=line["member_nir"])
    result, rejects = load("statements", [line])
    assert result.created == 1


def test_beneficiary_must_belong_to_the_member(holder):
    own = BeneficiaryFactory(member=holder)
    other = BeneficiaryFactory()
    result, rejects = load(
        "statements",
        [
            statement_line(holder.nir, external_id="A", beneficiary_external_id=own.external_id),
            statement_line(holder.nir, external_id="B", beneficiary_external_id=other.external_id),
            statement_line(holder.nir, external_id="C", beneficiary_external_id="NOBODY"),
        ],
    )
    assert result.created == 1
    assert [r.errors for r in rejects] == [
        {"beneficiary_external_id": ["beneficiary_of_another_member"]},
        {"beneficiary_external_id": ["unknown_beneficiary"]},
    ]
    assert Statement.objects.get().beneficiary == own


def test_idempotent_by_external_id_with_updates_counted_and_audited(holder):
    pending = statement_line(holder.nir, status="processing", paid_on=None)
    assert load("statements", [pending])[0].created == 1
    assert load("statements", [pending])[0].unchanged == 1
    paid = statement_line(holder.nir)
    result, _ = load("statements", [paid])
    assert result.updated == 1
    line = Statement.objects.get()
    assert line.status == "paid"
    assert line.paid_on == dt.date(2026, 11, 6)
    event = AuditEvent.objects.get(action="statement.status_changed")
    assert event.data == {"from": "processing", "to": "paid"}
    assert event.member_id == holder.pk


def test_a_bad_line_does_not_stop_the_others_and_order_is_kept(holder):
    lines = [statement_line(holder.nir, external_id=f"L{i}") for i in range(7)]
    lines[3]["reimbursed"] = "99.00"
    lines.insert(5, "{not json")
    result, rejects = load("statements", lines, batch_size=2)
    assert result.counts == {"created": 6, "updated": 0, "unchanged": 0, "rejected": 2}
    assert [r.line for r in rejects] == [4, 6]


def test_batch_costs_a_constant_number_of_queries(holder, django_assert_max_num_queries):
    other = MemberFactory()
    ten = [statement_line(holder.nir, external_id=f"Q{i}") for i in range(10)]
    hundred = [
        statement_line((holder if i % 2 else other).nir, external_id=f"R{i}") for i in range(100)
    ]
    # run row, one batch (members, statements, upsert), notices lookup, run save, savepoints.
    with django_assert_max_num_queries(12):
        load("statements", ten)
    with django_assert_max_num_queries(12):
        load("statements", hundred)
    assert Statement.objects.count() == 110


# --- allowances ----------------------------------------------------------------------------------

ALLOWANCE_REJECTS = [
    ({"sick_leave": None}, "sick_leave", "required"),
    (
        {"sick_leave": {"kind": "illness", "start": "2026-10-01"}},
        "sick_leave.external_id",
        "required",
    ),
    (
        {"sick_leave": {"external_id": "AT-1", "kind": "holiday", "start": "2026-10-01"}},
        "sick_leave.kind",
        "invalid_choice",
    ),
    ({"status": "rejected"}, "status", "invalid_choice"),
    ({"period_end": None}, "period_end", "required"),
    ({"period_end": "2026-09-30"}, "period_end", "end_before_start"),
    ({"days": 15}, "days", "too_many_days"),
    ({"days": "11"}, "days", "invalid_integer"),
    ({"gross": "500.00", "net": "469.44"}, "gross", "inconsistent_amounts"),
    ({"net": "456.17"}, "net", "inconsistent_amounts"),
    ({"paid_on": None}, "paid_on", "required"),
    ({"paid_to": "bank"}, "paid_to", "invalid_choice"),
    ({"period_start": "2026-09-20", "days": 11}, "period_start", "outside_sick_leave"),
]


@pytest.mark.parametrize(("changes", "field", "code"), ALLOWANCE_REJECTS)
def test_allowance_line_rejected(holder, changes, field, code):
    result, rejects = load("allowances", [allowance_line(holder.nir, **changes)])
    assert result.rejected == 1
    assert code in rejects[0].errors[field], rejects[0].errors
    assert not AllowancePayment.objects.exists()


def test_allowances_create_the_sick_leave_and_update_it(holder):
    first = allowance_line(holder.nir)
    second = allowance_line(
        holder.nir,
        external_id="IJ-2",
        status="processing",
        paid_on=None,
        period_start="2026-10-15",
        period_end="2026-10-28",
        days=14,
        gross="580.58",
        social_levies="38.90",
        net="541.68",
    )
    result, rejects = load("allowances", [first, second])
    assert rejects == []
    assert result.created == 2
    leave = SickLeave.objects.get()
    assert leave.member == holder
    assert leave.payments.count() == 2
    assert load("allowances", [first, second])[0].unchanged == 2

    ended = allowance_line(
        holder.nir,
        sick_leave={
            "external_id": "AT-1",
            "kind": "illness",
            "start": "2026-10-01",
            "end": "2026-10-28",
        },
    )
    assert load("allowances", [ended])[0].updated == 1
    leave.refresh_from_db()
    assert leave.end == dt.date(2026, 10, 28)


def test_allowance_unknown_member_and_sick_leave_of_another_member(holder):
    _result, rejects = load("allowances", [allowance_line(MemberFactory.build().nir)])
    assert rejects[0].errors == {"member_nir": ["unknown_member"]}
    load("allowances", [allowance_line(holder.nir)])
    other = MemberFactory()
    _result, rejects = load("allowances", [allowance_line(other.nir, external_id="IJ-9")])
    assert rejects[0].errors == {"sick_leave.external_id": ["sick_leave_of_another_member"]}


def test_command_line_import_with_rejects_file_and_exit_codes(holder, tmp_path):
    import json

    from django.core.management import call_command

    path = tmp_path / "statements.jsonl"
    path.write_text(
        json.dumps(statement_line(holder.nir))
        + "\n"
        + json.dumps(statement_line(holder.nir, external_id="BAD", rate=300))
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "statements", str(path))
    assert exit_info.value.code == 1
    rejects = (tmp_path / "statements.jsonl.rejects.jsonl").read_text().splitlines()
    assert json.loads(rejects[0])["errors"] == {"rate": ["invalid_integer"]}
    path.write_text(json.dumps(allowance_line(holder.nir)) + "\n", encoding="utf-8")
    call_command("import", "allowances", str(path))  # nothing rejected: no exit
    assert AllowancePayment.objects.count() == 1
