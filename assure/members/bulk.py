"""Batch reads and writes of the register for the members feed: for any database, and a faster
path for PostgreSQL.

On PostgreSQL, new rows go straight into their table by COPY, and changed rows by COPY into a
temporary staging table then one UPDATE … FROM; reads take their keys as one array parameter.
Building a thousand model instances and a statement with tens of thousands of placeholders (which
Django's client-side binding then quotes value by value) would cost more than the database's work.
Elsewhere Django's bulk operations do the same job.

No INSERT … ON CONFLICT: the caller has just read which rows exist, and a row appearing meanwhile
is an IntegrityError that the feed machinery turns into a line-by-line replay.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import psycopg
from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from assure.core.bulk_keys import KEYS_ARRAY, joined_keys
from assure.members.models import Beneficiary, Member

MEMBER_FEED_FIELDS = [
    "nir",
    "birth_name",
    "usual_name",
    "given_names",
    "sex",
    "birth_date",
    "birth_place_insee",
    "birth_country_insee",
    "vitale_serial",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "iban",
    "bic",
    "bank_holder",
    "coverage_start",
    "coverage_end",
    "exemptions",
    "complementary_name",
    "complementary_contract",
]
BENEFICIARY_FEED_FIELDS = ["nir", "birth_name", "given_names", "sex", "birth_date", "relation"]

# (pk, external_id, nir, feed_digest)
MemberKey = tuple[int, str, str, str]
# A member's values by field name (MEMBER_FEED_FIELDS, external_id and feed_digest).
MemberRow = dict[str, Any]
# A beneficiary's values by field name (BENEFICIARY_FEED_FIELDS, external_id and member_id).
BeneficiaryRow = dict[str, Any]


class RegisterStore(Protocol):
    def prepare(self) -> None: ...

    def members_find(self, external_ids: list[str], nirs: list[str]) -> list[MemberKey]: ...

    def beneficiary_owners(self, external_ids: list[str]) -> dict[str, int]: ...

    def members_insert(self, rows: list[MemberRow]) -> dict[str, int]: ...

    def members_update(self, rows: list[MemberRow]) -> None: ...

    def beneficiaries_insert(self, rows: list[BeneficiaryRow]) -> None: ...

    def beneficiaries_update(self, rows: list[BeneficiaryRow]) -> None: ...


class OrmStore:
    """Any database Django supports."""

    def prepare(self) -> None:
        pass

    def members_find(self, external_ids: list[str], nirs: list[str]) -> list[MemberKey]:
        return list(
            Member.objects.filter(Q(external_id__in=external_ids) | Q(nir__in=nirs)).values_list(
                "pk", "external_id", "nir", "feed_digest"
            )
        )

    def beneficiary_owners(self, external_ids: list[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        return dict(
            Beneficiary.objects.filter(external_id__in=external_ids).values_list(
                "external_id", "member_id"
            )
        )

    def members_insert(self, rows: list[MemberRow]) -> dict[str, int]:
        members = Member.objects.bulk_create([Member(**row) for row in rows])
        if any(member.pk is None for member in members):  # pragma: no cover - old SQLite only
            return dict(
                Member.objects.filter(
                    external_id__in=[row["external_id"] for row in rows]
                ).values_list("external_id", "pk")
            )
        return {member.external_id: member.pk for member in members}

    def members_update(self, rows: list[MemberRow]) -> None:
        self._update(Member, rows, "external_id", [*MEMBER_FEED_FIELDS, "feed_digest"])

    def beneficiaries_insert(self, rows: list[BeneficiaryRow]) -> None:
        Beneficiary.objects.bulk_create([Beneficiary(**row, active=True) for row in rows])

    def beneficiaries_update(self, rows: list[BeneficiaryRow]) -> None:
        self._update(
            Beneficiary,
            [{**row, "active": True} for row in rows],
            "external_id",
            [*BENEFICIARY_FEED_FIELDS, "member_id", "active"],
        )

    @staticmethod
    def _update(
        model: type[Model], rows: list[dict[str, Any]], key: str, fields: list[str]
    ) -> None:
        if not rows:
            return
        pks = dict(
            model._default_manager.filter(**{f"{key}__in": [r[key] for r in rows]}).values_list(
                key, "pk"
            )
        )
        if model is Member:
            now = timezone.now()
            rows = [{**row, "updated_at": now} for row in rows]
            fields = [*fields, "updated_at"]
        objects = [model(pk=pks[row[key]], **row) for row in rows]
        model._default_manager.bulk_update(objects, fields)


# Keys travel as one text split by the server rather than as a text[] parameter, which psycopg
# encodes element by element in Python (a fifth of the writing process's time in a load).
_KEYS = KEYS_ARRAY
_keys = joined_keys


def _json(value: Any) -> str:
    # Most members have no exemption: their "[]" needs no encoder.
    return "[]" if value == [] else json.dumps(value)


class PostgresStore:
    """PostgreSQL: rows go in by COPY to a temporary staging table, then one INSERT … SELECT or
    UPDATE … FROM per table moves them (see the module docstring)."""

    MEMBER_COLUMNS = ["external_id", *MEMBER_FEED_FIELDS, "feed_digest"]
    BENEFICIARY_COLUMNS = ["member_id", "external_id", *BENEFICIARY_FEED_FIELDS]
    MEMBER_STAGE = "assure_feed_member_stage"
    BENEFICIARY_STAGE = "assure_feed_beneficiary_stage"

    def __init__(self) -> None:
        member = Member._meta.db_table
        beneficiary = Beneficiary._meta.db_table
        m_names = ", ".join(self.MEMBER_COLUMNS)
        m_set = ", ".join(f"{c} = s.{c}" for c in self.MEMBER_COLUMNS[1:])
        b_names = ", ".join(self.BENEFICIARY_COLUMNS)
        b_set = ", ".join(f"{c} = s.{c}" for c in self.BENEFICIARY_COLUMNS if c != "external_id")
        m_stage, b_stage = self.MEMBER_STAGE, self.BENEFICIARY_STAGE
        # Table and column names come from the models only, never from input.
        self.sql = {
            # The columns' types without their constraints: rows are checked on the way out.
            "stage": (
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {m_stage} ON COMMIT DELETE ROWS "  # noqa: S608
                f"AS SELECT {m_names} FROM {member} WITH NO DATA; "
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {b_stage} ON COMMIT DELETE ROWS "
                f"AS SELECT {b_names} FROM {beneficiary} WITH NO DATA"
            ),
            "members_find": (
                f"SELECT id, external_id, nir, feed_digest FROM {member} "  # noqa: S608
                f"WHERE external_id = ANY({_KEYS}) OR nir = ANY({_KEYS})"
            ),
            "beneficiary_owners": (
                f"SELECT external_id, member_id FROM {beneficiary} "  # noqa: S608
                f"WHERE external_id = ANY({_KEYS})"
            ),
            "members_copy": f"COPY {m_stage} ({m_names}) FROM STDIN",
            # New rows go straight into the tables by COPY (the caller has just read that they do
            # not exist); the new members' ids are then read back by external id.
            "members_insert": f"COPY {member} ({m_names}, created_at, updated_at) FROM STDIN",
            "members_ids": (
                f"SELECT external_id, id FROM {member} "  # noqa: S608
                f"WHERE external_id = ANY({_KEYS})"
            ),
            "members_update": (
                f"UPDATE {member} AS m SET {m_set}, updated_at = now() "  # noqa: S608
                f"FROM {m_stage} AS s WHERE m.external_id = s.external_id; "
                f"DELETE FROM {m_stage}"
            ),
            "beneficiaries_copy": f"COPY {b_stage} ({b_names}) FROM STDIN",
            "beneficiaries_insert": f"COPY {beneficiary} ({b_names}, active) FROM STDIN",
            "beneficiaries_update": (
                f"UPDATE {beneficiary} AS b SET {b_set}, active = true "  # noqa: S608
                f"FROM {b_stage} AS s WHERE b.external_id = s.external_id; "
                f"DELETE FROM {b_stage}"
            ),
        }

    @staticmethod
    def _cursor() -> psycopg.Cursor[Any]:
        connection.ensure_connection()
        # A server-side binding cursor on Django's own connection, hence in its transaction;
        # Django's own cursors bind on the client side, quoting every value of every array.
        return psycopg.Cursor(connection.connection)

    def _execute(self, cursor: psycopg.Cursor[Any], name: str, params: Any = None) -> None:
        self._log(name)
        # Never a prepared statement: a generic plan made while the table was nearly empty (at
        # the start of a first load) would scan it whole for every later batch.
        cursor.execute(self.sql[name], params, prepare=False)

    def _log(self, name: str) -> None:
        # Statements on this cursor bypass Django's wrappers: they are added to its query log by
        # hand so that query-count assertions (and DEBUG's log) see every one of them.
        if connection.queries_logged:
            connection.queries_log.append({"sql": self.sql[name], "time": "0.000"})

    def prepare(self) -> None:
        """The staging tables, once per load and outside its batches' transactions, so that a
        batch rolled back never takes them away. Each move out of them also empties them."""
        with self._cursor() as cursor:
            self._execute(cursor, "stage")

    def _copy(
        self, name: str, columns: list[str], rows: list[dict[str, Any]], extra: list[Any]
    ) -> None:
        """Rows in by COPY, the fastest way in; `extra` values end every row."""
        self._log(name)
        with self._cursor() as cursor, cursor.copy(self.sql[name]) as copy:
            for row in rows:
                copy.write_row(
                    [_json(row[c]) if c == "exemptions" else row[c] for c in columns] + extra
                )

    def _stage(self, kind: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """Rows into the (empty) staging table."""
        self._copy(f"{kind}_copy", columns, rows, [])

    def _run(self, name: str) -> list[tuple[Any, ...]]:
        """A move out of a staging table and its emptying, in one round trip."""
        with self._cursor() as cursor:
            self._execute(cursor, name)
            return cursor.fetchall() if cursor.description else []

    def members_find(self, external_ids: list[str], nirs: list[str]) -> list[MemberKey]:
        with self._cursor() as cursor:
            self._execute(cursor, "members_find", [_keys(external_ids), _keys(nirs)])
            return [(pk, external_id, nir, digest) for pk, external_id, nir, digest in cursor]

    def beneficiary_owners(self, external_ids: list[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        with self._cursor() as cursor:
            self._execute(cursor, "beneficiary_owners", [_keys(external_ids)])
            return dict(cursor)

    def members_insert(self, rows: list[MemberRow]) -> dict[str, int]:
        now = timezone.now()
        self._copy("members_insert", self.MEMBER_COLUMNS, rows, [now, now])
        with self._cursor() as cursor:
            self._execute(cursor, "members_ids", [_keys([row["external_id"] for row in rows])])
            return dict(cursor.fetchall())

    def members_update(self, rows: list[MemberRow]) -> None:
        if rows:
            self._stage("members", self.MEMBER_COLUMNS, rows)
            self._run("members_update")

    def beneficiaries_insert(self, rows: list[BeneficiaryRow]) -> None:
        if rows:
            self._copy("beneficiaries_insert", self.BENEFICIARY_COLUMNS, rows, [True])

    def beneficiaries_update(self, rows: list[BeneficiaryRow]) -> None:
        if rows:
            self._stage("beneficiaries", self.BENEFICIARY_COLUMNS, rows)
            self._run("beneficiaries_update")


_stores: dict[str, RegisterStore] = {}


def register_store() -> RegisterStore:
    vendor = connection.vendor
    if vendor not in _stores:
        _stores[vendor] = PostgresStore() if vendor == "postgresql" else OrmStore()
    return _stores[vendor]
