"""Read replicas: settings, the router's decisions, read-your-writes, and a real second database
whose rows differ from the primary's, so that each page shows which database served it."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from assure.core import db_routers
from assure.identity.models import Account
from assure.members.models import Member
from assure.payments.models import Statement
from tests.payments.conftest import sign_in
from tests.payments.factories import StatementFactory

REPO = Path(__file__).resolve().parents[2]
REPLICAS = ["replica1", "replica2"]
# Not `replica1`: a run with DATABASE_REPLICA_URLS set already has that alias, on the test database.
E2E_ALIAS = "replica_e2e"


@pytest.fixture
def replicas(settings):
    settings.DATABASE_REPLICAS = REPLICAS
    return settings


def _through_middleware(request, view):
    """Runs `view` inside ReplicaMiddleware; returns the response and what the view recorded."""
    seen: dict[str, object] = {}

    def get_response(req):
        seen.update(view() or {})
        return HttpResponse("ok")

    response = db_routers.ReplicaMiddleware(get_response)(request)
    return response, seen


def _reads():
    return {
        "statement": router.db_for_read(Statement),
        "member": router.db_for_read(Member),
        "account": router.db_for_read(Account),
    }


# --- Settings -------------------------------------------------------------------------------------

SHOW_DATABASES = """
import json
from django.conf import settings
D = settings.DATABASES
print(json.dumps({
    "aliases": list(D),
    "hosts": {a: d.get("HOST") for a, d in D.items()},
    "mirror": {a: d.get("TEST", {}).get("MIRROR") for a, d in D.items()},
    "timeout": {a: d.get("OPTIONS", {}).get("connect_timeout") for a, d in D.items()},
    "replicas": settings.DATABASE_REPLICAS,
    "routers": settings.DATABASE_ROUTERS,
}))
"""


def _settings_in_child(tmp_path, **env_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="assure.settings",
        ASSURE_ENV="test",
        ASSURE_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(REPO),
        **env_vars,
    )
    return subprocess.run(
        [sys.executable, "-c", SHOW_DATABASES],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_replica_urls_become_aliases_mirroring_the_primary_in_tests(tmp_path):
    result = _settings_in_child(
        tmp_path,
        DATABASE_URL="postgres://assure:pw@primary.example:5432/assure",
        DATABASE_REPLICA_URLS=(
            " postgres://assure:pw@standby1.example:5432/assure ,"
            "postgres://assure:pw@standby2.example:5432/assure,"
        ),
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["aliases"] == ["default", "replica1", "replica2"]
    assert shown["replicas"] == ["replica1", "replica2"]
    assert shown["hosts"] == {
        "default": "primary.example",
        "replica1": "standby1.example",
        "replica2": "standby2.example",
    }
    assert shown["mirror"]["replica1"] == shown["mirror"]["replica2"] == "default"
    # Fail fast on a lost standby exactly as on a lost primary.
    assert shown["timeout"]["replica1"] == shown["timeout"]["default"] is not None
    assert shown["routers"] == ["assure.core.db_routers.ReplicaRouter"]


def test_no_replica_by_default(tmp_path):
    result = _settings_in_child(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["aliases"] == ["default"]


def test_replicas_need_a_postgresql_primary(tmp_path):
    result = _settings_in_child(
        tmp_path, DATABASE_REPLICA_URLS="postgres://assure:pw@standby1.example:5432/assure"
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL" in result.stderr


# --- The router -----------------------------------------------------------------------------------


def test_without_replicas_the_router_leaves_every_choice_to_django(settings):
    settings.DATABASE_REPLICAS = []
    request = RequestFactory().get("/mes-paiements/")
    response, seen = _through_middleware(request, _reads)
    assert seen == {"statement": "default", "member": "default", "account": "default"}
    assert db_routers.ReplicaRouter().db_for_read(Statement) is None
    assert db_routers.ReplicaRouter().db_for_write(Statement) is None
    assert not response.cookies


def test_a_members_read_goes_to_one_replica_and_everything_else_to_the_primary(replicas):
    response, seen = _through_middleware(RequestFactory().get("/mes-paiements/"), _reads)
    assert seen["statement"] in REPLICAS
    assert seen["member"] == seen["statement"]  # one replica for the whole request
    assert seen["account"] == "default"  # identity: logins, locks and sessions stay fresh
    assert not response.cookies


def test_reads_spread_over_the_replicas(replicas):
    used = {
        _through_middleware(RequestFactory().get("/"), _reads)[1]["statement"] for _ in range(60)
    }
    assert used == set(REPLICAS)


def test_outside_a_request_everything_reads_the_primary(replicas):
    assert _reads() == {"statement": "default", "member": "default", "account": "default"}
    assert router.db_for_write(Statement) == "default"


def test_a_write_sends_the_rest_of_the_request_to_the_primary_and_pins_the_client(replicas):
    def view():
        before = router.db_for_read(Statement)
        assert router.db_for_write(Statement) == "default"
        return {"before": before, "after": router.db_for_read(Statement)}

    response, seen = _through_middleware(RequestFactory().get("/mes-messages/"), view)
    assert seen["before"] in REPLICAS
    assert seen["after"] == "default"
    cookie = response.cookies["assure_primary"]
    assert cookie["max-age"] == 15
    assert cookie["httponly"]
    assert float(cookie.value) == pytest.approx(time.time() + 15, abs=2)


def test_a_write_outside_the_replicated_apps_does_not_pin(replicas):
    def view():
        router.db_for_write(Account)  # the session's last activity, say
        return {"after": router.db_for_read(Statement)}

    response, seen = _through_middleware(RequestFactory().get("/"), view)
    assert seen["after"] in REPLICAS
    assert "assure_primary" not in response.cookies


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_go_to_the_primary(replicas):
    def view():
        outside = router.db_for_read(Statement)
        with transaction.atomic():
            inside = router.db_for_read(Statement)
        return {"outside": outside, "inside": inside}

    _, seen = _through_middleware(RequestFactory().get("/"), view)
    assert seen["outside"] in REPLICAS
    assert seen["inside"] == "default"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_requests_read_the_primary_and_pin_the_client(replicas, method):
    request = getattr(RequestFactory(), method)("/mes-messages/nouveau/")
    response, seen = _through_middleware(request, _reads)
    assert seen["statement"] == "default"
    assert "assure_primary" in response.cookies


def test_a_pinned_browser_reads_the_primary_until_the_pin_ends(replicas):
    factory = RequestFactory()
    request = factory.get("/mes-paiements/")
    request.COOKIES["assure_primary"] = f"{time.time() + 10:.0f}"
    assert _through_middleware(request, _reads)[1]["statement"] == "default"
    for stale in (f"{time.time() - 1:.0f}", "not-a-time", ""):
        request = factory.get("/mes-paiements/")
        request.COOKIES["assure_primary"] = stale
        assert _through_middleware(request, _reads)[1]["statement"] in REPLICAS


def test_an_api_client_that_wrote_reads_the_primary_by_its_token(replicas):
    factory = RequestFactory()
    mine = {"HTTP_AUTHORIZATION": "Bearer access-token-of-member-a"}
    theirs = {"HTTP_AUTHORIZATION": "Bearer access-token-of-member-b"}
    _through_middleware(factory.post("/api/v1/messages", **mine), _reads)
    assert _through_middleware(factory.get("/api/v1/messages", **mine), _reads)[1]["statement"] == (
        "default"
    )
    assert _through_middleware(factory.get("/api/v1/messages", **theirs), _reads)[1][
        "statement"
    ] in (REPLICAS)


def test_the_back_office_always_reads_the_primary(replicas):
    request = RequestFactory().get("/backoffice/membres/")
    assert _through_middleware(request, _reads)[1]["statement"] == "default"


def test_migrations_run_on_the_primary_only(replicas):
    assert router.allow_migrate("replica1", "payments") is False
    assert router.allow_migrate("replica2", "members") is False
    assert router.allow_migrate("default", "payments") is True


def test_rows_of_the_primary_and_a_replica_may_be_related(replicas):
    member, statement = Member(), Statement()
    member._state.db, statement._state.db = "default", "replica1"
    assert router.allow_relation(member, statement) is True


# --- A real second database -----------------------------------------------------------------------


def _admin_connection(settings_dict):
    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker):
    """A second PostgreSQL database with the test database's schema, under an alias of its own.

    Module-scoped, so that the alias exists before pytest-django checks the test's databases. A
    copy of the test database (CREATE DATABASE … TEMPLATE) when nothing else is connected to it,
    else migrated from scratch."""
    primary = copy.deepcopy(connections["default"].settings_dict)
    name = f"{primary['NAME']}_replica"
    with django_db_blocker.unblock():
        connections.close_all()
        with _admin_connection(primary) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            try:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary["NAME"]}"')
                copied = True
            except psycopg.errors.ObjectInUse:
                admin.execute(f'CREATE DATABASE "{name}"')
                copied = False
        replica = copy.deepcopy(primary)
        replica["NAME"] = name
        connections.settings[E2E_ALIAS] = replica
        if not copied:
            call_command("migrate", database=E2E_ALIAS, verbosity=0)
    try:
        yield E2E_ALIAS
    finally:
        with django_db_blocker.unblock():
            connections[E2E_ALIAS].close()
            del connections[E2E_ALIAS]
            del connections.settings[E2E_ALIAS]
            with _admin_connection(primary) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _shown(client) -> str:
    response = client.get("/mes-paiements/")
    assert response.status_code == 200
    page = response.content.decode()
    places = [place for place in ("primaire", "réplique") if f"Lu sur la {place}" in page]
    assert len(places) == 1, places
    return places[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["default", E2E_ALIAS])
def test_member_pages_read_the_replica_and_a_writer_reads_the_primary(
    client, settings, replica_database
):
    settings.DATABASE_REPLICAS = [replica_database]
    statement = StatementFactory(label="Lu sur la primaire")
    member = statement.member
    # The replica holds the same member with a different statement: each page tells its source.
    member.save(using=replica_database, force_insert=True)
    Statement.objects.using(replica_database).create(
        **{
            field.attname: getattr(statement, field.attname)
            for field in Statement._meta.concrete_fields
        }
        | {"label": "Lu sur la réplique"}
    )
    sign_in(client, member)

    assert _shown(client) == "réplique"
    assert _shown(client) == "réplique"

    # Any form sent (here: the language switch) pins this browser to the primary for a while.
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/mes-paiements/"})
    assert response.status_code == 302
    assert "assure_primary" in response.cookies
    assert _shown(client) == "primaire"
    assert _shown(client) == "primaire"

    with time_machine.travel(time.time() + 60):
        assert _shown(client) == "réplique"

    # Another browser of the same member, never pinned, reads the replica all along.
    other = client.__class__()
    sign_in(other, member)
    assert _shown(other) == "réplique"
