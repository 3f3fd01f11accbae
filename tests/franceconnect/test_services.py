"""Linking rules: the identity pivot against the register, links, their removal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password

from assure.core.exceptions import NotFound
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.franceconnect import services
from assure.franceconnect.exceptions import AccountClosed
from assure.franceconnect.models import FranceConnectLink
from assure.franceconnect.services import LoginFacts, Pivot, fold, pivot_matches
from assure.identity.models import Account
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ISSUER = "https://fc.example.test/api/v2"


def pivot(**changes: str) -> Pivot:
    values = {
        "given_name": "Anne-Sophie Éloïse",
        "family_name": "D'ARTAGNAN-LÉVÊQUE",
        "birthdate": "1988-01-01",
        "gender": "female",
        "birthplace": "33063",
        "birthcountry": "99100",
    }
    values.update(changes)
    return Pivot(**values)


def member(**changes):
    values = {
        "birth_name": "d\u2019Artagnan-Leveque",
        "given_names": "anne-sophie  eloise",
        "sex": "F",
        "birth_date": dt.date(1988, 1, 1),
        "birth_place_insee": "33063",
        "birth_country_insee": "99100",
    }
    values.update(changes)
    return MemberFactory(**values)


def test_fold_removes_case_accents_and_extra_spaces():
    assert fold("  Élodie   Marie-Ève ") == "ELODIE MARIE-EVE"
    assert fold("D\u2019ARTAGNAN") == fold("d'Artagnan")


def test_the_pivot_matches_after_folding_case_accents_and_apostrophes():
    assert pivot_matches(member(), pivot())


@pytest.mark.parametrize(
    "changes",
    [
        {"family_name": "DARTAGNAN-LEVEQUE"},
        {"given_name": "Anne-Sophie"},
        {"gender": "male"},
        {"birthdate": "1988-01-02"},
        {"birthplace": "33064"},
        {"birthcountry": "99134", "birthplace": ""},
    ],
)
def test_any_field_that_differs_is_no_match(changes):
    assert not pivot_matches(member(), pivot(**changes))


def test_corsican_birthplaces_compare_letters_whatever_their_case():
    corsican = member(birth_place_insee="2b033")
    assert pivot_matches(corsican, pivot(birthplace="2B033"))
    assert not pivot_matches(corsican, pivot(birthplace="2A033"))


@pytest.mark.parametrize(
    ("place", "country"), [(None, "99134"), ("", "99134"), ("99134", None), ("99134", "99134")]
)
def test_born_abroad_matches_an_empty_birthplace_with_the_country(place, country):
    abroad = member(birth_place_insee=place, birth_country_insee=country)
    assert pivot_matches(abroad, pivot(birthplace="", birthcountry="99134"))
    assert not pivot_matches(abroad, pivot(birthplace="", birthcountry="99109"))


def test_login_facts_keep_acr_amr_and_auth_time():
    facts = LoginFacts.from_claims(
        {"acr": "eidas1", "amr": ["pwd", "mfa"], "auth_time": 1_700_000_000}
    )
    assert facts.acr == "eidas1"
    assert facts.amr == ["pwd", "mfa"]
    assert facts.auth_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)


def test_one_match_with_an_account_links_it():
    account = Account.objects.create(member=member(), secret_code_hash=make_password("x"))
    outcome = services.franceconnect_login(
        issuer=ISSUER, sub="s1", pivot=pivot(), facts=LoginFacts(acr="eidas1", amr=["pwd"])
    )
    assert outcome.kind == "matched"
    assert outcome.account == account
    link = FranceConnectLink.objects.get()
    assert (link.issuer, link.sub, link.last_amr) == (ISSUER, "s1", ["pwd"])
    again = services.franceconnect_login(issuer=ISSUER, sub="s1", pivot=pivot(), facts=LoginFacts())
    assert again.kind == "linked"


def test_the_same_sub_from_another_issuer_is_another_identity():
    Account.objects.create(member=member(), secret_code_hash=make_password("x"))
    services.franceconnect_login(issuer=ISSUER, sub="s1", pivot=pivot(), facts=LoginFacts())
    other = services.franceconnect_login(
        issuer="https://other.example/api/v2",
        sub="s1",
        pivot=pivot(family_name="X"),
        facts=LoginFacts(),
    )
    assert other.kind == "needs_proof"


def test_one_match_without_account_creates_it():
    registered = member()
    outcome = services.franceconnect_login(
        issuer=ISSUER, sub="s2", pivot=pivot(), facts=LoginFacts()
    )
    assert outcome.kind == "created"
    assert outcome.account is not None
    assert outcome.account.member == registered
    assert not outcome.account.provisional_codes.exists()
    assert AuditEvent.objects.filter(
        action="identity.account_created", reason="franceconnect"
    ).exists()


def test_two_matches_or_none_need_proof_and_link_nothing():
    member()
    member()
    assert (
        services.franceconnect_login(
            issuer=ISSUER, sub="s3", pivot=pivot(), facts=LoginFacts()
        ).kind
        == "needs_proof"
    )
    assert (
        services.franceconnect_login(
            issuer=ISSUER, sub="s4", pivot=pivot(birthdate="1950-01-01"), facts=LoginFacts()
        ).kind
        == "needs_proof"
    )
    assert not FranceConnectLink.objects.exists()
    assert AuditEvent.objects.filter(action="franceconnect.ambiguous").exists()
    assert AuditEvent.objects.filter(action="franceconnect.no_match").exists()


def test_an_e_mail_alone_never_links():
    registered = member(email="same@example.org")
    Account.objects.create(member=registered, secret_code_hash=make_password("x"))
    outcome = services.franceconnect_login(
        issuer=ISSUER,
        sub="s5",
        pivot=pivot(family_name="SOMEONE ELSE", email="same@example.org"),
        facts=LoginFacts(),
    )
    assert outcome.kind == "needs_proof"


def test_a_closed_account_is_not_logged_in():
    Account.objects.create(member=member(), status=Account.Status.TERMINATED)
    with pytest.raises(AccountClosed):
        services.franceconnect_login(issuer=ISSUER, sub="s6", pivot=pivot(), facts=LoginFacts())


def test_a_member_removes_their_link_and_only_theirs():
    mine = Account.objects.create(member=member(), secret_code_hash=make_password("x"))
    theirs = Account.objects.create(member=MemberFactory(), secret_code_hash=make_password("x"))
    services.franceconnect_login(issuer=ISSUER, sub="s7", pivot=pivot(), facts=LoginFacts())
    other_link = FranceConnectLink.objects.create(account=theirs, issuer=ISSUER, sub="s8")
    actor = Actor(kind="member", id=str(mine.member_id), display="m")
    with pytest.raises(NotFound):
        services.franceconnect_link_remove(account=mine, link_id=other_link.pk, actor=actor)
    link = FranceConnectLink.objects.get(account=mine)
    services.franceconnect_link_remove(account=mine, link_id=link.pk, actor=actor)
    assert list(FranceConnectLink.objects.all()) == [other_link]
    assert AuditEvent.objects.filter(
        action="franceconnect.unlinked", member_id=mine.member_id
    ).exists()
