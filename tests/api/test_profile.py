"""me, me/address, me/phone, me/email, me/bank-account, me/changes (API.md, "Member")."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from assure.members.models import Member, ProfileChange
from assure.notifications.models import OutboxMessage
from tests.identity.helpers import otp_in
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ME_KEYS = {
    "id",
    "nir",
    "given_names",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "address",
    "bank_account",
    "beneficiaries",
    "coverage",
}
NEW_IBAN = "FR1420041010050500013M02606"
BANK = {"iban": NEW_IBAN, "bic": "PSSTFRPPLIL", "holder": "Zoé Martin"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member() -> Member:
    member = MemberFactory(
        given_names="Zoé",
        birth_name="MARTIN",
        usual_name="DURAND",
        email="zoe@example.org",
        exemptions=[{"kind": "ald", "start": "2019-04-01", "end": None}],
    )
    BeneficiaryFactory(member=member, given_names="Léa", birth_name="MARTIN")
    BeneficiaryFactory(member=member, active=False)
    return member


class Api:
    def __init__(self, client, member):
        account = Account.objects.create(
            member=member, secret_code_hash="x", must_change_code=False
        )
        token = app_tokens_issue(account=account, device_label="Téléphone").access_token
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path):
        return self.client.get(f"/api/v1/{path}", **self.headers)

    def send(self, method, path, body):
        return getattr(self.client, method)(
            f"/api/v1/{path}", json.dumps(body), content_type="application/json", **self.headers
        )


@pytest.fixture
def api(client, member):
    return Api(client, member)


def test_every_endpoint_needs_a_token(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me/changes").status_code == 401
    for path in ("me/address", "me/phone"):
        assert (
            client.patch(f"/api/v1/{path}", "{}", content_type="application/json").status_code
            == 401
        )
    for path in ("me/email", "me/bank-account"):
        assert (
            client.post(f"/api/v1/{path}", "{}", content_type="application/json").status_code == 401
        )


def test_me_is_exactly_as_api_md_says(api, member):
    data = api.get("me").json()
    assert set(data) == ME_KEYS
    assert data["id"] == member.pk
    assert data["nir"] == member.nir[:5] + "••••••••" + member.nir[-2:]
    assert (data["given_names"], data["family_name"]) == ("Zoé", "DURAND")
    assert data["birth_date"] == "1985-05-14"
    assert data["email"] == "zoe@example.org"
    assert data["phone"] == "0601020304"
    assert data["address"] == {
        "line1": "12 rue des Lilas",
        "line2": None,
        "postal_code": "75014",
        "city": "Paris",
        "country": "FR",
    }
    assert data["bank_account"] == {
        "iban_masked": "FR76 •••• •••• •••• •••• •••• 189",
        "holder": "Camille Dupont",
    }
    (child,) = data["beneficiaries"]
    assert set(child) == {"id", "given_names", "family_name", "birth_date", "relation"}
    assert (child["given_names"], child["relation"]) == ("Léa", "child")
    assert data["coverage"] == {
        "start": "2010-01-01",
        "end": None,
        "exemptions": [{"kind": "ald", "start": "2019-04-01", "end": None}],
    }


def test_me_query_count_is_fixed(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert api.get("me").status_code == 200


def test_patch_address_answers_me(api, member):
    response = api.send(
        "patch",
        "me/address",
        {"line1": "5 avenue Foch", "postal_code": "69006", "city": "Lyon"},
    )
    assert response.status_code == 200
    assert response.json()["address"]["city"] == "Lyon"
    assert set(response.json()) == ME_KEYS
    member.refresh_from_db()
    assert member.postal_code == "69006"


def test_patch_address_errors_are_problems_by_field(api):
    response = api.send(
        "patch", "me/address", {"line1": "x" * 39, "postal_code": "6900", "city": "Lyon"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert set(problem["errors"]) == {"line1", "postal_code"}


def test_patch_phone(api, member):
    response = api.send("patch", "me/phone", {"phone": "+33 7 11 22 33 44"})
    assert response.status_code == 200
    assert response.json()["phone"] == "+33711223344"
    assert api.send("patch", "me/phone", {"phone": "12"}).status_code == 400


def test_post_email_sends_the_link_and_changes_nothing_yet(api, member):
    response = api.send("post", "me/email", {"email": "zoe.new@example.net"})
    assert response.status_code == 202
    assert "detail" in response.json()
    member.refresh_from_db()
    assert member.email == "zoe@example.org"
    message = OutboxMessage.objects.get(template="profile_email_confirm")
    assert message.recipient == {"email": "zoe.new@example.net"}
    assert api.send("post", "me/email", {"email": "not-an-address"}).status_code == 400


def _challenge(api, member):
    response = api.send("post", "me/bank-account", BANK)
    assert response.status_code == 401
    problem = response.json()
    assert problem["code"] == "second_factor_required"
    assert problem["methods"] == ["email_otp"]
    message = OutboxMessage.objects.filter(template="profile_step_up_code").latest("id")
    return problem["challenge"], otp_in(message)


def test_bank_account_with_challenge_and_code(api, member):
    challenge, code = _challenge(api, member)
    member.refresh_from_db()
    assert member.iban != NEW_IBAN
    response = api.send("post", "me/bank-account", BANK | {"challenge": challenge, "code": code})
    assert response.status_code == 200
    assert response.json()["bank_account"] == {
        "iban_masked": "FR14 •••• •••• •••• •••• •••• 606",
        "holder": "Zoé Martin",
    }
    member.refresh_from_db()
    assert member.iban == NEW_IBAN
    assert OutboxMessage.objects.filter(template="profile_bank_account_changed").count() == 2


def test_bank_account_code_expires_after_5_minutes(api, member, clock):
    challenge, code = _challenge(api, member)
    clock.shift(dt.timedelta(minutes=5, seconds=1))
    response = api.send("post", "me/bank-account", BANK | {"challenge": challenge, "code": code})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_code"
    member.refresh_from_db()
    assert member.iban != NEW_IBAN


def test_bank_account_wrong_code_and_invalid_iban(api, member):
    challenge, code = _challenge(api, member)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = api.send("post", "me/bank-account", BANK | {"challenge": challenge, "code": wrong})
    assert response.json()["code"] == "invalid_code"
    bad = api.send("post", "me/bank-account", BANK | {"iban": NEW_IBAN[:-1] + "7"})
    assert bad.status_code == 400
    assert "iban" in bad.json()["errors"]
    # No code is sent for a change that could not be made anyway.
    assert OutboxMessage.objects.filter(template="profile_step_up_code").count() == 1


def test_another_members_challenge_does_not_work(client, api, member):
    challenge, code = _challenge(api, member)
    other = Api(client, MemberFactory())
    response = other.send("post", "me/bank-account", BANK | {"challenge": challenge, "code": code})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_code"


def test_changes_are_the_members_own_newest_first_and_paged(client, api, member, clock):
    other = Api(client, MemberFactory())
    other.send("patch", "me/phone", {"phone": "0799999999"})
    for number in ("0711111111", "0722222222", "0733333333"):
        api.send("patch", "me/phone", {"phone": number})
        clock.shift(dt.timedelta(minutes=1))
    page = api.get("me/changes?limit=2").json()
    assert [item["value"] for item in page["items"]] == ["0733333333", "0722222222"]
    assert set(page["items"][0]) == {"id", "kind", "status", "requested_at", "applied_at", "value"}
    rest = api.get(f"me/changes?limit=2&cursor={page['next']}").json()
    assert [item["value"] for item in rest["items"]] == ["0711111111"]
    assert rest["next"] is None
    assert ProfileChange.objects.count() == 4


def test_openapi_describes_the_endpoints(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert "get" in paths["/api/v1/me"]
    assert "patch" in paths["/api/v1/me/address"]
    assert "patch" in paths["/api/v1/me/phone"]
    assert "post" in paths["/api/v1/me/email"]
    assert "post" in paths["/api/v1/me/bank-account"]
    assert "get" in paths["/api/v1/me/changes"]
    me = document["components"]["schemas"]["MeOut"]
    assert set(me["properties"]) == ME_KEYS
