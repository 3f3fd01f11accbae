"""The member's pages: scoped to the owner, French formatting, constant queries per page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from assure.payments.templatetags.payments_format import format_date, format_euros
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.conftest import sign_in
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory, StatementFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def _page_shape(response, pk):
    """The page without what differs on every answer (the masked CSRF token, the page's path)."""
    text = response.content.decode().replace(f"/mes-paiements/{pk}/", "/mes-paiements/ID/")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.56"), f"1{NBSP}234,56{NBSP}€"),
        (Decimal("19"), f"19,00{NBSP}€"),
        (Decimal("0.5"), f"0,50{NBSP}€"),
        (Decimal("1234567.891"), f"1{NBSP}234{NBSP}567,89{NBSP}€"),
        (Decimal("-2.00"), f"-2,00{NBSP}€"),
        ("57.00", f"57,00{NBSP}€"),
        (None, ""),
        ("abc", ""),
    ],
)
def test_euros(value, text):
    assert format_euros(value) == text


def test_dates():
    assert format_date(dt.date(2026, 11, 6)) == "06/11/2026"
    assert format_date(None) == ""


def test_pages_ask_anonymous_visitors_to_sign_in(client):
    for path in (
        "/mes-paiements/",
        "/mes-paiements/1/",
        "/mes-indemnites/",
        "/mes-paiements/export.csv",
        "/mes-paiements/export.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/connexion/")


def test_home_is_public_for_anonymous_and_accueil_for_members(client, member):
    public = client.get("/")
    assert public.status_code == 200
    assert "Derniers paiements" not in public.content.decode()
    sign_in(client, member)
    page = client.get("/").content.decode()
    assert "Bonjour Zoé Anne" in page
    assert "Derniers paiements" in page


def test_accueil_shows_payments_caps_chart_and_next_allowance(
    member_client, member, django_assert_max_num_queries
):
    for i in range(15):
        StatementFactory(member=member, care_date=dt.date(2026, 10, 1) + dt.timedelta(days=i))
    StatementFactory(
        member=member,
        status="processing",
        paid_on=None,
        label="Kinésithérapie",
        care_date=dt.date(2026, 11, 20),
        received_on=dt.date(2026, 11, 21),
    )
    leave = SickLeaveFactory(member=member)
    AllowancePaymentFactory(sick_leave=leave)
    with django_assert_max_num_queries(12):
        response = member_client.get("/")
    page = response.content.decode()
    assert "Kinésithérapie" in page
    assert "31/10/2026" in page  # next allowance: 14 days after 17/10
    assert f"30,00{NBSP}€ retenus sur un plafond annuel de 50,00{NBSP}€" in page  # 15 times €2
    assert '<progress id="flat-fee-progress"' in page
    assert 'role="img"' in page
    assert "<title" in page
    assert f"285,00{NBSP}€" in page  # October's total in the chart's table
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )


def test_list_groups_by_payment_and_formats_in_french(member_client, member):
    for day in (18, 19, 20):
        StatementFactory(member=member, care_date=dt.date(2026, 10, day))
    page = member_client.get("/mes-paiements/").content.decode()
    assert f"Payé le 06/11/2026 sur votre compte : 57,00{NBSP}€" in page
    assert "20/10/2026" in page


def test_list_pages_by_cursor_with_constant_queries(
    member_client, member, django_assert_max_num_queries
):
    for i in range(45):
        StatementFactory(
            member=member,
            payment_reference=f"P{i // 3}",
            care_date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
        )
    with django_assert_max_num_queries(10):
        first = member_client.get("/mes-paiements/")
    content = first.content.decode()
    assert "Paiements plus anciens" in content
    cursor = first.context["next_cursor"]
    with django_assert_max_num_queries(10):
        second = member_client.get("/mes-paiements/", {"apres": cursor})
    first_ids = {s.pk for g in first.context["groups"] for s in g.lines}
    second_ids = {s.pk for g in second.context["groups"] for s in g.lines}
    assert len(first_ids) == 20
    assert len(second_ids) == 20
    assert not first_ids & second_ids
    assert member_client.get("/mes-paiements/", {"apres": "garbage!"}).status_code == 404


def test_list_filters_by_status_and_shows_form_errors(member_client, member):
    StatementFactory(member=member, label="Payée")
    StatementFactory(
        member=member,
        label="Refusée",
        status="rejected",
        paid_on=None,
        rejection_reason="Hors nomenclature",
    )
    page = member_client.get("/mes-paiements/", {"status": "rejected"}).content.decode()
    assert "Refusée" in page
    assert "Payée" not in page
    page = member_client.get("/mes-paiements/", {"start": "01/11/2026", "end": "01/10/2026"})
    assert "La date de fin doit être après la date de début." in page.content.decode()


def test_detail_shows_every_field_and_hides_other_members_lines(member_client, member):
    child = BeneficiaryFactory(member=member, given_names="Léo")
    line = StatementFactory(member=member, beneficiary=child)
    page = member_client.get(f"/mes-paiements/{line.pk}/").content.decode()
    for text in (
        "Léo",
        "20/10/2026",
        f"30,00{NBSP}€",
        "70 %",
        f"2,00{NBSP}€",
        f"19,00{NBSP}€",
        "06/11/2026",
        "PAY-2026-11-06",
        line.external_id,
        "Dr Martin",
        "Transmis à votre complémentaire",
    ):
        assert text in page, text

    other = StatementFactory(member=MemberFactory())
    theirs = member_client.get(f"/mes-paiements/{other.pk}/")
    missing = member_client.get("/mes-paiements/999999/")
    assert theirs.status_code == missing.status_code == 404
    assert _page_shape(theirs, other.pk) == _page_shape(missing, 999999)


def test_detail_of_a_rejected_line_gives_the_reason(member_client, member):
    line = StatementFactory(
        member=member, status="rejected", paid_on=None, rejection_reason="Acte non pris en charge"
    )
    page = member_client.get(f"/mes-paiements/{line.pk}/").content.decode()
    assert "Motif du refus" in page
    assert "Acte non pris en charge" in page


def test_csv_export_of_a_period(member_client, member):
    StatementFactory(member=member, care_date=dt.date(2026, 10, 20), label="=cmd|' /C calc'!A0")
    StatementFactory(member=member, care_date=dt.date(2026, 3, 1), label="Hors période")
    StatementFactory(label="Pas à moi")
    response = member_client.get(
        "/mes-paiements/export.csv", {"start": "01/10/2026", "end": "31/10/2026"}
    )
    assert response["Content-Disposition"].startswith("attachment")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Date des soins"
    assert len(rows) == 2
    assert rows[1][0] == "20/10/2026"
    assert rows[1][2].startswith("'=")  # never a formula
    assert rows[1][9] == "19,00"


def test_pdf_export(member_client, member):
    StatementFactory(member=member, label="Consultation de suivi")
    response = member_client.get("/mes-paiements/export.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Consultation de suivi" in text
    assert "Relevé de vos remboursements" in text


def test_allowances_page(member_client, member, django_assert_max_num_queries):
    leave = SickLeaveFactory(member=member)
    AllowancePaymentFactory(sick_leave=leave)
    AllowancePaymentFactory(
        sick_leave=leave,
        period_start=dt.date(2026, 10, 18),
        period_end=dt.date(2026, 10, 31),
        paid_to="employer",
        paid_on=dt.date(2026, 11, 7),
    )
    SickLeaveFactory(member=MemberFactory(), external_id="OTHER")
    with django_assert_max_num_queries(8):
        page = member_client.get("/mes-indemnites/").content.decode()
    assert "depuis le 01/10/2026 (en cours)" in page
    assert "14/11/2026" in page  # 14 days after 31/10
    assert f"541,68{NBSP}€" in page
    assert "à votre employeur" in page
    assert page.count('<h2 class="govuk-heading-m" id="leave-') == 1


def test_navigation_lists_the_payments_pages_for_members(member_client):
    page = member_client.get("/mes-paiements/").content.decode()
    assert 'href="/mes-paiements/"' in page
    assert 'aria-current="page"' in page


def test_pages_read_in_english_with_french_figures(member_client, member):
    StatementFactory(member=member)
    page = member_client.get("/mes-paiements/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "My payments" in page
    assert f"Paid on 06/11/2026 to your account: 19,00{NBSP}€" in page


def test_accueil_shows_unread_answers_and_a_payment_leads_to_a_prefilled_message(
    member_client, member
):
    from assure.identity.services import member_actor
    from assure.messaging.services import thread_create

    thread = thread_create(
        actor=member_actor(member),
        member=member,
        subject_code="remboursements",
        body="Où en est mon remboursement ?",
    )
    assert "nouvelle réponse" not in member_client.get("/").content.decode()
    thread.unread_by_member = True
    thread.save(update_fields=["unread_by_member"])
    assert "Vous avez 1 nouvelle réponse" in member_client.get("/").content.decode()

    line = StatementFactory(member=member)
    detail = member_client.get(f"/mes-paiements/{line.pk}/").content.decode()
    link = re.search(r'href="(/ma-messagerie/nouveau/\?[^"]+)"', detail)
    assert link is not None
    form = member_client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert line.payment_reference in form
