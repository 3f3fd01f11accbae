"""Mes attestations: asking for each kind, the list, downloads scoped to their owner."""

from __future__ import annotations

import pytest

from assure.documents.models import Certificate
from tests.documents.conftest import issue, page_shape
from tests.members.factories import MemberFactory
from tests.payments.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, member):
    sign_in(client, member)
    return client


def test_pages_need_a_signed_in_member(client, member):
    certificate = issue(member, "entitlement")
    for path in (
        "/mes-attestations/",
        "/mes-attestations/nouvelle/droits/",
        f"/mes-attestations/{certificate.pk}/telecharger/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/connexion/") or "suite=" in response["Location"]


def test_list_offers_every_kind_and_shows_issued_ones(member_client, member):
    certificate = issue(member, "entitlement")
    page = member_client.get("/mes-attestations/").content.decode()
    for slug in ("droits", "indemnites", "releve-fiscal", "certificat-provisoire"):
        assert f"/mes-attestations/nouvelle/{slug}/" in page
    assert certificate.display_reference in page
    assert f"/mes-attestations/{certificate.pk}/telecharger/" in page


def test_each_listed_certificate_says_what_when_and_for_whom(member_client, member):
    import datetime as dt

    import time_machine

    lea = member.beneficiaries.get()
    # 23:30 in UTC is already the next day in Paris: the member's day is shown.
    with time_machine.travel(dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC), tick=False):
        provisional = issue(member, "ehic_provisional", person=str(lea.pk))
    provisional.revoked_at = provisional.issued_at
    provisional.save()
    page = member_client.get("/mes-attestations/").content.decode()
    item = page.split(f"/mes-attestations/{provisional.pk}/telecharger/")[0].rsplit("<li", 1)[1]
    assert provisional.get_kind_display() in item
    assert f"— {lea.given_names}" in item
    assert "Annulée" in item
    assert "Délivrée le 26/11/2026, valable jusqu&#x27;au " in item
    assert provisional.display_reference in item


def test_entitlement_form_lists_beneficiaries_and_issues(member_client, member):
    lea = member.beneficiaries.get()
    page = member_client.get("/mes-attestations/nouvelle/droits/").content.decode()
    assert "Léa DUPONT" in page
    assert 'name="exemptions"' in page
    response = member_client.post(
        "/mes-attestations/nouvelle/droits/", {"beneficiaries": [str(lea.pk)]}
    )
    assert response.status_code == 302
    assert response["Location"] == "/mes-attestations/"
    certificate = Certificate.objects.get(member=member)
    assert certificate.parameters == {"beneficiaries": [lea.pk], "exemptions": False}
    listed = member_client.get("/mes-attestations/").content.decode()
    assert "Votre attestation est prête" in listed


def test_allowance_form_errors_keep_the_input(member_client):
    response = member_client.post(
        "/mes-attestations/nouvelle/indemnites/", {"start": "01/11/2026", "end": "01/10/2026"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert "La date de fin doit être après la date de début." in page
    assert 'value="01/11/2026"' in page
    assert not Certificate.objects.exists()


def test_tax_and_provisional_forms_issue(member_client, member):
    assert (
        member_client.post(
            "/mes-attestations/nouvelle/releve-fiscal/", {"year": "2025"}
        ).status_code
        == 302
    )
    lea = member.beneficiaries.get()
    response = member_client.post(
        "/mes-attestations/nouvelle/certificat-provisoire/", {"person": str(lea.pk)}
    )
    assert response.status_code == 302
    kinds = set(Certificate.objects.values_list("kind", flat=True))
    assert kinds == {"tax", "ehic_provisional"}


def test_a_refused_issue_is_shown_as_a_form_error(member_client, member):
    member.coverage_end = member.coverage_start
    member.save()
    response = member_client.post("/mes-attestations/nouvelle/droits/", {})
    assert response.status_code == 200
    assert "ne sont pas ouverts" in response.content.decode()


def test_unknown_kind_is_404(member_client):
    assert member_client.get("/mes-attestations/nouvelle/autre/").status_code == 404


def test_download_is_the_stored_pdf_as_an_attachment(member_client, member):
    certificate = issue(member, "entitlement")
    response = member_client.get(f"/mes-attestations/{certificate.pk}/telecharger/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content)
    with certificate.pdf.open("rb") as handle:
        assert body == handle.read()


def test_another_members_certificate_is_not_found_like_a_missing_one(member_client):
    foreign = issue(MemberFactory(), "entitlement")
    theirs_path = f"/mes-attestations/{foreign.pk}/telecharger/"
    missing_path = f"/mes-attestations/{foreign.pk + 1000}/telecharger/"
    theirs, missing = member_client.get(theirs_path), member_client.get(missing_path)
    assert theirs.status_code == missing.status_code == 404
    assert page_shape(theirs, theirs_path) == page_shape(missing, missing_path)


def test_list_queries_do_not_grow_with_the_certificates(member_client, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lea = member.beneficiaries.get()
    issue(member, "ehic_provisional", person=str(lea.pk))
    with CaptureQueriesContext(connection) as one:
        member_client.get("/mes-attestations/")
    for _ in range(4):
        issue(member, "ehic_provisional", person=str(lea.pk))
    with CaptureQueriesContext(connection) as five:
        member_client.get("/mes-attestations/")
    assert len(five) == len(one)


def test_certificate_items_tag_writes_the_included_template_markup():
    from django.template.loader import get_template
    from django.utils import translation

    from assure.documents.templatetags.documents import certificate_items
    from assure.documents.views import _Listed

    shown = [
        _Listed(
            kind="Attestation de droits",
            beneficiary="Léa <b> d'Arc & co",
            revoked=True,
            issued_on="26/11/2026",
            dates="Délivrée le 26/11/2026, valable jusqu'au 26/02/2027",
            reference='ABCD-<"EF">',
            url="/mes-attestations/7/telecharger/",
        ),
        _Listed("Relevé fiscal", "", False, "01/02/2026", "Délivrée le 01/02/2026", "X-1", "/m/8/"),
    ]
    template = get_template("documents/includes/certificate_items.html")
    for language in ("fr", "en"):
        with translation.override(language):
            for items in (shown, shown[1:], []):
                assert str(certificate_items(items)) == template.render({"certificates": items})
    assert "Léa &lt;b&gt; d&#x27;Arc &amp; co" in str(certificate_items(shown))
