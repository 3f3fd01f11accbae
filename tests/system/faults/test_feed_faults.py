"""A feed import that dies midway (SIGKILL) or whose database restarts under it, then rerun, leaves
the same rows as one clean run: each line is applied whole or not at all, and applying a line
again changes nothing (FEEDS.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.system.conftest import REPO
from tests.system.faults.conftest import dump_tables, run_assure, wait_until

pytestmark = [pytest.mark.system, pytest.mark.postgres]

# Business columns only: ids, run ids and timestamps differ between two loads by nature.
MEMBER_TABLES = {
    "members": (
        "SELECT external_id, nir, birth_name, usual_name, given_names, sex, birth_date, "
        "email, phone, address_line1, postal_code, city, iban FROM members_member"
    ),
    "beneficiaries": (
        "SELECT m.external_id, b.external_id, b.nir, b.birth_name, b.given_names, b.relation, "
        "b.active FROM members_beneficiary b JOIN members_member m ON m.id = b.member_id"
    ),
}
STATEMENT_TABLES = {
    "statements": (
        "SELECT s.external_id, m.external_id, s.status, s.care_date, s.paid_on, s.category, "
        "s.act_code, s.label, s.amount_charged, s.base_amount, s.rate, s.reimbursed, s.flat_fee, "
        "s.deductible, s.paid_to, s.payment_reference "
        "FROM payments_statement s JOIN members_member m ON m.id = s.member_id"
    ),
}


def _generate(tmp_path: Path, members: int, per_member: int) -> tuple[Path, Path]:
    members_file = tmp_path / "members.jsonl"
    statements_file = tmp_path / "statements.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "generate.py"),
            "--members",
            str(members),
            "--statements-per-member",
            str(per_member),
            "--out",
            str(members_file),
            "--statements-out",
            str(statements_file),
        ],
        check=True,
        timeout=120,
    )
    return members_file, statements_file


def _count(url: str, table: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    except psycopg.OperationalError:
        return -1
    return int(row[0]) if row else 0


def _clean_copy(private_postgres, template: str, name: str) -> str:
    private_postgres.admin(f'DROP DATABASE IF EXISTS "{name}"')
    private_postgres.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return private_postgres.url(name)


def _import(env: dict[str, str], feed: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assure", "import", feed, str(path), "--workers", "1", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_statements_import_killed_midway_then_rerun_equals_one_clean_run(
    tmp_path, fault_env, private_postgres, migrated_template
):
    members_file, statements_file = _generate(tmp_path, members=50, per_member=120)
    total = sum(1 for _ in statements_file.open())

    # The register once, then copied: both databases start from the same members.
    run_assure(fault_env, "import", "members", str(members_file))
    clean_env = dict(fault_env)
    source = fault_env["DATABASE_URL"].rsplit("/", 1)[1]
    clean_env["DATABASE_URL"] = _clean_copy(private_postgres, source, f"faults_clean_{os.getpid()}")
    run_assure(clean_env, "import", "statements", str(statements_file), "--batch-size", "100")

    url = fault_env["DATABASE_URL"]
    killed = _import(fault_env, "statements", statements_file, "--batch-size", "100")
    # Killed as soon as a batch is committed, while most are not (the load takes seconds).
    wait_until(lambda: _count(url, "payments_statement") >= 100, 120, "a batch applied", every=0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    applied = _count(url, "payments_statement")
    assert 0 < applied < total, (applied, total)
    # Only whole batches are committed: a batch of 100 lines (one statement a line).
    assert applied % 100 == 0, applied

    rerun = run_assure(fault_env, "import", "statements", str(statements_file))
    assert f"{total - applied} created" in rerun, rerun
    assert f"{applied} unchanged" in rerun, rerun
    assert dump_tables(url, STATEMENT_TABLES) == dump_tables(
        clean_env["DATABASE_URL"], STATEMENT_TABLES
    )
    private_postgres.admin(f'DROP DATABASE "faults_clean_{os.getpid()}"')


def test_members_import_survives_a_database_restart_and_rerun_equals_one_clean_run(
    tmp_path, fault_env, private_postgres, migrated_template
):
    # Large enough that the load is still running well after the database is stopped.
    members_file, _ = _generate(tmp_path, members=5000, per_member=0)
    total = sum(1 for _ in members_file.open())

    clean_env = dict(fault_env)
    clean_env["DATABASE_URL"] = _clean_copy(
        private_postgres, migrated_template, f"faults_clean_m_{os.getpid()}"
    )
    run_assure(clean_env, "import", "members", str(members_file))
    clean = dump_tables(clean_env["DATABASE_URL"], MEMBER_TABLES)
    assert len(clean["members"]) == total, "the clean run loads every member"
    assert clean["beneficiaries"], "and their beneficiaries"

    url = fault_env["DATABASE_URL"]
    importing = _import(fault_env, "members", members_file, "--batch-size", "10")
    wait_until(lambda: _count(url, "members_member") >= 30, 120, "some members applied")
    assert importing.poll() is None, "the import must still be running when the database stops"
    private_postgres.stop("fast")  # every connection is cut, mid-transaction for the import
    time.sleep(1.0)
    private_postgres.start()
    _out, err = importing.communicate(timeout=120)
    assert importing.returncode == 3, err
    assert "run the same import again" in err
    applied = dump_tables(url, MEMBER_TABLES)
    assert 0 < len(applied["members"]) < total
    # No half-applied line: every member present has exactly the beneficiaries of the clean run.
    clean_beneficiaries = {}
    for row in clean["beneficiaries"]:
        clean_beneficiaries.setdefault(row[0], []).append(row)
    present = {row[0] for row in applied["members"]}
    got_beneficiaries = {}
    for row in applied["beneficiaries"]:
        got_beneficiaries.setdefault(row[0], []).append(row)
    for external_id in present:
        assert got_beneficiaries.get(external_id, []) == clean_beneficiaries.get(external_id, [])

    run_assure(fault_env, "import", "members", str(members_file))
    assert dump_tables(url, MEMBER_TABLES) == clean
    private_postgres.admin(f'DROP DATABASE "faults_clean_m_{os.getpid()}"')
