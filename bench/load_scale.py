"""Load a national-scale register and its statements through the feeds into PostgreSQL (issue 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_load \\
        nice -n 10 .venv/bin/python bench/load_scale.py --members 1000000 --lines 20000000 \\
        > var/bench/load_scale.log 2>&1 &

Generates the members feed and the statements feed with bench/generate.py (same seed, same bytes as
`generate.py --statements-per-member`) and streams each one, as it is produced, through a named
pipe into `assure import members` and `assure import statements`: nothing is written to disk but
the database, and memory stays flat whatever the scale. Prints the lines/s every --every seconds
and at the end of each feed, then the row counts, `VACUUM ANALYZE`, the sizes of the database and
of its largest tables, and the disk space left.

The database (whose name must start with assure_bench) is created and migrated when it does not
exist; --fresh drops it first; --statements-only loads the statements into a database that already
holds the register; --report-only prints the counts and sizes of a loaded database. SIGTERM
(or Ctrl-C) ends the feed being sent where it is: the import finishes with the lines it received,
then the counts and VACUUM ANALYZE run as usual. Not a test: run by hand; it takes hours at the
full scale on two processors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

SEED = 20261126
# Set by SIGTERM or SIGINT: the feed being sent ends at the next line (the import then finishes
# with what it received, so the counts and VACUUM ANALYZE still run).
STOP = threading.Event()


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("assure_bench"):
        sys.exit(f"refusing {name!r}: the benchmark database must be named assure_bench*")
    return name


def prepare_database(url: str, fresh: bool) -> bool:
    """Create the database (drop it first when `fresh`); True when it was created."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        admin.execute(f'CREATE DATABASE "{name}"')
        return True


def now() -> str:
    return time.strftime("%H:%M:%S", time.gmtime())


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def disk_free(path: Path) -> str:
    usage = shutil.disk_usage(path)
    return f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.0f} GiB"


def members_lines(members: int, seed: int) -> Iterator[dict[str, Any]]:
    register = generate.Register(seed)
    for n in range(1, members + 1):
        yield register.member(n)


def statements_lines(members: int, per_member: int, seed: int) -> Iterator[dict[str, Any]]:
    """The statements of generate.generate(..., statements_per_member=per_member), in order."""
    payments_rng = random.Random(seed + 1)  # as generate.generate draws them
    for member in members_lines(members, seed):
        yield from generate.statement_lines(member, per_member, payments_rng)


class Progress:
    """Lines written into the pipe so far; a thread prints the rate every `every` seconds."""

    def __init__(self, label: str, total: int, every: float) -> None:
        self.label, self.total, self.every = label, total, every
        self.count = 0
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, daemon=True)
        self._thread.start()

    def _report(self) -> None:
        last_count, last_time = 0, self.started
        while not self._stop.wait(self.every):
            count, moment = self.count, time.perf_counter()
            recent = (count - last_count) / (moment - last_time)
            overall = count / (moment - self.started)
            left = (self.total - count) / overall if overall else float("inf")
            print(
                f"{now()} {self.label}: {count:,}/{self.total:,} lines sent, "
                f"{recent:,.0f} lines/s now, {overall:,.0f} lines/s overall, "
                f"~{left / 60:.0f} min left, load {load_average()}",
                flush=True,
            )
            last_count, last_time = count, moment

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def load_feed(
    feed: str,
    lines: Iterator[dict[str, Any]],
    total: int,
    *,
    env: dict[str, str],
    work: Path,
    workers: int,
    nice: bool,
    every: float,
) -> tuple[float, str]:
    """Stream `lines` through a named pipe into `assure import FEED`: seconds and its summary."""
    pipe = work / f"load-{feed}-{os.getpid()}.jsonl"
    with contextlib.suppress(FileNotFoundError):
        pipe.unlink()
    os.mkfifo(pipe)
    command = [str(ROOT / ".venv" / "bin" / "assure"), "import", feed, str(pipe)]
    command += ["--workers", str(workers)]  # a pipe has no size to choose them from
    if nice:
        command = ["nice", "-n", "10", *command]
    print(f"{now()} {feed}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    progress = Progress(feed, total, every)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        with pipe.open("w", encoding="utf-8", buffering=1 << 20) as out:
            write = out.write
            for progress.count, line in enumerate(lines, 1):
                write(dumps(line))
                write("\n")
                if STOP.is_set():
                    print(f"{now()} {feed}: stopped on request, feed closed here", flush=True)
                    break
        stdout, _ = process.communicate()
    except BaseException:
        process.kill()
        raise
    finally:
        progress.stop()
        pipe.unlink()
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 1):  # 1: some lines rejected (listed in the rejects file)
        sys.exit(f"assure import {feed} failed with status {process.returncode}")
    summary = [line for line in stdout.splitlines() if " created, " in line]
    result = summary[-1] if summary else stdout.strip()
    print(
        f"{now()} {feed}: {progress.count:,} lines in {seconds:,.0f} s = "
        f"{progress.count / seconds:,.0f} lines/s; {result}",
        flush=True,
    )
    return seconds, result


TABLES = ["members_member", "members_beneficiary", "payments_statement"]


def report_database(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in TABLES:
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)
            print(f"{table}: {count:,} rows", flush=True)
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"{now()} VACUUM ANALYZE: {time.perf_counter() - started:,.0f} s", flush=True)
        (size,) = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone() or ("?",)
        print(f"database size: {size}")
        rows = conn.execute(
            "SELECT c.relname, pg_size_pretty(pg_table_size(c.oid)),"
            " pg_size_pretty(pg_indexes_size(c.oid)), pg_size_pretty(pg_total_relation_size(c.oid))"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = 'public'"
            " ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6"
        ).fetchall()
        print("| table | data | indexes | total |")
        print("|---|---:|---:|---:|")
        for name, data, indexes, total in rows:
            print(f"| {name} | {data} | {indexes} | {total} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=20_000_000, help="statement lines in all")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=2, help="passed to assure import")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    parser.add_argument(
        "--statements-only", action="store_true", help="the register is already loaded"
    )
    parser.add_argument("--nice", action="store_true", help="run the imports under nice -n 10")
    parser.add_argument(
        "--report-only", action="store_true", help="counts, VACUUM ANALYZE and sizes; no load"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL, e.g. .../assure_bench_load")
    database_name(url)
    per_member = max(args.lines // args.members, 0)
    lines = per_member * args.members

    args.work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ASSURE_DATA_DIR": str(args.work / "data"),
        "ASSURE_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # the bench members have no accounts: no notices to queue
    print(
        f"{now()} machine: {platform.node()}, {os.cpu_count()} cores, load {load_average()}; "
        f"PostgreSQL at {urlsplit(url).hostname}/{database_name(url)}; "
        f"{args.members:,} members, {per_member} lines each = {lines:,} statement lines; "
        f"disk: {disk_free(args.work)}",
        flush=True,
    )
    if args.report_only:
        report_database(url)
        print(f"{now()} disk: {disk_free(args.work)}", flush=True)
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: STOP.set())
    created = prepare_database(url, args.fresh)
    if created or not args.statements_only:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "assure"), "migrate", "--noinput", "-v", "0"],
            env=env,
            check=True,
        )
    feeds = {"seconds": 0.0}
    if not args.statements_only:
        seconds, _ = load_feed(
            "members",
            members_lines(args.members, args.seed),
            args.members,
            env=env,
            work=args.work,
            workers=args.workers,
            nice=args.nice,
            every=args.every,
        )
        feeds["seconds"] += seconds
        print(f"disk: {disk_free(args.work)}", flush=True)
    if lines and not STOP.is_set():
        seconds, _ = load_feed(
            "statements",
            statements_lines(args.members, per_member, args.seed),
            lines,
            env=env,
            work=args.work,
            workers=args.workers,
            nice=args.nice,
            every=args.every,
        )
        feeds["seconds"] += seconds
    report_database(url)
    print(
        f"{now()} done: feeds loaded in {feeds['seconds'] / 60:,.1f} min; "
        f"load {load_average()}; disk: {disk_free(args.work)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
