"""Members import against PostgreSQL's own COPY, measured in one run (issue 2, "Performance").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench \\
        python bench/import_members.py --members 100000

Steps, each on a fresh `assure_bench` database (created and migrated here; never point this at a
database you care about, it is dropped):

1. generate the register with bench/generate.py (kept in --work and reused when already there);
2. COPY: the same members flattened to one row each (beneficiaries as one JSON column) into a
   table with the same unique indexes (external id, NIR): rows/s;
3. `assure import members FILE` on an empty register (all created): members/s and peak RSS;
4. the same file again (all unchanged): members/s and peak RSS;
5. the import of a file a tenth of the size, for its peak RSS: memory must not grow with the file.

Prints a table with the ratios. Not a test: run it by hand, one benchmark at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

MEMBER_COLUMNS = [
    "external_id",
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
    "beneficiaries",
]
COPY_TABLE = """
CREATE TABLE bench_copy (
    id bigserial PRIMARY KEY,
    external_id varchar(64) NOT NULL, nir varchar(15) NOT NULL, birth_name varchar(100) NOT NULL,
    usual_name varchar(100), given_names varchar(150) NOT NULL, sex varchar(1) NOT NULL,
    birth_date date NOT NULL, birth_place_insee varchar(5), birth_country_insee varchar(5),
    vitale_serial varchar(32), email varchar(254), phone varchar(32),
    address_line1 varchar(100) NOT NULL, address_line2 varchar(100),
    postal_code varchar(10) NOT NULL, city varchar(100) NOT NULL, country varchar(2) NOT NULL,
    iban varchar(34), bic varchar(11), bank_holder varchar(100), coverage_start date NOT NULL,
    coverage_end date, exemptions jsonb NOT NULL, complementary_name varchar(100),
    complementary_contract varchar(64), beneficiaries jsonb NOT NULL
);
CREATE UNIQUE INDEX bench_copy_external_id ON bench_copy (external_id);
CREATE UNIQUE INDEX bench_copy_nir ON bench_copy (nir);
"""
_COPY_COLUMNS = ", ".join(MEMBER_COLUMNS)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("assure_bench"):
        sys.exit(f"refusing to drop {name!r}: the benchmark database must be named assure_bench*")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def assure(args: list[str], env: dict[str, str], nice: bool) -> tuple[float, int, str, float]:
    """Run `assure ARGS`: wall seconds, peak RSS in MiB, last output line, CPU seconds."""
    command = [str(ROOT / ".venv" / "bin" / "assure"), *args]
    if nice:
        command = ["nice", "-n", "10", *command]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        sys.exit(f"assure {' '.join(args)} failed ({process.returncode}):\n{output}")
    last = output.strip().splitlines()[-1] if output else ""
    return elapsed, usage.ru_maxrss // 1024, last, usage.ru_utime + usage.ru_stime


def flatten(source: Path, target: Path) -> None:
    """The register as COPY text rows, one a member (not timed: COPY's input is ready-made)."""

    def text(value: object) -> str:
        if value is None:
            return "\\N"
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for raw in lines:
            m = json.loads(raw)
            address, bank, coverage = m["address"], m["bank_account"] or {}, m["coverage"]
            complementary = m["complementary"] or {}
            row = [
                m["external_id"],
                m["nir"],
                m["birth_name"],
                m["usual_name"],
                m["given_names"],
                m["sex"],
                m["birth_date"],
                m["birth_place_insee"],
                m["birth_country_insee"],
                m["vitale_serial"],
                m["email"],
                m["phone"],
                address["line1"],
                address["line2"],
                address["postal_code"],
                address["city"],
                address["country"],
                bank.get("iban"),
                bank.get("bic"),
                bank.get("holder"),
                coverage["start"],
                coverage["end"],
                json.dumps(coverage["exemptions"], ensure_ascii=False),
                complementary.get("name"),
                complementary.get("contract"),
                json.dumps(m["beneficiaries"], ensure_ascii=False),
            ]
            out.write("\t".join(text(v) for v in row) + "\n")


def copy_rate(url: str, rows_file: Path, rows: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(COPY_TABLE)
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_copy ({_COPY_COLUMNS}) FROM STDIN") as copy,
            rows_file.open("rb") as data,
        ):
            while block := data.read(1024 * 1024):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--nice", action="store_true", help="run the imports under nice -n 10")
    parser.add_argument(
        "--workers", type=int, default=None, help="passed to `assure import --workers`"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL, e.g. .../assure_bench")

    args.work.mkdir(parents=True, exist_ok=True)
    small_n = max(args.members // 10, 1)
    files = {}
    for n in (args.members, small_n):
        path = args.work / f"members-{n}.jsonl"
        if not path.exists():
            print(f"generating {n} members → {path}", flush=True)
            with path.open("w", encoding="utf-8", buffering=1024 * 1024) as out:
                generate.generate(n, out)
        files[n] = path
    rows_file = args.work / f"members-{args.members}.copy.tsv"
    if not rows_file.exists():
        flatten(files[args.members], rows_file)

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ASSURE_DATA_DIR": str(args.work / "data"),
        "ASSURE_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    workers = ["--workers", str(args.workers)] if args.workers else []

    load_before = os.getloadavg()[0]
    print("COPY …", flush=True)
    fresh_database(url)
    copy_per_s = copy_rate(url, rows_file, args.members)

    print(f"import of {small_n} (peak memory at a tenth of the size) …", flush=True)
    fresh_database(url)
    assure(["migrate", "--verbosity", "0"], env, nice=False)
    _t, small_rss, _out, _cpu = assure(
        ["import", "members", str(files[small_n]), *workers], env, args.nice
    )

    print(f"import of {args.members}, first run …", flush=True)
    fresh_database(url)
    assure(["migrate", "--verbosity", "0"], env, nice=False)
    first_s, first_rss, first_out, first_cpu = assure(
        ["import", "members", str(files[args.members]), *workers], env, args.nice
    )
    print(f"  {first_out}", flush=True)
    print(f"import of {args.members}, re-run …", flush=True)
    rerun_s, rerun_rss, rerun_out, rerun_cpu = assure(
        ["import", "members", str(files[args.members]), *workers], env, args.nice
    )
    print(f"  {rerun_out}", flush=True)

    load_after = os.getloadavg()[0]
    first_per_s = args.members / first_s
    rerun_per_s = args.members / rerun_s
    print()
    print(f"{'measure':<44}{'value':>14}{'ratio':>10}")
    print(f"{'COPY, rows/s':<44}{copy_per_s:>14,.0f}{1:>10.2f}")
    print(
        f"{'import, first run (all created), members/s':<44}{first_per_s:>14,.0f}"
        f"{first_per_s / copy_per_s:>10.3f}"
    )
    print(
        f"{'import, re-run (all unchanged), members/s':<44}{rerun_per_s:>14,.0f}"
        f"{rerun_per_s / copy_per_s:>10.3f}"
    )
    print(f"{'re-run / first run':<44}{'':>14}{rerun_per_s / first_per_s:>10.2f}")
    print(f"{f'peak RSS, import of {small_n:,}, MiB':<44}{small_rss:>14,}")
    print(
        f"{f'peak RSS, import of {args.members:,}, MiB':<44}{first_rss:>14,}"
        f"{first_rss / small_rss:>10.2f}"
    )
    print(f"{'peak RSS, re-run, MiB':<44}{rerun_rss:>14,}")
    print(f"{'CPU seconds of the import, first run':<44}{first_cpu:>14,.1f}")
    print(f"{'CPU seconds of the import, re-run':<44}{rerun_cpu:>14,.1f}")
    print(f"{'load average (1 min) before / after':<44}{load_before:>8.1f} / {load_after:.1f}")


if __name__ == "__main__":
    main()
