"""statements, allowances, deductibles (API.md), and the statements/allowances feed endpoints."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine

from assure.api.feed_tokens import feed_token_create
from assure.core.services import Actor
from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from assure.payments.models import Statement
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory, StatementFactory
from tests.payments.lines import allowance_line, statement_line

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ITEM_KEYS = {
    "id",
    "care_date",
    "label",
    "category",
    "provider",
    "beneficiary",
    "status",
    "amount_charged",
    "base_amount",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
    "paid_to",
    "paid_on",
    "complementary_forwarded",
    "payment_reference",
    "rejection_reason",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def api(client, member):
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    tokens = app_tokens_issue(account=account, device_label="Téléphone")

    def get(path, **params):
        return client.get(
            f"/api/v1/{path}", params, HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"
        )

    return get


def test_member_endpoints_need_a_token(client):
    for path in ("statements", "statements/1", "allowances", "deductibles"):
        response = client.get(f"/api/v1/{path}")
        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/problem+json"


def test_statements_list_with_amounts_as_strings(api, member):
    child = BeneficiaryFactory(member=member)
    line = StatementFactory(member=member, beneficiary=child)
    StatementFactory()  # someone else's
    body = api("statements").json()
    assert body["next"] is None
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert set(item) == ITEM_KEYS
    assert item == item | {
        "id": line.pk,
        "care_date": "2026-10-20",
        "beneficiary": child.pk,
        "status": "paid",
        "amount_charged": "30.00",
        "base_amount": "30.00",
        "rate": 70,
        "reimbursed": "19.00",
        "flat_fee": "2.00",
        "deductible": "0.00",
        "paid_to": "member",
        "paid_on": "2026-11-06",
        "complementary_forwarded": True,
    }


def test_statements_filters_limit_and_cursor(api, member, django_assert_max_num_queries):
    for i in range(30):
        StatementFactory(member=member, care_date=dt.date(2026, 1, 1) + dt.timedelta(days=i))
    StatementFactory(
        member=member,
        status="processing",
        paid_on=None,
        care_date=dt.date(2026, 11, 1),
        received_on=dt.date(2026, 11, 2),
    )
    with django_assert_max_num_queries(6):
        first = api("statements", limit=100).json()
    assert len(first["items"]) == 31
    page = api("statements").json()
    assert len(page["items"]) == 20
    rest = api("statements", cursor=page["next"]).json()
    assert len(rest["items"]) == 11
    assert rest["next"] is None
    assert [i["status"] for i in api("statements", status="pending").json()["items"]] == [
        "processing"
    ]
    window = api("statements", **{"from": "2026-01-05", "to": "2026-01-09"}).json()
    assert [i["care_date"] for i in window["items"]] == [
        "2026-01-09",
        "2026-01-08",
        "2026-01-07",
        "2026-01-06",
        "2026-01-05",
    ]
    assert api("statements", category="dental").json()["items"] == []
    assert api("statements", limit=101).status_code == 400
    assert api("statements", status="lost").status_code == 400
    bad = api("statements", cursor="nope")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


def test_statement_of_another_member_is_404_like_a_missing_one(api, member):
    mine = StatementFactory(member=member)
    other = StatementFactory()
    assert api(f"statements/{mine.pk}").json()["id"] == mine.pk
    theirs = api(f"statements/{other.pk}")
    missing = api("statements/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert theirs.json()["code"] == "not_found"


def test_allowances(api, member, django_assert_max_num_queries):
    leave = SickLeaveFactory(member=member)
    AllowancePaymentFactory(sick_leave=leave)
    SickLeaveFactory()
    with django_assert_max_num_queries(5):
        body = api("allowances").json()
    assert body["next"] is None
    [item] = body["items"]
    assert item["id"] == leave.pk
    assert item["paid_total"] == "541.68"
    assert item["next_payment_expected"] == "2026-10-31"
    assert item["payments"][0] == {
        "period_start": "2026-10-04",
        "period_end": "2026-10-17",
        "days": 14,
        "daily_gross": "41.47",
        "gross": "580.58",
        "social_levies": "38.90",
        "net": "541.68",
        "paid_on": "2026-10-24",
        "paid_to": "member",
        "status": "paid",
    }


def test_deductibles(api, member):
    StatementFactory(member=member)
    StatementFactory(
        member=member, paid_to="provider", flat_fee=Decimal("2.00"), paid_on=dt.date(2026, 11, 20)
    )
    assert api("deductibles", year=2026).json() == {
        "year": 2026,
        "flat_fee": {"withheld": "4.00", "cap": "50.00"},
        "deductible": {"withheld": "0.00", "cap": "50.00"},
        "pending_recovery": "2.00",
    }
    assert api("deductibles").json()["year"] == 2026
    assert api("deductibles", year=2025).json()["flat_fee"]["withheld"] == "0.00"


def test_openapi_describes_the_payments_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/statements",
        "/api/v1/statements/{statement_id}",
        "/api/v1/allowances",
        "/api/v1/deductibles",
        "/api/v1/feeds/statements",
        "/api/v1/feeds/allowances",
    ):
        assert path in paths


def test_feed_endpoints_load_statements_and_allowances(client, member):
    _record, token = feed_token_create(name="payments", actor=Actor.system("tests"))
    body = "\n".join(
        json.dumps(line)
        for line in (
            statement_line(member.nir),
            statement_line(member.nir, external_id="X", reimbursed="1.00"),
        )
    )
    response = client.post(
        "/api/v1/feeds/statements",
        data=body.encode(),
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {"line": 2, "external_id": "X", "errors": {"reimbursed": ["inconsistent_amounts"]}}
        ],
    }
    assert Statement.objects.filter(member=member).count() == 1
    response = client.post(
        "/api/v1/feeds/allowances",
        data=json.dumps(allowance_line(member.nir)).encode(),
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json()["created"] == 1
    assert (
        client.post(
            "/api/v1/feeds/statements",
            data=b"",
            content_type="application/x-ndjson",
            HTTP_AUTHORIZATION="Bearer wrong",
        ).status_code
        == 401
    )
