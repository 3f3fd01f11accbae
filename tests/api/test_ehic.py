"""ehic/orders (API.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
KEYS = {
    "id",
    "person",
    "status",
    "ordered_at",
    "expected_by",
    "certificate_offered",
    "departure_date",
    "return_reason",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member():
    member = MemberFactory()
    BeneficiaryFactory(member=member)
    return member


@pytest.fixture
def api(client, member):
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    token = app_tokens_issue(account=account, device_label="Téléphone").access_token
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    class Api:
        def get(self, path):
            return client.get(f"/api/v1/{path}", **headers)

        def post(self, path, body):
            return client.post(
                f"/api/v1/{path}", json.dumps(body), content_type="application/json", **headers
            )

    return Api()


def test_needs_a_token(client):
    assert client.get("/api/v1/ehic/orders").status_code == 401


def test_order_for_oneself_with_a_near_departure(api):
    response = api.post("ehic/orders", {"person": "self", "departure_date": "2026-12-01"})
    assert response.status_code == 201
    data = response.json()
    assert set(data) == KEYS
    assert data["person"] == "self"
    assert data["status"] == "ordered"
    assert data["expected_by"] == "2026-12-06"
    assert data["certificate_offered"] is True
    assert data["ordered_at"].startswith("2026-11-26T")


def test_order_for_a_beneficiary_and_list(api, member):
    child = member.beneficiaries.get()
    created = api.post("ehic/orders", {"person": child.pk}).json()
    assert created["person"] == child.pk
    assert created["certificate_offered"] is False
    api.post("ehic/orders", {"person": "self"})
    items = api.get("ehic/orders").json()["items"]
    assert [item["person"] for item in items] == ["self", child.pk]


def test_rules_are_problems_with_stable_codes(api, member):
    assert api.post("ehic/orders", {"person": "self"}).status_code == 201
    again = api.post("ehic/orders", {"person": "self"})
    assert (again.status_code, again.json()["code"]) == (409, "order_already_open")
    stranger = BeneficiaryFactory(member=MemberFactory())
    foreign = api.post("ehic/orders", {"person": stranger.pk})
    assert (foreign.status_code, foreign.json()["code"]) == (400, "unknown_beneficiary")
    past = api.post(
        "ehic/orders", {"person": member.beneficiaries.get().pk, "departure_date": "2026-01-01"}
    )
    assert (past.status_code, past.json()["code"]) == (400, "invalid_departure_date")
    bad = api.post("ehic/orders", {"person": "someone"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")


def test_coverage_ended_is_a_conflict(api, member):
    member.coverage_end = dt.date(2026, 1, 1)
    member.save()
    response = api.post("ehic/orders", {"person": "self"})
    assert (response.status_code, response.json()["code"]) == (409, "coverage_inactive")


def test_only_the_members_orders_are_listed(api, client):
    other = MemberFactory()
    from assure.cards.services import card_order_create
    from assure.core.services import Actor

    card_order_create(actor=Actor.system(), member=other, person="self")
    assert api.get("ehic/orders").json() == {"items": [], "next": None}


def test_list_query_count_does_not_grow_with_the_items(api, member, django_assert_max_num_queries):
    api.post("ehic/orders", {"person": "self"})
    api.post("ehic/orders", {"person": member.beneficiaries.get().pk})
    with django_assert_max_num_queries(6):
        assert len(api.get("ehic/orders").json()["items"]) == 2
