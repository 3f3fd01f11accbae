"""The public verification: what a valid reference shows, one identical answer for all the rest."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from assure.core.services import Actor
from assure.documents.references import reference_new
from assure.documents.selectors import certificate_verify
from assure.documents.services import certificate_revoke
from tests.documents.conftest import issue, page_shape

pytestmark = pytest.mark.django_db


def test_a_valid_reference_shows_only_kind_dates_initials_and_birth_year(member, client):
    certificate = issue(member, "entitlement")
    response = client.get(f"/verifier/{certificate.display_reference}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Document valide" in page
    assert "Attestation de droits" in page
    assert "26/11/2026" in page
    assert "26/11/2027" in page
    assert "Z. N. 1985" in page
    assert "DIAYE" not in page
    assert "Zoé" not in page
    assert member.nir not in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_typed_references_are_read_leniently(member):
    certificate = issue(member, "entitlement")
    assert certificate_verify(certificate.display_reference.lower()) is not None
    assert certificate_verify(certificate.reference) is not None


def _not_valid_page(client, reference: str) -> tuple[int, bytes]:
    path = f"/verifier/{reference}/"
    response = client.get(path)
    return response.status_code, page_shape(response, path)


def test_unknown_revoked_expired_and_malformed_look_exactly_alike(member, client):
    revoked = issue(member, "entitlement")
    certificate_revoke(actor=Actor.system(), certificate=revoked, reason="erreur de saisie")
    expiring = issue(member, "ehic_provisional")
    unknown = reference_new()
    with time_machine.travel(dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        answers = {
            name: _not_valid_page(client, reference)
            for name, reference in {
                "unknown": unknown,
                "revoked": revoked.display_reference,
                "expired": expiring.display_reference,
                "malformed": "not-a-reference",
                "too_long": "A" * 300,
            }.items()
        }
    assert {status for status, _body in answers.values()} == {200}
    bodies = {body for _status, body in answers.values()}
    assert len(bodies) == 1, "the answers differ"
    assert "Ce document n'est pas valide." in bodies.pop().decode()


def test_expiry_is_the_day_after_the_last_valid_day(member):
    certificate = issue(member, "ehic_provisional")  # valid until 26/02/2027
    with time_machine.travel(dt.datetime(2027, 2, 26, 20, 0, tzinfo=dt.UTC), tick=False):
        assert certificate_verify(certificate.reference) is not None
    with time_machine.travel(dt.datetime(2027, 2, 27, 10, 0, tzinfo=dt.UTC), tick=False):
        assert certificate_verify(certificate.reference) is None


def test_revocation_is_recorded_once(member):
    from assure.core.models import AuditEvent

    certificate = issue(member, "entitlement")
    certificate_revoke(actor=Actor.system(), certificate=certificate, reason="demande du membre")
    certificate_revoke(actor=Actor.system(), certificate=certificate, reason="encore")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revoked_reason == "demande du membre"
    assert AuditEvent.objects.filter(action="certificate.revoked").count() == 1


@override_settings(DOCUMENTS_VERIFY_PER_ADDRESS=3)
def test_verification_is_throttled_per_address(member, client):
    from django.core.cache import cache

    cache.clear()
    certificate = issue(member, "entitlement")
    for _ in range(3):
        assert client.get(f"/verifier/{reference_new()}/").status_code == 200
    response = client.get(f"/verifier/{certificate.display_reference}/")
    assert response.status_code == 429
    assert "Document valide" not in response.content.decode()
    assert response["Retry-After"]
    other = client.get(f"/verifier/{certificate.display_reference}/", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_a_reference_read_on_paper_can_be_typed(member, client):
    certificate = issue(member, "entitlement")
    assert 'name="reference"' in client.get("/verifier/").content.decode()
    typed = certificate.display_reference.lower().replace("-", " ")
    response = client.get("/verifier/", {"reference": typed})
    assert response.status_code == 302
    assert client.get(response["Location"]).content.decode().count("Document valide") == 1
    empty = client.get("/verifier/", {"reference": ""})
    assert empty.status_code == 200
    assert "govuk-error-summary" in empty.content.decode()
