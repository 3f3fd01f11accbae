"""A read compiled once gives the same objects as the queryset it was made from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assure.core.compiled import CompiledRead
from assure.identity import selectors
from assure.identity.models import MemberSession
from tests.identity.helpers import active_account
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _query(session_id: int, kind: str):
    return MemberSession.objects.select_related("account__member").filter(
        pk=session_id, kind=kind, ended_at=None
    )[:1]


def _fields(obj) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _session(kind: str = MemberSession.Kind.APP) -> MemberSession:
    member = MemberFactory(
        given_names="Zoé Anne",
        birth_name="N'DIAYE",
        birth_date=dt.date(1985, 5, 14),
        email="zoe@example.org",
    )
    account = active_account(member, email_verified=True, activated_at=timezone.now())
    return MemberSession.objects.create(account=account, kind=kind, device_label="Téléphone")


def test_same_objects_as_the_queryset():
    session = _session()
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))

    expected = next(iter(_query(session.pk, "app")))
    got = read.first(session.pk, "app")

    assert got is not None
    assert _fields(got) == _fields(expected)
    assert _fields(got.account) == _fields(expected.account)
    assert _fields(got.account.member) == _fields(expected.account.member)
    # Typed as Django types them: datetimes aware, dates as dates, booleans as booleans.
    assert isinstance(got.created_at, dt.datetime)
    assert got.created_at.tzinfo is not None
    assert got.account.member.birth_date == dt.date(1985, 5, 14)
    assert got.account.email_verified is True
    assert got._state.adding is False
    assert got._state.db == "default"


def test_one_query_and_the_related_objects_come_with_it():
    session = _session()
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))
    read.first(session.pk, "app")  # compiled here

    with CaptureQueriesContext(connection) as queries:
        got = read.first(session.pk, "app")
        assert got is not None
        assert got.account.member.given_names == "Zoé Anne"
    assert len(queries) == 1


def test_other_values_and_nothing_found():
    first, second = _session(), _session(MemberSession.Kind.WEB)
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))

    assert read.first(first.pk, "app").pk == first.pk
    assert read.first(second.pk, "web").pk == second.pk
    # The filters still hold: wrong kind, missing key, ended session.
    assert read.first(second.pk, "app") is None
    assert read.first(second.pk + 1000, "web") is None
    MemberSession.objects.filter(pk=first.pk).update(ended_at=timezone.now())
    assert read.first(first.pk, "app") is None


def test_ambiguous_stand_ins_fall_back_to_the_orm():
    session = _session()

    def twice(session_id: int, kind: str):
        # The same argument twice among the parameters: its place cannot be known.
        return MemberSession.objects.filter(pk__gte=session_id, pk__lte=session_id, kind=kind)[:1]

    read = CompiledRead(MemberSession, twice, stand_ins=(-1, "-"))
    got = read.first(session.pk, "app")
    assert got is not None
    assert got.pk == session.pk
    assert read.first(session.pk, "web") is None
    assert read._plans["default"] is None  # read through the ORM


def test_live_session_takes_only_integer_keys():
    session = _session()
    assert selectors.live_session(session.pk, MemberSession.Kind.APP).pk == session.pk
    assert selectors.live_session(str(session.pk), MemberSession.Kind.APP) is None
    assert selectors.live_session(None, MemberSession.Kind.APP) is None
    assert selectors.live_session(True, MemberSession.Kind.APP) is None


def test_dates_and_lists_as_the_queryset_gives_them():
    from assure.members.models import Member

    for year in (1950, 1985, 2001):
        MemberFactory(birth_date=dt.date(year, 5, 14))

    def born_since(day: dt.date):
        return Member.objects.filter(birth_date__gte=day).order_by("-birth_date", "pk")[:10]

    read = CompiledRead(Member, born_since, stand_ins=(dt.date(1000, 1, 1),))
    got = read.all(dt.date(1980, 1, 1))
    assert read._plans["default"] is not None  # the date found its place: compiled, not the ORM
    assert [m.birth_date.year for m in got] == [2001, 1985]
    assert [_fields(m) for m in got] == [_fields(m) for m in born_since(dt.date(1980, 1, 1))]
    assert read.all(dt.date(2010, 1, 1)) == []
    assert read.first(dt.date(1900, 1, 1)).birth_date.year == 2001


def test_the_reads_of_every_request_are_kept_compiled():
    # If a stand-in could not be found among a read's parameters it would silently go back to
    # the ORM (right, but slow): each of these must find all of its own on this database.
    from django.utils import timezone as tz

    from assure.core import sessions
    from assure.payments import selectors as payments

    session = _session()
    account = session.account
    selectors.live_session(session.pk, MemberSession.Kind.APP)
    selectors.account_for_nir(account.member.nir)
    selectors.known_device(account=account, device_hash="x" * 64, now=tz.now())
    payments.beneficiaries_for_member(member=account.member)
    payments.statement_list_for_member(member=account.member)
    payments.statement_latest_paid_for_member(member=account.member)
    payments.statement_pending_for_member(member=account.member)
    payments.deductible_totals_for_member(member=account.member, year=2026)
    payments.monthly_reimbursed_for_member(member=account.member)
    payments._allowance_payments.all(account.member.pk)
    payments.sick_leave_list_for_member(member=account.member)
    sessions.SessionStore(session_key="k" * 32).load()
    from assure.core.exceptions import NotFound
    from assure.documents import selectors as documents

    with pytest.raises(NotFound):
        documents.certificate_get_for_member(member=account.member, certificate_id=1)
    documents.beneficiaries_for_member(member=account.member)
    from assure.messaging import selectors as messaging

    assert messaging.thread_unread_count_for_member(member=account.member) == 0
    # Reads of some columns (only()) or with a file field: instances made by Django.
    partial = (selectors._known_device, documents._certificate_of_member)
    for read in (
        selectors._live_session,
        selectors._account_by_nir,
        selectors._known_device,
        payments._beneficiaries,
        payments._first_page_read(None, False, False, ""),
        payments._latest_paid,
        payments._pending,
        payments._withheld,
        payments._reimbursed_since,
        payments._sick_leaves,
        payments._allowance_payments,
        sessions._session_by_key,
        documents._certificate_of_member,
        documents._active_beneficiaries,
        messaging._unread_ids,
    ):
        plan = read._plans["default"]
        assert plan is not None, read._build.__name__
        # Whole rows become instances without Model.__init__ (the reads of some columns, and
        # of plain values, have no instance to make that way).
        assert plan.plain or plan.model is None or read in partial, read._build.__name__


def test_a_compiled_insert_writes_the_row_django_would():
    from django.db.models.signals import post_save

    from assure.core.compiled import CompiledInsert

    account = _session().account
    insert = CompiledInsert(MemberSession)
    insert.create(account=account, kind="web", device_label="warm-up")  # compiled here

    with CaptureQueriesContext(connection) as queries:
        made = insert.create(account=account, kind="app", device_label="Téléphone")
    assert len(queries) == 1
    assert made.pk is not None
    assert made._state.adding is False
    stored = MemberSession.objects.get(pk=made.pk)
    # Defaults and auto_now_add applied as by Model.save(): the row read back is the object.
    assert _fields(stored) == _fields(made)
    assert stored.created_at is not None
    assert stored.ended_at is None
    assert stored.end_reason == ""

    # A receiver connected later hears the save: the insert then goes through Django's save().
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=MemberSession)
    try:
        other = insert.create(account=account, kind="app", device_label="Ordinateur")
    finally:
        post_save.disconnect(receiver, sender=MemberSession)
    assert heard == [(other.pk, True)]


def test_a_key_out_of_range_finds_nothing_as_with_the_orm():
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))
    _session()
    assert read.first(2**63, "app") is None
    assert read.first(-(2**63) - 1, "app") is None
    assert read.all(10**30, "app") == []


def test_values_rows_are_those_of_the_queryset_with_their_types():
    from decimal import Decimal

    from assure.payments.models import Statement
    from tests.payments.factories import StatementFactory

    member = _session().account.member
    for amount in ("19.00", "0.10", "0.20", "1234.56"):
        StatementFactory(member=member, reimbursed=Decimal(amount), paid_on=dt.date(2026, 3, 4))
    StatementFactory(member=MemberFactory(), reimbursed=Decimal("99.00"))  # someone else's

    def build(member_id: int, since: dt.date):
        return (
            Statement.objects.filter(member_id=member_id, paid_on__gte=since)
            .values_list("paid_on", "reimbursed", "status")
            .order_by("reimbursed")
        )

    read = CompiledRead(Statement, build, stand_ins=(-1, dt.date(1000, 1, 1)))
    expected = [tuple(row) for row in build(member.pk, dt.date(2026, 1, 1))]
    got = read.tuples(member.pk, dt.date(2026, 1, 1))
    assert read._plans["default"] is not None
    assert got == expected
    assert [row[1] for row in got] == [Decimal(a) for a in ("0.10", "0.20", "19.00", "1234.56")]
    assert all(type(row[0]) is dt.date and type(row[1]) is Decimal for row in got)
    assert read.tuples(member.pk, dt.date(2027, 1, 1)) == []
    assert read.tuples(2**70, dt.date(2026, 1, 1)) == []
    with pytest.raises(TypeError):
        read.all(member.pk, dt.date(2026, 1, 1))


def _whole(obj) -> dict[str, object]:
    """Everything an instance holds, its state apart: what from_db and __init__ leave in it."""
    return {key: value for key, value in vars(obj).items() if key != "_state"}


def test_instances_made_without_init_hold_what_django_puts_in_them():
    session = _session()
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))
    got = read.first(session.pk, "app")
    assert read._plans["default"].plain  # the quick way was taken
    expected = next(iter(_query(session.pk, "app")))
    assert _whole(got) == _whole(expected)
    assert (got._state.adding, got._state.db) == (expected._state.adding, expected._state.db)
    assert got._state.fields_cache.keys() == expected._state.fields_cache.keys()
    assert got.account is got._state.fields_cache["account"]
    # The select_related() instances too, with the links Django sets both ways.
    assert read._plans["default"].related_plain
    for got_related, expected_related in (
        (got.account, expected.account),
        (got.account.member, expected.account.member),
    ):
        assert type(got_related) is type(expected_related)
        assert _whole(got_related) == _whole(expected_related)
        assert got_related._state.db == expected_related._state.db
        assert got_related._state.adding is False
        assert got_related._state.fields_cache.keys() == expected_related._state.fields_cache.keys()
    assert got.account.member.account is got.account
    # Changing a foreign key forgets the related object, as on any instance.
    got.account_id = got.account_id + 1
    assert "account" not in got._state.fields_cache


def test_a_model_listened_to_at_init_goes_through_django(settings):
    from django.db.models.signals import post_init

    session = _session()
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))
    seen = []

    def heard(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(heard, sender=MemberSession)
    try:
        assert read.first(session.pk, "app").pk == session.pk
    finally:
        post_init.disconnect(heard, sender=MemberSession)
    assert seen == [session.pk]


def test_a_related_model_listened_to_at_init_goes_through_django():
    from django.db.models.signals import post_init

    from assure.members.models import Member

    session = _session()
    read = CompiledRead(MemberSession, _query, stand_ins=(-1, "-"))
    read.first(session.pk, "app")  # compiled here
    seen = []

    def heard(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(heard, sender=Member)
    try:
        got = read.first(session.pk, "app")
    finally:
        post_init.disconnect(heard, sender=Member)
    assert seen == [session.account.member_id]
    assert got.account.member.pk == session.account.member_id


def test_a_missing_related_row_is_none_as_with_the_orm():
    from assure.documents.models import Certificate
    from tests.members.factories import BeneficiaryFactory

    member = _session().account.member
    child = BeneficiaryFactory(member=member, given_names="Léa")

    def certificate(reference: str, beneficiary) -> Certificate:
        return Certificate.objects.create(
            member=member,
            beneficiary=beneficiary,
            kind="ehic_provisional",
            reference=reference,
            issued_at=timezone.now(),
            holder_initials="Z. N.",
            holder_birth_year=1985,
            pdf=f"certificates/{reference}.pdf",
            sha256="0" * 64,
        )

    for_member, for_child = certificate("A" * 20, None), certificate("B" * 20, child)

    def build(member_id: int):
        return (
            Certificate.objects.select_related("beneficiary")
            .filter(member_id=member_id)
            .order_by("reference")
        )

    read = CompiledRead(Certificate, build, stand_ins=(-1,))
    got = read.all(member.pk)
    expected = list(build(member.pk))
    assert read._plans["default"].related_plain
    assert [c.pk for c in got] == [for_member.pk, for_child.pk]
    assert got[0].beneficiary is None
    assert "beneficiary" in got[0]._state.fields_cache  # known to be none: no query to ask
    assert _whole(got[1].beneficiary) == _whole(expected[1].beneficiary)
    with CaptureQueriesContext(connection) as queries:
        assert got[1].beneficiary.given_names == "Léa"
    assert len(queries) == 0


def test_a_read_of_some_columns_goes_through_django():
    session = _session()
    read = CompiledRead(
        MemberSession,
        lambda pk: MemberSession.objects.filter(pk=pk).only("pk", "kind")[:1],
        stand_ins=(-1,),
    )
    got = read.first(session.pk)
    assert not read._plans["default"].plain
    assert got.kind == "app"
    assert got.get_deferred_fields() >= {"device_label", "created_at"}
