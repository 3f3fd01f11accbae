"""A member with an app access token, and a client that reads /fhir/r4/ with it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from fhir.resources.R4B import get_fhir_model_class

from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from tests.members.factories import MemberFactory

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
FHIR_JSON = "application/fhir+json"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def token_for(member) -> str:
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    return app_tokens_issue(account=account, device_label="Téléphone").access_token


def parse(response):
    """The body read back with the R4 model of its resourceType: a body the models refuse fails."""
    assert response["Content-Type"] == FHIR_JSON
    body = json.loads(response.content)
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry", []):
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert type(model).__name__ == body["resourceType"]
    return body


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def fhir(client, member):
    token = token_for(member)

    def get(path, token=token, **params):
        headers = {k: params.pop(k) for k in list(params) if k.startswith("HTTP_")}
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.get(f"/fhir/r4/{path}", params, **headers)

    get.token = token
    get.client = client
    return get
