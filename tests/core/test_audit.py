"""The audit trail: services append events; on PostgreSQL the table refuses any change."""

from __future__ import annotations

import os

import pytest
from django.db import DatabaseError, connection, transaction

from assure.core.models import AuditEvent
from assure.core.services import Actor, audit_record

pytestmark = pytest.mark.django_db


def _require_postgresql() -> None:
    if connection.vendor == "postgresql":
        return
    if os.environ.get("DATABASE_URL"):
        pytest.fail("DATABASE_URL is set but the tests do not run on PostgreSQL")
    pytest.skip("PostgreSQL only (the trigger): runs in the pass with DATABASE_URL set")


def test_audit_record_appends_an_event_naming_the_actor():
    actor = Actor(kind=AuditEvent.ActorKind.STAFF, id=42, display="Camille Martin")
    event = audit_record(
        actor=actor,
        action="member.viewed",
        member_id=7,
        object_type="member",
        object_id=7,
        reason="appel téléphonique",
        data={"screen": "profile"},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_kind, stored.actor_id, stored.actor_display) == (
        "staff",
        "42",
        "Camille Martin",
    )
    assert (stored.action, stored.member_id, stored.object_type, stored.object_id) == (
        "member.viewed",
        7,
        "member",
        "7",
    )
    assert stored.reason == "appel téléphonique"
    assert stored.data == {"screen": "profile"}
    assert stored.at is not None


def test_audit_record_truncates_free_text_rather_than_failing():
    event = audit_record(actor=Actor.system("x" * 400), action="a", reason="r" * 500)
    event.refresh_from_db()
    assert len(event.actor_display) == 150
    assert len(event.reason) == 200


def test_system_and_feed_actors():
    assert audit_record(actor=Actor.system(), action="a").actor_kind == "system"
    feed = audit_record(actor=Actor.feed("members"), action="member.created")
    assert (feed.actor_kind, feed.actor_id) == ("feed", "members")


def test_events_are_listed_newest_first():
    first = audit_record(actor=Actor.system(), action="first", member_id=1)
    second = audit_record(actor=Actor.system(), action="second", member_id=1)
    assert list(AuditEvent.objects.filter(member_id=1)) == [second, first]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET action = 'rewritten' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_postgresql_refuses_to_change_an_event(statement):
    _require_postgresql()
    event = audit_record(actor=Actor.system(), action="member.viewed", member_id=3)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.action == "member.viewed"


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_trail():
    _require_postgresql()
    audit_record(actor=Actor.system(), action="member.viewed", member_id=3)
    with transaction.atomic(), connection.cursor() as cursor:
        # The test settings let Django's own clean-up truncate; a real connection does not.
        cursor.execute("SET LOCAL assure.audit_truncate = ''")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.filter(member_id=3).count() == 1


@pytest.mark.postgres
def test_postgresql_refuses_changes_through_the_orm_too():
    _require_postgresql()
    event = audit_record(actor=Actor.system(), action="member.viewed", member_id=3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="effacé")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()
