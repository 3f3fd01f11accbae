"""certificates, certificates/{id}/pdf and verify/{reference} (API.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings

from assure.core.services import Actor
from assure.documents.models import Certificate
from assure.documents.references import reference_new
from assure.documents.services import certificate_revoke
from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ITEM_KEYS = {"id", "reference", "kind", "issued_at", "valid_until", "pdf_url"}
VERIFY_KEYS = {"valid", "kind", "issued_at", "valid_until", "holder"}


@pytest.fixture(autouse=True)
def _today():
    cache.clear()
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member():
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    BeneficiaryFactory(member=member, given_names="Léa")
    return member


def _token(member) -> str:
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    return app_tokens_issue(account=account, device_label="Téléphone").access_token


@pytest.fixture
def api(client, member):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {_token(member)}"}

    class Api:
        def get(self, path, **params):
            return client.get(f"/api/v1/{path}", params, **headers)

        def post(self, path, body):
            return client.post(
                f"/api/v1/{path}", json.dumps(body), content_type="application/json", **headers
            )

    return Api()


def test_certificate_endpoints_need_a_token(client):
    assert client.get("/api/v1/certificates").status_code == 401
    assert (
        client.post("/api/v1/certificates", "{}", content_type="application/json").status_code
        == 401
    )
    assert client.get("/api/v1/certificates/1/pdf").status_code == 401


@pytest.mark.parametrize(
    ("body", "valid_until"),
    [
        ({"kind": "entitlement", "exemptions": True}, "2027-11-26"),
        ({"kind": "allowance", "from": "2026-01-01", "to": "2026-11-25"}, None),
        ({"kind": "tax"}, None),
        ({"kind": "tax", "year": 2024}, None),
        ({"kind": "ehic_provisional", "person": "self"}, "2027-02-26"),
    ],
)
def test_issue_each_kind(api, body, valid_until):
    response = api.post("certificates", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == ITEM_KEYS
    assert data["kind"] == body["kind"]
    assert data["valid_until"] == valid_until
    assert data["issued_at"].startswith("2026-11-26T")
    assert len(data["reference"]) == 24  # 20 characters in groups of four
    assert data["pdf_url"] == f"/api/v1/certificates/{data['id']}/pdf"


def test_provisional_certificate_for_a_beneficiary(api, member):
    lea = member.beneficiaries.get()
    response = api.post("certificates", {"kind": "ehic_provisional", "person": lea.pk})
    assert response.status_code == 201
    assert Certificate.objects.get(pk=response.json()["id"]).beneficiary == lea


def test_allowance_certificate_in_the_api_lists_the_payments(api, member):
    AllowancePaymentFactory(sick_leave=SickLeaveFactory(member=member))
    created = api.post(
        "certificates", {"kind": "allowance", "from": "2026-10-01", "to": "2026-11-26"}
    )
    pdf = api.get(created.json()["pdf_url"].removeprefix("/api/v1/"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"kind": "allowance", "from": "2026-11-01", "to": "2026-10-01"}, "invalid_period", "to"),
        ({"kind": "allowance"}, "invalid_period", "from"),
        ({"kind": "tax", "year": 2026}, "invalid_year", "year"),
        ({"kind": "ehic_provisional", "person": 999999}, "unknown_beneficiary", "person"),
        ({"kind": "entitlement", "beneficiaries": [999999]}, "unknown_beneficiary", "person"),
        ({"kind": "passport"}, "validation_error", "kind"),
    ],
)
def test_bad_requests_are_problems_with_stable_codes(api, body, code, field):
    response = api.post("certificates", body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert any(key.startswith(field) for key in problem["errors"]), problem


def test_coverage_ended_is_a_conflict(api, member):
    member.coverage_end = dt.date(2026, 1, 1)
    member.save()
    response = api.post("certificates", {"kind": "entitlement"})
    assert response.status_code == 409
    assert response.json()["code"] == "coverage_inactive"


def test_list_is_newest_first_paginated_and_only_the_members(api, member, client):
    ids = [api.post("certificates", {"kind": "tax"}).json()["id"] for _ in range(3)]
    other = MemberFactory()
    Certificate.objects.filter(pk=ids[0]).update(member=other)
    first = api.get("certificates", limit=1).json()
    assert [item["id"] for item in first["items"]] == [ids[2]]
    assert first["next"]
    second = api.get("certificates", limit=1, cursor=first["next"]).json()
    assert [item["id"] for item in second["items"]] == [ids[1]]
    assert second["next"] is None


def test_another_members_pdf_is_404_exactly_like_a_missing_one(api):
    foreign_member = MemberFactory()
    foreign_id = None
    other_api_token = _token(foreign_member)
    from django.test import Client

    other = Client()
    created = other.post(
        "/api/v1/certificates",
        json.dumps({"kind": "tax"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {other_api_token}",
    )
    foreign_id = created.json()["id"]
    theirs = api.get(f"certificates/{foreign_id}/pdf")
    missing = api.get(f"certificates/{foreign_id + 100}/pdf")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert theirs.json()["code"] == "not_found"


def test_verify_is_public_and_shows_only_what_it_may(api, client):
    created = api.post("certificates", {"kind": "entitlement"}).json()
    response = client.get(f"/api/v1/verify/{created['reference']}")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == VERIFY_KEYS
    assert data == {
        "valid": True,
        "kind": "entitlement",
        "issued_at": created["issued_at"],
        "valid_until": "2027-11-26",
        "holder": "Z. M. 1985",
    }


def test_verify_answers_every_invalid_case_identically(api, client):
    revoked = api.post("certificates", {"kind": "entitlement"}).json()
    certificate_revoke(
        actor=Actor.system(),
        certificate=Certificate.objects.get(pk=revoked["id"]),
        reason="test",
    )
    expired = api.post("certificates", {"kind": "ehic_provisional"}).json()
    with time_machine.travel(dt.datetime(2027, 6, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        answers = [
            client.get(f"/api/v1/verify/{reference}")
            for reference in (
                reference_new(),
                revoked["reference"],
                expired["reference"],
                "malformed!",
            )
        ]
    assert {a.status_code for a in answers} == {200}
    assert {a.content for a in answers} == {
        b'{"valid": false, "kind": null, "issued_at": null, "valid_until": null, "holder": null}'
    }


@override_settings(DOCUMENTS_VERIFY_PER_ADDRESS=2)
def test_verify_is_throttled(client):
    for _ in range(2):
        assert client.get(f"/api/v1/verify/{reference_new()}").status_code == 200
    response = client.get(f"/api/v1/verify/{reference_new()}")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_openapi_describes_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/certificates"])
    assert "application/pdf" in json.dumps(paths["/api/v1/certificates/{certificate_id}/pdf"])
    assert paths["/api/v1/verify/{reference}"]["get"].get("security") in (None, [])


def test_list_query_count_does_not_grow_with_the_items(api, django_assert_max_num_queries):
    for _ in range(5):
        api.post("certificates", {"kind": "tax"})
    with django_assert_max_num_queries(6):
        assert len(api.get("certificates").json()["items"]) == 5
