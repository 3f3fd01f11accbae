"""`/mes-paiements/` and `GET /api/v1/statements` against a bare Django view, in one run (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_pages \\
        python bench/payments_pages.py --seconds 15 [--others 2000]

On a fresh database whose name starts with assure_bench (dropped and created here):

1. two members signed in: one with 10 statement lines, one with 10,000; `--others` more members
   with 20 lines each so that the table is not a toy;
2. gunicorn (`--workers` sync workers, the project's settings) on 127.0.0.1;
3. `--threads` client threads with keep-alive for `--seconds` on each of: `/healthz` (the bare
   view: the whole middleware stack, one JSON answer, no query), the first page of
   `/mes-paiements/` for each member, and `GET /api/v1/statements` for the large one, in
   `--rounds` rounds taken in turn.

`--existing` measures on a database already loaded (by the feeds, at the issue's scale: 1,000,000
members and 20,000,000 lines) instead of creating one: only the two measured members are added.

`--redis URL` runs the server on the production shape (cache and request budgets in Redis);
without it they are counted in PostgreSQL, as the embedded set-up counts them in its database.

Prints req/s, p50 and p99 and the ratios of issue 4: page ÷ bare ≥ 0.15, API ÷ bare ≥ 0.25,
p99 ≤ 5 times p50, first page 10,000 lines ÷ 10 lines ≤ 1.2 (in time). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _database(url: str, *, existing: bool) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("assure_bench"):
        sys.exit(f"refusing to use {name!r}: the benchmark database must be named assure_bench*")
    if existing:
        return
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _statements(member, count: int, prefix: str) -> list:
    from assure.payments.models import Statement

    today = dt.date(2026, 11, 20)
    return [
        Statement(
            external_id=f"{prefix}-{i}",
            member=member,
            status="paid" if i % 10 else "processing",
            care_date=today - dt.timedelta(days=(i * 3) % 800),
            received_on=today - dt.timedelta(days=(i * 3) % 800),
            paid_on=(today - dt.timedelta(days=(i * 3) % 800 - 5)) if i % 10 else None,
            category=["consultation", "pharmacy", "dental", "paramedical"][i % 4],
            act_code="G",
            label="Consultation chez le médecin généraliste",
            provider="Dr Martin",
            amount_charged=Decimal("30.00"),
            base_amount=Decimal("30.00"),
            rate=70,
            reimbursed=Decimal("19.00"),
            flat_fee=Decimal("2.00"),
            deductible=Decimal("0.00"),
            paid_to="member",
            complementary_forwarded=True,
            payment_reference=f"VIR-{prefix}-{i // 3}" if i % 10 else None,
        )
        for i in range(count)
    ]


def _prepare(others: int) -> dict[str, dict[str, str]]:
    """The data, and for each signed-in member the session cookie and an API token."""
    from django.conf import settings

    from assure.identity.middleware import SESSION_KEY
    from assure.identity.models import Account, MemberSession
    from assure.identity.services import app_tokens_issue
    from assure.members.models import Member
    from assure.members.nir import with_key
    from assure.payments.models import Statement

    def member(n: int) -> Member:
        return Member(
            external_id=f"BENCH-{n}",
            nir=with_key(f"1850575{n:06d}"),
            birth_name="BANC",
            given_names="Essai",
            sex="M",
            birth_date=dt.date(1985, 5, 1),
            address_line1="1 rue du Banc",
            postal_code="75014",
            city="PARIS",
            coverage_start=dt.date(2000, 1, 1),
        )

    measured = list(Member.objects.filter(external_id__in=["BENCH-0", "BENCH-1"]).order_by("pk"))
    if not measured:  # on an existing database, added by the first run only
        Member.objects.bulk_create([member(n) for n in range(others + 2)], batch_size=2000)
        members = list(Member.objects.filter(external_id__startswith="BENCH-").order_by("pk"))
        rows = []
        for m in members[2:]:
            rows.extend(_statements(m, 20, m.external_id))
            if len(rows) >= 20000:
                Statement.objects.bulk_create(rows)
                rows = []
        rows.extend(_statements(members[0], 10, "SMALL"))
        rows.extend(_statements(members[1], 10000, "LARGE"))
        Statement.objects.bulk_create(rows, batch_size=5000)
        measured = members[:2]

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    auth: dict[str, dict[str, str]] = {}
    for label, m in (("small", measured[0]), ("large", measured[1])):
        # No login happens here: the sessions are made directly, so no code is ever checked.
        account, _created = Account.objects.get_or_create(
            member=m,
            defaults={
                "secret_code_hash": "!",  # an unusable hash, no code at all
                "must_change_code": False,
            },
        )
        web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
        store = store_class()
        store[SESSION_KEY] = web.pk
        store.save()
        tokens = app_tokens_issue(account=account, device_label="bench")
        auth[label] = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
            "Bearer": tokens.access_token,
        }
    return auth


def _load(port: int, path: str, headers: dict[str, str], threads: int, seconds: float):
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    begin = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, time.perf_counter() - begin, errors


def _summary(runs: list) -> tuple[float, float, float, int]:
    """req/s, p50, p99 and errors over every round of one request."""
    latencies = sorted(x for run in runs for x in run[0])
    elapsed = sum(run[1] for run in runs)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, p50, p99, sum(run[2] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--others", type=int, default=2000)
    # The requests take turns over several rounds, so that a change of load on the machine during
    # the run weighs on each of them alike rather than on whichever ran at the time.
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--existing",
        action="store_true",
        help="use the database as loaded (for instance by bench/import_statements.py --full, "
        "whose run must not have dropped it since): only the two measured members are added, "
        "once, and --others is ignored",
    )
    parser.add_argument(
        "--redis",
        default="",
        help="REDIS_URL for the server (the production shape: cache and request budgets in "
        "Redis); without it they are counted in the database, as on the embedded set-up",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL, e.g. .../assure_bench_pages")

    _database(url, existing=args.existing)
    # The API's throttles still count every request, with limits no benchmark run reaches.
    env = dict(
        os.environ,
        ASSURE_LOG_LEVEL="WARNING",
        ASSURE_API_RATE_ADDRESS=os.environ.get("ASSURE_API_RATE_ADDRESS", "1000000/60"),
        ASSURE_API_RATE_MEMBER=os.environ.get("ASSURE_API_RATE_MEMBER", "1000000/60"),
    )
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = args.redis
    assure = str(ROOT / ".venv" / "bin" / "assure")
    subprocess.run([assure, "migrate", "-v", "0"], env=env, check=True)
    os.environ.update(env)
    if not args.redis:
        os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assure.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    auth = _prepare(0 if args.existing else args.others)
    from django.db import connection

    # Fresh statistics, as autovacuum leaves them shortly after any load. Without them the planner
    # believes the table empty and answers a first page by reading the member's whole history
    # (bitmap scan, hash join, sort): the page then costs in proportion to the history.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "assure.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    host = {"Host": "127.0.0.1"}
    cases = [
        ("bare view /healthz", "/healthz", host),
        (
            "/mes-paiements/, 10 lines",
            "/mes-paiements/",
            host | {"Cookie": auth["small"]["Cookie"]},
        ),
        (
            "/mes-paiements/, 10,000 lines",
            "/mes-paiements/",
            host | {"Cookie": auth["large"]["Cookie"]},
        ),
        (
            "GET /api/v1/statements, 10,000 lines",
            "/api/v1/statements",
            host | {"Authorization": f"Bearer {auth['large']['Bearer']}"},
        ),
    ]
    runs: dict[str, list] = {name: [] for name, _path, _headers in cases}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for _name, path, headers in cases:
            _load(port, path, headers, args.threads, 2)  # warm up
        for _round in range(max(1, args.rounds)):
            for name, path, headers in cases:
                seconds = args.seconds / max(1, args.rounds)
                runs[name].append(_load(port, path, headers, args.threads, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)

    results = {name: _summary(done) for name, done in runs.items()}
    print(
        f"{args.workers} gunicorn workers, {args.threads} client threads, {args.seconds:.0f} s each"
        f" in {max(1, args.rounds)} rounds taken in turn, request budgets in "
        + ("Redis" if args.redis else "PostgreSQL")
    )
    print("| request | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name, (rate, p50, p99, errors) in results.items():
        print(f"| {name} | {rate:,.0f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | {errors} |")
    bare = results["bare view /healthz"][0]
    small = results["/mes-paiements/, 10 lines"]
    large = results["/mes-paiements/, 10,000 lines"]
    api = results["GET /api/v1/statements, 10,000 lines"]
    print()
    print(f"page ÷ bare: {large[0] / bare:.2f} (goal ≥ 0.15)")
    print(f"API ÷ bare: {api[0] / bare:.2f} (goal ≥ 0.25)")
    print(f"p99 ÷ p50, page: {large[2] / large[1]:.1f}; API: {api[2] / api[1]:.1f} (goal ≤ 5)")
    # The cost must follow the page, not the history: the long history's first page may take at
    # most 1.2 times as long as the short one's.
    print(f"first page p50, 10,000 lines ÷ 10 lines: {large[1] / small[1]:.2f} (goal ≤ 1.2)")


if __name__ == "__main__":
    main()
