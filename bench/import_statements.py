"""Statements import against PostgreSQL's COPY into the same indexed table, in one run (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_payments \\
        python bench/import_statements.py --members 20000 --per-member 20 --nice

    ... --full    # the issue's scale: 1,000,000 members, 20,000,000 statement lines

Steps, on a fresh database whose name starts with assure_bench (created and migrated here; it is
dropped, never point this at a database you care about):

1. generate the register and its statements with bench/generate.py (kept in --work, reused);
2. load the register with `assure import members` (not measured here: bench/import_members.py);
3. COPY: the statement lines, with member and beneficiary ids already resolved (not timed), into
   payments_statement itself, with every index the import has to maintain: rows/s; then emptied;
4. `assure import statements FILE` into the emptied table (all created): rows/s;
5. the same file again (all unchanged): rows/s.

Prints a table with the ratio import ÷ COPY (goal ≥ 0.25). Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

COLUMNS = [
    "external_id",
    "member_id",
    "beneficiary_id",
    "status",
    "care_date",
    "received_on",
    "paid_on",
    "category",
    "act_code",
    "label",
    "provider",
    "amount_charged",
    "base_amount",
    "rate",
    "reimbursed",
    "flat_fee",
    "deductible",
    "paid_to",
    "complementary_forwarded",
    "payment_reference",
    "rejection_reason",
    "feed_digest",
    "created_at",
    "updated_at",
]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def fresh_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("assure_bench"):
        sys.exit(f"refusing to drop {name!r}: the benchmark database must be named assure_bench*")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def assure(args: list[str], env: dict[str, str], nice: bool) -> tuple[float, str]:
    """Run `assure ARGS`: wall seconds and the last line it printed."""
    command = [str(ROOT / ".venv" / "bin" / "assure"), *args]
    if nice:
        command = ["nice", "-n", "10", *command]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"assure {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    output = (done.stdout or "").strip().splitlines()
    counts = [line for line in output if " created, " in line]
    return elapsed, counts[-1] if counts else ""


def _text(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def flatten(url: str, source: Path, target: Path) -> int:
    """The statements as COPY rows of payments_statement, ids resolved (not timed)."""
    with psycopg.connect(url) as conn:
        members = dict(conn.execute("SELECT nir, id FROM members_member").fetchall())
        beneficiaries = dict(
            conn.execute("SELECT external_id, id FROM members_beneficiary").fetchall()
        )
    rows = 0
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for raw in lines:
            s = json.loads(raw)
            member = members.get(s["member_nir"])
            if member is None:  # a member the register refused (temporary NIR and the like)
                continue
            row = [
                s["external_id"],
                member,
                beneficiaries.get(s["beneficiary_external_id"] or ""),
                s["status"],
                s["care_date"],
                s["received_on"],
                s["paid_on"],
                s["category"],
                s["act_code"],
                s["label"],
                s["provider"],
                s["amount_charged"],
                s["base_amount"],
                s["rate"],
                s["reimbursed"],
                s["flat_fee"],
                s["deductible"],
                s["paid_to"],
                "t" if s["complementary_forwarded"] else "f",
                s["payment_reference"],
                s["rejection_reason"],
                "",
                "2026-11-26 00:00:00+00",
                "2026-11-26 00:00:00+00",
            ]
            out.write("\t".join(_text(v) for v in row) + "\n")
            rows += 1
    return rows


def copy_rate(url: str, rows_file: Path, rows: int) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY payments_statement ({', '.join(COLUMNS)}) FROM STDIN") as copy,
            rows_file.open("rb") as data,
        ):
            while block := data.read(1024 * 1024):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
        # Emptied for the import, which then writes into the same table with the same indexes.
        conn.execute("TRUNCATE payments_statement")
        conn.commit()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--per-member", type=int, default=20)
    parser.add_argument("--full", action="store_true", help="1,000,000 members, 20 lines each")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--nice", action="store_true", help="run the imports under nice -n 10")
    args = parser.parse_args()
    if args.full:
        args.members, args.per_member = 1_000_000, 20
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL, e.g. .../assure_bench_payments")

    args.work.mkdir(parents=True, exist_ok=True)
    tag = f"{args.members}x{args.per_member}"
    members_file = args.work / f"members-{args.members}.jsonl"
    statements_file = args.work / f"statements-{tag}.jsonl"
    if not statements_file.exists():
        print(f"generating {args.members} members and their statements…", flush=True)
        with (
            members_file.open("w", encoding="utf-8", buffering=1 << 20) as out,
            statements_file.open("w", encoding="utf-8", buffering=1 << 20) as statements,
        ):
            generate.generate(
                args.members,
                out,
                statements_per_member=args.per_member,
                statements_out=statements,
            )

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ASSURE_DATA_DIR": str(args.work / "data"),
        "ASSURE_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # no notices to queue: the bench members have no accounts
    fresh_database(url)
    assure(["migrate", "--noinput", "-v", "0"], env, args.nice)
    seconds, line = assure(["import", "members", str(members_file)], env, args.nice)
    print(f"register: {line} in {seconds:.1f} s", flush=True)

    rows_file = args.work / f"statements-{tag}.copy"
    rows = flatten(url, statements_file, rows_file)
    copy = copy_rate(url, rows_file, rows)
    print(f"COPY: {rows} rows at {copy:,.0f} rows/s", flush=True)

    first_s, first = assure(["import", "statements", str(statements_file)], env, args.nice)
    again_s, again = assure(["import", "statements", str(statements_file)], env, args.nice)
    created = rows / first_s
    unchanged = rows / again_s

    print()
    print(
        f"machine: {platform.node()} — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; PostgreSQL at {urlsplit(url).hostname}"
    )
    print(
        f"scale: {args.members:,} members, {args.per_member} lines each = {rows:,} statement lines"
    )
    print()
    print("| measure | rows/s | ÷ COPY |")
    print("|---|---:|---:|")
    print(f"| COPY into payments_statement (same indexes) | {copy:,.0f} | 1.00 |")
    print(f"| assure import statements, all created | {created:,.0f} | {created / copy:.2f} |")
    print(
        f"| assure import statements, all unchanged | {unchanged:,.0f} | {unchanged / copy:.2f} |"
    )
    print()
    print(f"first import: {first}")
    print(f"second import: {again}")


if __name__ == "__main__":
    main()
