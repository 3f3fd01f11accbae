"""FHIR R4 read access (API.md "FHIR R4", docs/fhir.md): resources, scoping, errors, throttling."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from assure.payments.models import Statement
from tests.fhir.conftest import FHIR_JSON, parse, token_for
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import StatementFactory

pytestmark = pytest.mark.django_db

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
LOCAL_ADJUDICATION = "urn:assure:fhir:adjudication"


def _outcome(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = parse(response)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["details"]["text"]
    return body


def _amounts(adjudications: list[dict]) -> dict[tuple[str, str], Decimal | None]:
    found = {}
    for a in adjudications:
        coding = a["category"]["coding"][0]
        value = a.get("amount", {}).get("value", a.get("value"))
        found[(coding["system"], coding["code"])] = (
            Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
        )
    return found


# --- CapabilityStatement --------------------------------------------------------------------------


def test_metadata_is_public_and_lists_exactly_what_is_served(client):
    response = client.get("/fhir/r4/metadata")
    assert response.status_code == 200
    body = parse(response)
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    assert body["format"] == ["json"]
    assert body["kind"] == "instance"
    served = {
        r["type"]: (
            sorted(i["code"] for i in r["interaction"]),
            sorted(p["name"] for p in r.get("searchParam", [])),
        )
        for r in body["rest"][0]["resource"]
    }
    assert served == {
        "Patient": (["read"], []),
        "Coverage": (["read", "search-type"], ["beneficiary"]),
        "ExplanationOfBenefit": (["read", "search-type"], ["patient"]),
    }


def test_every_listed_interaction_works_and_nothing_else_does(fhir, member):
    """What metadata lists answers 200; the same resources' other interactions and other
    resource types answer 404 not-supported."""
    line = StatementFactory(member=member)
    metadata = parse(fhir("metadata"))
    examples = {
        ("Patient", "read"): f"Patient/{member.pk}",
        ("Coverage", "read"): f"Coverage/amo-{member.pk}",
        ("ExplanationOfBenefit", "read"): f"ExplanationOfBenefit/{line.pk}",
    }
    search_values = {"beneficiary": f"Patient/{member.pk}", "patient": str(member.pk)}
    for resource in metadata["rest"][0]["resource"]:
        kind = resource["type"]
        codes = {i["code"] for i in resource["interaction"]}
        if "read" in codes:
            assert fhir(examples[(kind, "read")]).status_code == 200, kind
        if "search-type" in codes:
            params = {p["name"]: search_values[p["name"]] for p in resource["searchParam"]}
            response = fhir(kind, **params)
            assert response.status_code == 200, kind
            assert parse(response)["total"] >= 1
        else:
            _outcome(fhir(kind), 404, "not-supported")
    for path in ("Claim/1", "Organization", "Practitioner/1", "", "Patient/1/_history"):
        _outcome(fhir(path), 404, "not-supported")


# --- Authentication and scoping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "Patient/1",
        "Coverage?beneficiary=Patient/1",
        "ExplanationOfBenefit?patient=1",
        "Coverage/amo-1",
    ],
)
def test_without_or_with_a_bad_token_401(client, path):
    response = client.get(f"/fhir/r4/{path}")
    _outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = client.get(f"/fhir/r4/{path}", HTTP_AUTHORIZATION="Bearer forged.token")
    _outcome(bad, 401, "login")


def test_another_members_resources_answer_404_like_missing_ones(fhir, member):
    other = MemberFactory()
    other_child = BeneficiaryFactory(member=other)
    other_line = StatementFactory(member=other)
    missing = _outcome(fhir("Patient/999999"), 404, "not-found")
    attempts = [
        fhir(f"Patient/{other.pk}"),
        fhir(f"Patient/beneficiary-{other_child.pk}"),
        fhir("Coverage", beneficiary=f"Patient/{other.pk}"),
        fhir("Coverage", beneficiary=f"Patient/beneficiary-{other_child.pk}"),
        fhir(f"Coverage/amo-{other.pk}"),
        fhir(f"Coverage/amo-beneficiary-{other_child.pk}"),
        fhir(f"ExplanationOfBenefit/{other_line.pk}"),
        fhir("ExplanationOfBenefit", patient=other.pk),
        fhir("ExplanationOfBenefit", patient=f"Patient/{other.pk}"),
        fhir("ExplanationOfBenefit", patient=f"beneficiary-{other_child.pk}"),
        fhir("Patient/999999999999999999999999"),
        fhir("ExplanationOfBenefit/99999999999999999999999"),
    ]
    for response in attempts:
        assert json.loads(response.content) == missing
        assert response.status_code == 404


def test_the_other_member_reaches_their_own(client, member):
    """The same ids answer the member who owns them: the 404s above are about ownership."""
    other = MemberFactory()
    StatementFactory(member=other)
    token = token_for(other)
    response = client.get(
        "/fhir/r4/ExplanationOfBenefit",
        {"patient": other.pk},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert parse(response)["total"] == 1
    mine = client.get(f"/fhir/r4/Patient/{member.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert mine.status_code == 404


# --- Patient and Coverage -------------------------------------------------------------------------


def test_patient_of_the_member(fhir, member):
    member.usual_name = "MARTIN"
    member.save()
    body = parse(fhir(f"Patient/{member.pk}"))
    assert body["id"] == str(member.pk)
    assert body["gender"] == ("female" if member.sex == "F" else "male")
    assert body["birthDate"] == "1985-05-14"
    assert body["name"][0] == {"use": "official", "family": "MARTIN", "given": ["Camille", "Marie"]}
    assert body["name"][1] == {"use": "maiden", "family": member.birth_name}
    assert body["address"][0]["postalCode"] == "75014"
    assert {"system": "email", "value": member.email} in body["telecom"]
    assert "identifier" not in body  # no NIR: the API shows it only masked


def test_patient_of_a_beneficiary_reached_by_the_holder(fhir, member):
    child = BeneficiaryFactory(member=member, given_names="Léa Anne", relation="child")
    body = parse(fhir(f"Patient/beneficiary-{child.pk}"))
    assert body["id"] == f"beneficiary-{child.pk}"
    assert body["active"] is True
    assert body["name"][0]["given"] == ["Léa", "Anne"]
    assert "telecom" not in body
    child.active = False
    child.save()
    assert parse(fhir(f"Patient/beneficiary-{child.pk}"))["active"] is False


def test_a_bare_beneficiary_number_is_not_a_patient(fhir, member):
    """Member and beneficiary rows are numbered apart: a bare number only ever means the member."""
    children = BeneficiaryFactory.create_batch(2, member=member)
    child = next(c for c in children if c.pk != member.pk)
    _outcome(fhir(f"Patient/{child.pk}"), 404, "not-found")
    assert fhir(f"Patient/beneficiary-{child.pk}").status_code == 200


def test_coverage_of_the_member_with_complementary_and_exemption(fhir, member):
    member.complementary_name = "Mutuelle des Lilas"
    member.complementary_contract = "C-123"
    member.exemptions = [{"kind": "ald", "start": "2024-02-01", "end": None}]
    member.save()
    body = parse(fhir("Coverage", beneficiary=f"Patient/{member.pk}"))
    assert body["type"] == "searchset"
    assert body["total"] == 2
    assert body["link"][0]["relation"] == "self"
    amo, amc = (e["resource"] for e in body["entry"])
    assert amo["id"] == f"amo-{member.pk}"
    assert amo["status"] == "active"
    assert amo["beneficiary"]["reference"] == f"Patient/{member.pk}"
    assert amo["relationship"]["coding"][0]["code"] == "self"
    assert amo["period"] == {"start": "2010-01-01"}
    assert amo["class"][0]["value"] == "ald"
    assert "01/02/2024" in amo["class"][0]["name"]
    assert amo["order"] == 1
    assert amc["payor"][0]["display"] == "Mutuelle des Lilas"
    assert amc["subscriberId"] == "C-123"
    assert amc["order"] == 2
    assert body["entry"][0]["fullUrl"].endswith(f"/fhir/r4/Coverage/amo-{member.pk}")
    # The bare id works too, and each Coverage reads on its own.
    assert parse(fhir("Coverage", beneficiary=str(member.pk)))["total"] == 2
    assert parse(fhir(f"Coverage/amc-{member.pk}"))["payor"][0]["display"] == "Mutuelle des Lilas"


def test_coverage_of_a_beneficiary_and_an_ended_one(fhir, member):
    spouse = BeneficiaryFactory(member=member, relation="spouse")
    body = parse(fhir("Coverage", beneficiary=f"Patient/beneficiary-{spouse.pk}"))
    assert body["total"] == 1
    coverage = body["entry"][0]["resource"]
    assert coverage["subscriber"]["reference"] == f"Patient/{member.pk}"
    assert coverage["beneficiary"]["reference"] == f"Patient/beneficiary-{spouse.pk}"
    assert coverage["relationship"]["coding"][0]["code"] == "spouse"
    member.coverage_end = dt.date(2026, 6, 30)
    member.save()
    ended = parse(fhir(f"Coverage/amo-beneficiary-{spouse.pk}"))
    assert ended["status"] == "cancelled"
    assert ended["period"]["end"] == "2026-06-30"
    _outcome(fhir(f"Coverage/amc-beneficiary-{spouse.pk}"), 404, "not-found")


# --- ExplanationOfBenefit -------------------------------------------------------------------------


def test_explanation_of_benefit_of_a_paid_line(fhir, member):
    line = StatementFactory(
        member=member,
        amount_charged=Decimal("60.00"),
        base_amount=Decimal("30.00"),
        rate=70,
        reimbursed=Decimal("18.00"),
        flat_fee=Decimal("2.00"),
        deductible=Decimal("1.00"),
        paid_to=Statement.PaidTo.MEMBER,
        paid_on=dt.date(2026, 11, 6),
        payment_reference="PAY-1",
    )
    body = parse(fhir(f"ExplanationOfBenefit/{line.pk}"))
    assert body["id"] == str(line.pk)
    assert "meta" not in body  # no profile claimed (docs/fhir.md)
    assert body["status"] == "active"
    assert body["use"] == "claim"
    assert body["outcome"] == "complete"
    assert body["type"]["coding"][0]["code"] == "professional"
    assert body["type"]["text"] == "Consultation"
    assert body["patient"]["reference"] == f"Patient/{member.pk}"
    assert body["billablePeriod"] == {"start": "2026-10-20", "end": "2026-10-20"}
    assert body["created"] == "2026-10-20"
    assert body["provider"]["display"] == "Dr Martin"
    assert body["insurance"] == [
        {"focal": True, "coverage": {"reference": f"Coverage/amo-{member.pk}"}}
    ]
    item = body["item"][0]
    assert item["servicedDate"] == "2026-10-20"
    assert item["productOrService"]["coding"][0]["code"] == "G"
    assert _amounts(item["adjudication"]) == {
        (ADJUDICATION, "submitted"): Decimal("60.00"),
        (ADJUDICATION, "eligible"): Decimal("30.00"),
        (ADJUDICATION, "eligpercent"): Decimal("70.00"),
        (ADJUDICATION, "benefit"): Decimal("18.00"),
        (ADJUDICATION, "deductible"): Decimal("3.00"),
        (LOCAL_ADJUDICATION, "flat-fee"): Decimal("2.00"),
        (LOCAL_ADJUDICATION, "deductible"): Decimal("1.00"),
    }
    assert _amounts(body["total"]) == {
        (ADJUDICATION, "submitted"): Decimal("60.00"),
        (ADJUDICATION, "eligible"): Decimal("30.00"),
        (ADJUDICATION, "benefit"): Decimal("18.00"),
        (ADJUDICATION, "deductible"): Decimal("3.00"),
    }
    assert body["payment"]["date"] == "2026-11-06"
    assert Decimal(str(body["payment"]["amount"]["value"])) == Decimal("18.00")
    assert body["payment"]["amount"]["currency"] == "EUR"
    assert body["payment"]["identifier"] == {"value": "PAY-1"}
    assert body["payee"]["type"]["coding"][0]["code"] == "subscriber"
    assert body["payee"]["party"]["reference"] == f"Patient/{member.pk}"
    assert body["processNote"][0]["text"] == "Transmis à votre complémentaire santé."


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("received", "queued"), ("processing", "queued"), ("rejected", "error")],
)
def test_outcome_follows_the_status_and_no_payment_before_it_is_made(fhir, member, status, outcome):
    line = StatementFactory(
        member=member,
        status=status,
        paid_on=None,
        rejection_reason="Acte non remboursable" if status == "rejected" else None,
        paid_to=Statement.PaidTo.PROVIDER,
        provider="Pharmacie du Centre",
        category="pharmacy",
    )
    body = parse(fhir(f"ExplanationOfBenefit/{line.pk}"))
    assert body["outcome"] == outcome
    assert "payment" not in body
    assert body["type"]["coding"][0]["code"] == "pharmacy"
    assert body["payee"]["type"]["coding"][0]["code"] == "provider"
    assert body["payee"]["party"] == {"display": "Pharmacie du Centre"}
    if status == "rejected":
        assert body["disposition"] == "Refusé : Acte non remboursable"


def test_a_beneficiarys_line_belongs_to_their_patient(fhir, member):
    child = BeneficiaryFactory(member=member)
    mine = StatementFactory(member=member)
    theirs = StatementFactory(member=member, beneficiary=child, provider=None)
    own = parse(fhir("ExplanationOfBenefit", patient=member.pk))
    assert [e["resource"]["id"] for e in own["entry"]] == [str(mine.pk)]
    body = parse(fhir("ExplanationOfBenefit", patient=f"Patient/beneficiary-{child.pk}"))
    assert body["total"] == 1
    eob = body["entry"][0]["resource"]
    assert eob["id"] == str(theirs.pk)
    assert eob["patient"]["reference"] == f"Patient/beneficiary-{child.pk}"
    assert eob["insurance"][0]["coverage"]["reference"] == f"Coverage/amo-beneficiary-{child.pk}"
    assert eob["provider"]["display"] == "Professionnel de santé non précisé"
    # Paid to the member who holds the account, not to the child.
    assert eob["payee"]["party"]["reference"] == f"Patient/{member.pk}"


# --- Errors ---------------------------------------------------------------------------------------


def test_unsupported_and_invalid_search_parameters_answer_400(fhir, member):
    for params in (
        {"patient": member.pk, "status": "active"},
        {"patient": member.pk, "_sort": "created"},
        {"patient:Patient": member.pk},
        {"beneficiary": member.pk},
        {"patient": member.pk, "_format": "xml"},
    ):
        _outcome(fhir("ExplanationOfBenefit", **params), 400, "not-supported")
    _outcome(fhir("Coverage", beneficiary=member.pk, patient=member.pk), 400, "not-supported")
    _outcome(fhir(f"Patient/{member.pk}", _elements="name"), 400, "not-supported")
    for params in (
        {},
        {"patient": ""},
        {"patient": member.pk, "_count": "0"},
        {"patient": member.pk, "_count": "-1"},
        {"patient": member.pk, "_count": "ten"},
        {"patient": member.pk, "_cursor": "not a cursor"},
        {"patient": [member.pk, member.pk]},
    ):
        _outcome(fhir("ExplanationOfBenefit", **params), 400, "invalid")
    _outcome(fhir("Coverage"), 400, "invalid")
    assert fhir("ExplanationOfBenefit", patient=member.pk, _format="json").status_code == 200


def test_writes_answer_405(client, member):
    token = token_for(member)
    response = client.post(
        f"/fhir/r4/Patient/{member.pk}",
        data="{}",
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _outcome(response, 405, "not-supported")
    assert response["Allow"] == "GET, HEAD"


def test_english_on_request(fhir, member):
    line = StatementFactory(member=member)
    body = parse(fhir(f"ExplanationOfBenefit/{line.pk}", HTTP_ACCEPT_LANGUAGE="en"))
    assert body["disposition"] == "Paid"
    missing = fhir("Patient/0", HTTP_ACCEPT_LANGUAGE="en")
    assert parse(missing)["issue"][0]["details"]["text"] == "This resource does not exist."


def test_a_member_is_throttled_with_an_operation_outcome(fhir, member, settings):
    """The API's per-account budget: FHIR and JSON API requests count against the same one."""
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "member": "3/60"}
    assert fhir(f"Patient/{member.pk}").status_code == 200
    assert fhir("ExplanationOfBenefit", patient=member.pk).status_code == 200
    token = fhir.token
    assert fhir.client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    response = fhir(f"Patient/{member.pk}")
    _outcome(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Another member is not held back by this one's count.
    other = MemberFactory()
    allowed = fhir(f"Patient/{other.pk}", token=token_for(other))
    assert allowed.status_code == 200


def test_the_public_metadata_is_throttled_per_address(client, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "address": "2/60"}
    assert client.get("/fhir/r4/metadata").status_code == 200
    assert client.get("/fhir/r4/metadata").status_code == 200
    _outcome(client.get("/fhir/r4/metadata"), 429, "throttled")
    # Token guessing counts against the same address budget, before the token is read.
    _outcome(client.get("/fhir/r4/Patient/1", HTTP_AUTHORIZATION="Bearer x"), 429, "throttled")


def test_member_data_is_not_cached(fhir, member):
    response = fhir(f"Patient/{member.pk}")
    assert response["Cache-Control"] == "no-store"


def test_a_resource_the_r4_models_refuse_is_never_sent(fhir, member, monkeypatch, caplog):
    """The models check what is built: a broken mapping answers 500, not an invalid resource."""
    from assure.fhir import resources

    line = StatementFactory(member=member)
    real = resources.explanation_of_benefit_data

    def without_outcome(statement, *, member):
        data = real(statement, member=member)
        del data["outcome"]  # required in R4
        return data

    monkeypatch.setattr(resources, "explanation_of_benefit_data", without_outcome)
    for response in (
        fhir(f"ExplanationOfBenefit/{line.pk}"),
        fhir("ExplanationOfBenefit", patient=member.pk),
    ):
        body = _outcome(response, 500, "exception")
        assert "Dr Martin" not in json.dumps(body)
    assert "FHIR request failed" in caplog.text
