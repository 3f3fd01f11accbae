"""The members feed against the register: created / updated / unchanged, conflicts, batches."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from assure.core.feeds import FeedResult, Reject, feed_get, feed_load
from assure.core.models import AuditEvent, FeedRun
from assure.members.models import Beneficiary, Member
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.members.lines import jsonl, member_line, nir

pytestmark = pytest.mark.django_db


def load(*lines: dict[str, Any] | str, batch_size: int | None = None) -> tuple[FeedResult, list]:
    rejects: list[Reject] = []
    result, _run = feed_load(
        feed=feed_get("members"),
        stream=io.BytesIO(jsonl(*lines)),
        source=FeedRun.Source.CLI,
        actor="tests",
        on_reject=rejects.append,
        batch_size=batch_size,
    )
    return result, [r.as_dict() for r in rejects]


def test_first_run_creates_members_and_beneficiaries():
    result, rejects = load(member_line(1), member_line(2), member_line(3))
    assert result.counts == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert rejects == []
    member = Member.objects.get(external_id="M0002")
    assert member.nir == nir(2)
    assert member.iban == "FR7630006000011234567890189"
    assert member.postal_code == "75014"
    assert member.exemptions == [{"kind": "ald", "start": "2019-04-01", "end": None}]
    assert member.complementary_name == "Mutuelle des Volcans"
    assert len(member.feed_digest) == 64
    assert list(member.beneficiaries.values_list("external_id", "active")) == [("B0002-0", True)]


def test_re_run_is_unchanged_and_touches_no_row():
    load(member_line(1), member_line(2))
    before = dict(Member.objects.values_list("external_id", "updated_at"))
    result, _ = load(member_line(1), member_line(2))
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert dict(Member.objects.values_list("external_id", "updated_at")) == before


def test_a_changed_line_updates_the_member_and_records_which_fields_changed():
    load(member_line(1), member_line(2))
    line = member_line(2, email="nouvelle@example.org", phone="+33612345678")
    result, _ = load(member_line(1), line)
    assert result.counts == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    member = Member.objects.get(external_id="M0002")
    assert (member.email, member.phone) == ("nouvelle@example.org", "+33612345678")
    event = AuditEvent.objects.get(action="member.updated_by_feed")
    assert event.member_id == member.pk
    assert event.actor_kind == "feed"
    assert sorted(event.data["fields"]) == ["email", "phone"]
    assert "nouvelle@example.org" not in str(event.data)


def test_a_beneficiary_missing_from_a_later_line_is_deactivated_not_deleted():
    line = member_line(1)
    line["beneficiaries"].append(
        {
            "external_id": "B0001-S",
            "nir": nir(501, sex="2"),
            "birth_name": "DURAND",
            "given_names": "Julie",
            "sex": "F",
            "birth_date": "1986-02-01",
            "relation": "spouse",
        }
    )
    load(line)
    assert Beneficiary.objects.filter(active=True).count() == 2

    result, _ = load(member_line(1))
    assert result.counts["updated"] == 1
    assert dict(Beneficiary.objects.values_list("external_id", "active")) == {
        "B0001-0": True,
        "B0001-S": False,
    }

    # Back in a later line: shown again, the same row.
    result, _ = load(line)
    assert result.counts["updated"] == 1
    assert Beneficiary.objects.filter(active=True).count() == 2
    assert Beneficiary.objects.count() == 2


def test_a_nir_held_by_another_member_is_rejected_and_nothing_is_written():
    load(member_line(1))
    result, rejects = load(member_line(2, nir=nir(1)))
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert rejects == [{"line": 1, "external_id": "M0002", "errors": {"nir": ["duplicate_nir"]}}]
    assert not Member.objects.filter(external_id="M0002").exists()
    assert not Beneficiary.objects.filter(external_id="B0002-0").exists()


def test_a_beneficiary_of_another_member_is_rejected():
    load(member_line(1))
    line = member_line(2)
    line["beneficiaries"][0]["external_id"] = "B0001-0"
    _result, rejects = load(line)
    assert rejects == [
        {
            "line": 1,
            "external_id": "M0002",
            "errors": {"beneficiaries.0.external_id": ["beneficiary_of_another_member"]},
        }
    ]
    assert not Member.objects.filter(external_id="M0002").exists()
    assert Beneficiary.objects.get(external_id="B0001-0").member.external_id == "M0001"


def test_duplicate_keys_inside_one_batch_give_the_same_result_as_line_by_line():
    lines = [
        member_line(1),
        member_line(1, email="second@example.org"),  # same member again: an update
        member_line(2, nir=nir(1)),  # the NIR of member 1: refused
        member_line(3),
        member_line(3),  # the very same line: unchanged
    ]

    def run(batch_size: int) -> tuple[dict[str, int], list, str | None]:
        with transaction.atomic():
            result, rejects = load(*lines, batch_size=batch_size)
            email = Member.objects.get(external_id="M0001").email
            transaction.set_rollback(True)  # the next run starts from the same empty register
        return result.counts, rejects, email

    counts, rejects, email = run(100)
    assert counts == {"created": 2, "updated": 1, "unchanged": 1, "rejected": 1}
    assert rejects == [{"line": 3, "external_id": "M0002", "errors": {"nir": ["duplicate_nir"]}}]
    assert email == "second@example.org"
    assert run(1) == (counts, rejects, email)


def test_bad_lines_among_good_ones_are_reported_in_order_with_their_numbers():
    result, rejects = load(
        member_line(1), "", "{oops", member_line(2, sex="X"), "[]", member_line(3), batch_size=2
    )
    assert result.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3}
    assert [(r["line"], r["errors"]) for r in rejects] == [
        (3, {"__all__": ["invalid_json"]}),
        (4, {"sex": ["invalid_choice"]}),
        (5, {"__all__": ["not_an_object"]}),
    ]
    assert rejects[1]["external_id"] == "M0002"


def test_a_register_row_created_outside_the_feed_is_taken_over_by_external_id():
    MemberFactory(external_id="M0001", nir=nir(1))
    BeneficiaryFactory(external_id="B0001-0", member=Member.objects.get(external_id="M0001"))
    result, _ = load(member_line(1))
    assert result.counts["updated"] == 1
    assert Member.objects.count() == 1


def test_an_unexpected_integrity_error_falls_back_to_line_by_line(monkeypatch):
    """A conflict the checks did not foresee rejects its own line only, never the batch."""
    from assure.members.bulk import OrmStore, PostgresStore

    def refusing(insert):
        def refuse_m0002(self, rows):
            if any(row["external_id"] == "M0002" for row in rows):
                raise IntegrityError("simulated concurrent writer")
            return insert(self, rows)

        return refuse_m0002

    for store in (OrmStore, PostgresStore):
        monkeypatch.setattr(store, "members_insert", refusing(store.members_insert))
    result, rejects = load(member_line(1), member_line(2), member_line(3))
    assert result.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert rejects == [{"line": 2, "external_id": "M0002", "errors": {"__all__": ["conflict"]}}]
    assert sorted(Member.objects.values_list("external_id", flat=True)) == ["M0001", "M0003"]
    assert not Beneficiary.objects.filter(external_id="B0002-0").exists()


def test_the_run_is_recorded_with_counts_and_a_sample_of_rejects():
    load(member_line(1), "nope")
    run = FeedRun.objects.get()
    assert (run.feed, run.source, run.actor, run.status) == ("members", "cli", "tests", "finished")
    assert (run.created, run.rejected) == (1, 1)
    assert run.rejects_sample == [
        {"line": 2, "external_id": None, "errors": {"__all__": ["invalid_json"]}}
    ]
    assert run.finished_at is not None


@pytest.mark.parametrize("batch", [10, 50])
def test_a_batch_costs_a_constant_number_of_queries(batch, django_assert_max_num_queries):
    """No query per line: the first load and its re-run stay within a fixed budget per batch."""
    lines = [member_line(n) for n in range(1, batch + 1)]
    # The run's row (insert, update) and staging tables (PostgreSQL), then for the batch: its
    # savepoint and release, two reads, and members and beneficiaries written (on PostgreSQL a
    # COPY to staging and a move each).
    with django_assert_max_num_queries(11):
        result, _ = load(*lines, batch_size=batch)
    assert result.created == batch
    with django_assert_max_num_queries(6):  # the run, staging, savepoint, one read
        result, _ = load(*lines, batch_size=batch)
    assert result.unchanged == batch
    changed = [member_line(n, email=f"n{n}@example.org") for n in range(1, batch + 1)]
    # Also the values before (for the audit), beneficiaries deactivated, the audit events (their
    # hash chain reads the last one, in a savepoint) and, elsewhere than PostgreSQL, the row ids.
    with django_assert_max_num_queries(18):
        result, _ = load(*changed, batch_size=batch)
    assert result.updated == batch
