"""What a page of Mes paiements costs follows the page, not the length of the member's history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from assure.payments.forms import StatementFilterForm
from assure.payments.models import Statement
from assure.payments.selectors import statement_groups
from assure.payments.templatetags.payments_format import payment_groups, statement_table
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import StatementFactory

pytestmark = pytest.mark.django_db


def _history(member, count: int) -> None:
    Statement.objects.bulk_create(
        StatementFactory.build(
            member=member,
            care_date=dt.date(2026, 11, 1) - dt.timedelta(days=i),
            payment_reference=f"PAY-{i // 3}",
        )
        for i in range(count)
    )


def _statement_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/mes-paiements/").status_code == 200
    return [q["sql"] for q in queries.captured_queries if "payments_statement" in q["sql"]]


def test_first_page_reads_the_page_not_the_history(member_client, member):
    _history(member, 5)
    short = _statement_queries(member_client)
    _history(member, 200)
    long = _statement_queries(member_client)
    # The same queries whatever the history: one page read (20 lines and one to know whether
    # more follow), one sum over the page's own payment references.
    assert len(long) == len(short) == 2
    page, totals = long
    assert "LIMIT 21" in page
    assert "ORDER BY" in page
    assert "payment_reference" in totals
    assert "IN (" in totals


def test_statement_table_tag_writes_the_included_template_markup(member):
    child = BeneficiaryFactory(member=member, given_names="Léo <b>&")
    StatementFactory(member=member)
    StatementFactory(member=member, beneficiary=child, label='Radio <"poumons"> d\'Anaïs & co')
    StatementFactory(member=member, status="rejected", paid_on=None)
    StatementFactory(member=member, status="processing", paid_on=None, beneficiary=child)
    lines = list(Statement.objects.filter(member=member).select_related("beneficiary"))
    template = get_template("payments/includes/statement_table.html")
    for language in ("fr", "en"):
        with translation.override(language):
            for shown in (lines, lines[:1], []):
                context = {"lines": shown, "caption": "Lignes <de> ce paiement"}
                assert str(statement_table(shown, context["caption"])) == template.render(context)


def test_payment_groups_tag_writes_the_included_template_markup(member):
    child = BeneficiaryFactory(member=member, given_names="Léo <b>&")
    StatementFactory(member=member, payment_reference="PAY-1", paid_to="member")
    StatementFactory(member=member, payment_reference="PAY-1", beneficiary=child)
    StatementFactory(member=member, payment_reference="PAY-<2>", paid_to="provider")
    StatementFactory(member=member, payment_reference=None)
    StatementFactory(member=member, status="rejected", paid_on=None, payment_reference=None)
    StatementFactory(member=member, status="processing", paid_on=None, beneficiary=child)
    lines = list(Statement.objects.filter(member=member).select_related("beneficiary"))
    groups = statement_groups(member=member, items=lines)
    assert {bool(g.reference) for g in groups} == {True, False}
    assert {g.paid_to for g in groups if g.reference} == {"member", "provider"}
    template = get_template("payments/includes/payment_groups.html")
    for language in ("fr", "en"):
        with translation.override(language):
            for shown in (groups, groups[:1], groups[-2:], []):
                expected = template.render({"groups": shown})
                assert str(payment_groups(shown)) == expected
            whole = str(payment_groups(groups))
            assert ("Payé le" in whole) == (language == "fr")
            assert ("Paid on" in whole) == (language == "en")
            assert "Léo &lt;b&gt;&amp;" in whole
            assert "PAY-" not in whole  # references are grouped on, not shown


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"status": "paid", "start": "31/02/2026"},
        {"status": "paid", "start": "01/01/2026", "end": "2026-06-30", "category": "pharmacy"},
        {"beneficiary": "self", "status": "rejected"},
        {"category": "<script>", "start": "01/01/2026"},
    ],
)
def test_filter_form_markup_is_the_fields_markup(member, data):
    BeneficiaryFactory(member=member, given_names="Léo")
    for language in ("fr", "en", "fr"):
        with translation.override(language):
            form = StatementFilterForm(data, member=member)
            fresh = StatementFilterForm(data, member=member)
            expected = "\n      ".join(str(fresh[name].as_field_group()) for name in fresh.fields)
            assert form.field_groups() == expected
            assert "Léo" in form.field_groups()


def test_kept_people_markup_follows_each_members_names(member):
    BeneficiaryFactory(member=member, given_names="Léo")
    other = MemberFactory()
    BeneficiaryFactory(member=other, given_names="Inès")
    for _ in range(2):
        mine = StatementFilterForm(None, member=member).field_groups()
        theirs = StatementFilterForm(None, member=other).field_groups()
        assert "Léo" in mine
        assert "Inès" not in mine
        assert "Inès" in theirs
        assert "Léo" not in theirs
    BeneficiaryFactory(member=member, given_names="Zoé")
    assert "Zoé" in StatementFilterForm(None, member=member).field_groups()


def test_kept_markup_follows_the_value_chosen(member):
    for _ in range(2):
        paid = StatementFilterForm({"status": "paid"}, member=member).field_groups()
        rejected = StatementFilterForm({"status": "rejected"}, member=member).field_groups()
        assert '<option value="paid" selected>' in paid
        assert '<option value="rejected" selected>' not in paid
        assert '<option value="rejected" selected>' in rejected
        dated = StatementFilterForm({"start": "02/03/2026"}, member=member).field_groups()
        assert 'value="02/03/2026"' in dated
        assert 'value="02/03/2026"' not in paid
