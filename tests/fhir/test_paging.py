"""ExplanationOfBenefit search: complete keyset paging both ways; a cost that follows the page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from assure.payments.models import Statement
from tests.fhir.conftest import parse
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import StatementFactory

pytestmark = pytest.mark.django_db


def _lines(member, count: int, *, beneficiary=None) -> list[Statement]:
    """Lines over a few care dates, many on the same day, so that ties are ordered by id."""
    return Statement.objects.bulk_create(
        StatementFactory.build(
            member=member,
            beneficiary=beneficiary,
            care_date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 9),
        )
        for i in range(count)
    )


def _follow(fhir, url: str):
    parts = urlsplit(url)
    assert parts.path.startswith("/fhir/r4/")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parse(fhir(parts.path.removeprefix("/fhir/r4/"), **params))


def _link(bundle: dict, relation: str) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


@pytest.fixture(autouse=True)
def _room_to_walk(settings):
    """Walking 103 pages one by one goes past a member's budget of requests per minute."""
    settings.API_THROTTLE_RATES = {
        **settings.API_THROTTLE_RATES,
        "address": "10000/60",
        "member": "10000/60",
    }


@pytest.mark.parametrize("count", [1, 7, 50])
def test_walking_next_then_previous_returns_every_line_once(fhir, member, count):
    child = BeneficiaryFactory(member=member)
    mine = _lines(member, 103)
    _lines(member, 11, beneficiary=child)  # the child's care: another Patient
    _lines(MemberFactory(), 13)  # someone else's
    expected = [str(s.pk) for s in sorted(mine, key=lambda s: (s.care_date, s.pk), reverse=True)]

    bundle = parse(fhir("ExplanationOfBenefit", patient=f"Patient/{member.pk}", _count=count))
    assert _link(bundle, "previous") is None
    pages = []
    while True:
        assert bundle["type"] == "searchset"
        assert bundle["total"] == len(mine)
        ids = [e["resource"]["id"] for e in bundle.get("entry", [])]
        assert 1 <= len(ids) <= count
        pages.append(ids)
        next_url = _link(bundle, "next")
        if next_url is None:
            break
        assert len(pages) <= len(mine), "paging does not end"
        bundle = _follow(fhir, next_url)
    seen = [i for page in pages for i in page]
    assert seen == expected  # newest first, none missing, none twice
    assert all(len(page) == count for page in pages[:-1])

    # And back from the last page to the first, page by page.
    back = [pages[-1]]
    while (previous := _link(bundle, "previous")) is not None:
        bundle = _follow(fhir, previous)
        back.append([e["resource"]["id"] for e in bundle["entry"]])
    assert back[::-1] == pages


def test_links_are_absolute_and_keep_the_search(fhir, member):
    _lines(member, 5)
    bundle = parse(fhir("ExplanationOfBenefit", patient=member.pk, _count=2))
    self_url = _link(bundle, "self")
    assert self_url.startswith("http://testserver/fhir/r4/ExplanationOfBenefit?")
    assert parse_qs(urlsplit(self_url).query) == {"patient": [str(member.pk)], "_count": ["2"]}
    next_query = parse_qs(urlsplit(_link(bundle, "next")).query)
    assert next_query["patient"] == [str(member.pk)]
    assert next_query["_count"] == ["2"]
    assert next_query["_cursor"][0]
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == (
            f"http://testserver/fhir/r4/ExplanationOfBenefit/{entry['resource']['id']}"
        )
        assert entry["search"] == {"mode": "match"}


def test_count_above_the_maximum_is_capped(fhir, member):
    _lines(member, 120)
    bundle = parse(fhir("ExplanationOfBenefit", patient=member.pk, _count=500))
    assert len(bundle["entry"]) == 100
    assert parse_qs(urlsplit(_link(bundle, "self")).query)["_count"] == ["100"]


def test_an_empty_history_is_an_empty_searchset(fhir, member):
    bundle = parse(fhir("ExplanationOfBenefit", patient=member.pk))
    assert bundle["total"] == 0
    assert "entry" not in bundle
    assert [link["relation"] for link in bundle["link"]] == ["self"]


def test_a_cursor_never_reaches_another_members_lines(fhir, member):
    """A cursor is a position, not a permission: the member's scope applies to every page."""
    _lines(member, 3)
    others = _lines(MemberFactory(), 30)
    bundle = parse(fhir("ExplanationOfBenefit", patient=member.pk, _count=1))
    walked = _follow(fhir, _link(bundle, "next"))
    ids = {e["resource"]["id"] for e in walked["entry"]}
    assert ids.isdisjoint({str(s.pk) for s in others})


def test_page_cost_does_not_grow_with_the_history(fhir, member, django_assert_max_num_queries):
    """A page is a fixed number of queries (token, budget, patient, page, count, neighbour),
    whether the history holds 30 lines or 3,000."""
    _lines(member, 3000)
    first = parse(fhir("ExplanationOfBenefit", patient=member.pk, _count=20))
    with django_assert_max_num_queries(8):
        page = _follow(fhir, _link(first, "next"))
    assert len(page["entry"]) == 20
    assert page["total"] == 3000
