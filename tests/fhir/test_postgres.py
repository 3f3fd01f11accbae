"""PostgreSQL, a member with 10,000 lines: each page is an index range read, not a history read."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from assure.fhir import selectors
from assure.payments.models import Statement
from tests.fhir.conftest import parse
from tests.members.factories import MemberFactory
from tests.payments.factories import StatementFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HISTORY = 10_000


@pytest.fixture
def long_history(member):
    Statement.objects.bulk_create(
        (
            StatementFactory.build(
                member=member, care_date=dt.date(2026, 11, 1) - dt.timedelta(days=i // 4)
            )
            for i in range(HISTORY)
        ),
        batch_size=2000,
    )
    others = MemberFactory.create_batch(5)
    Statement.objects.bulk_create(
        (StatementFactory.build(member=others[i % 5]) for i in range(5000)), batch_size=2000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE payments_statement")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_a_deep_page_reads_the_index_range_of_one_page(member, long_history):
    subject = selectors.Subject(member=member)
    deep = Statement.objects.filter(member_id=member.pk).order_by("-care_date", "-pk")[9000]
    cursor = selectors.cursor_encode(deep, after=True)
    qs = (
        selectors._statements_of(subject)
        .filter(selectors._older(deep.care_date, deep.pk))
        .order_by("-care_date", "-pk")[:21]
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as db:
        db.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        raw = db.fetchone()[0]
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
    scans = [n for n in _nodes(plan) if "Scan" in n["Node Type"]]
    assert [n["Node Type"] for n in scans] == ["Index Scan"], scans
    assert scans[0]["Index Name"] == "statement_member_newest"
    assert "Sort" not in {n["Node Type"] for n in _nodes(plan)}
    # The rows the scan touched: the page and the same-day neighbours, not the 9,000 before it.
    touched = scans[0]["Actual Rows"] + scans[0].get("Rows Removed by Filter", 0)
    assert touched <= 21 + 4
    page = selectors.statement_page_for_subject(subject=subject, count=20, cursor=cursor)
    assert len(page.items) == 20
    assert page.total == HISTORY


def test_a_deep_page_over_http(fhir, member, long_history, django_assert_max_num_queries):
    deep = Statement.objects.filter(member_id=member.pk).order_by("-care_date", "-pk")[9990]
    cursor = selectors.cursor_encode(deep, after=True)
    with django_assert_max_num_queries(8):
        bundle = parse(fhir("ExplanationOfBenefit", patient=member.pk, _cursor=cursor))
    assert bundle["total"] == HISTORY
    assert len(bundle["entry"]) == 9  # the 9,991st line was the cursor: 9 are left
    assert [link["relation"] for link in bundle["link"]] == ["self", "previous"]
