"""Login throughput against the raw Argon2id hash rate, measured in the same run.

    .venv/bin/python bench/login.py [--seconds 24] [--workers 2] [--accounts 20] [--rounds 4]
        [--client auto|wrk|python]

The secret-code check is the cost of a login by design; everything else (the request, the
queries, the tokens) is overhead. The goal (issue 3) is logins/s >= 0.8 x hashes/s, both measured
with the same number of processes on this machine:

1. hashes/s: `--workers` processes each verify the code against an Argon2id hash at the configured
   parameters;
2. logins/s: gunicorn with `--workers` sync workers on 127.0.0.1, `2 x --workers` client
   connections posting `POST /api/v1/auth/login` (a known device, so each answer carries tokens).

The load generator shares the machine with the server, so it must cost as little CPU as it can:
`wrk` (Debian package `wrk`, one event-loop thread, a Lua script rotating over the accounts) when
it is on the PATH, otherwise Python client threads, which take a noticeable share of the cores
from gunicorn and so bias the ratio downward. The output names the client used. Only answers
`200` carrying `"authenticated"` count as logins; anything else (other statuses, socket errors,
timeouts) is counted and printed as an error.

The two alternate in `--rounds` rounds sharing `--seconds` each, so that the load of a shared
machine weighs on both alike.

Runs on a throw-away SQLite data directory unless DATABASE_URL/REDIS_URL are set (then on those:
use a database of its own). Prints the figures and the ratio; nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "une phrase de banc d'essai assez longue"  # noqa: S105 - throw-away bench data


def _setup_django(data_dir: str) -> None:
    os.environ.setdefault("ASSURE_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assure.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _hash_worker(encoded: str, seconds: float, queue: multiprocessing.Queue) -> None:
    # Django's own check, as a login does it (forked after django.setup()).
    from django.contrib.auth.hashers import check_password

    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if not check_password(SECRET, encoded):
            raise SystemExit("the bench hash does not verify")
        count += 1
    queue.put(count)


def hashes_per_second(encoded: str, workers: int, seconds: float) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_hash_worker, args=(encoded, seconds, queue))
        for _ in range(workers)
    ]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    total = sum(queue.get() for _ in procs)
    for proc in procs:
        proc.join()
    return total / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(accounts: int) -> list[tuple[str, str]]:
    """Members with accounts and a known device each: (nir, device_id) pairs."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not os.environ.get("REDIS_URL"):
        call_command("createcachetable", verbosity=0)
    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from assure.identity.models import Account, KnownDevice
    from assure.identity.services import device_hash_for
    from assure.members.models import Member
    from assure.members.nir import with_key

    encoded = make_password(SECRET)
    pairs = []
    for i in range(accounts):
        nir = with_key(f"1850575099{i:03d}")
        member, _ = Member.objects.get_or_create(
            nir=nir,
            defaults={
                "external_id": f"BENCH{i:05d}",
                "birth_name": "BANC",
                "given_names": "Essai",
                "sex": "M",
                "birth_date": dt.date(1985, 5, 14),
                "address_line1": "1 rue du Banc",
                "postal_code": "75014",
                "city": "Paris",
                "coverage_start": dt.date(2010, 1, 1),
                "email": f"banc{i}@example.org",
            },
        )
        account, _ = Account.objects.update_or_create(
            member=member,
            defaults={"secret_code_hash": encoded, "must_change_code": False, "status": "active"},
        )
        device_id = f"bench-device-{i}"
        KnownDevice.objects.update_or_create(
            account=account,
            device_hash=device_hash_for(device_id, kind="app"),
            defaults={"expires_at": timezone.now() + dt.timedelta(days=90)},
        )
        pairs.append((nir, device_id))
    return pairs


def logins_per_second(
    port: int, pairs: list[tuple[str, str]], threads: int, seconds: float
) -> tuple[float, int]:
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def run(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        while time.perf_counter() < deadline:
            nir, device_id = pairs[i % len(pairs)]
            i += threads
            body = json.dumps({"nir": nir, "secret_code": SECRET, "device_id": device_id})
            conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            if response.status == 200 and b'"authenticated"' in payload:
                counts[n] += 1
            else:
                errors[n] += 1

    start = time.perf_counter()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - start), sum(errors)


_WRK_SCRIPT = """
local bodies = {%(bodies)s}
local requests_ = {}
local index = 0
ok, bad, codes = 0, 0, ""

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  for i, body in ipairs(bodies) do
    requests_[i] = wrk.format("POST", "/api/v1/auth/login", headers, body)
  end
end

function request()
  index = index %% #requests_ + 1
  return requests_[index]
end

function response(status, headers, body)
  if status == 200 and body and string.find(body, '"authenticated"', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    codes = codes .. " " .. status
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total_ok, total_bad, all_codes = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    all_codes = all_codes .. thread:get("codes")
  end
  io.write(string.format("bench: ok=%%d bad=%%d duration_us=%%d codes=%%s\\n",
    total_ok, total_bad, summary.duration, all_codes))
end
"""


def _wrk_script(pairs: list[tuple[str, str]]) -> str:
    bodies = [
        json.dumps({"nir": nir, "secret_code": SECRET, "device_id": device_id})
        for nir, device_id in pairs
    ]
    path = Path(tempfile.mkstemp(prefix="assure-bench-login-", suffix=".lua")[1])
    path.write_text(_WRK_SCRIPT % {"bodies": ", ".join(f"[==[{b}]==]" for b in bodies)})
    return str(path)


def wrk_logins_per_second(
    port: int, script: str, connections: int, seconds: float
) -> tuple[float, int]:
    """`wrk` with one thread: logins/s (answers 200 carrying tokens) and the number of errors."""
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--script",
        script,
        f"http://127.0.0.1:{port}/api/v1/auth/login",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    mine = re.search(r"^bench: ok=(\d+) bad=(\d+) duration_us=(\d+) codes=(.*)$", out, re.M)
    per_second = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not mine or not per_second:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    ok, bad, duration_us = (int(mine.group(n)) for n in (1, 2, 3))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    errors = bad + socket_errors
    if errors:
        codes = mine.group(4).split()
        print(
            f"  wrk: {bad} answers other than 200 with tokens"
            f" (statuses {', '.join(sorted(set(codes))) or '-'};"
            f" non-2xx/3xx per wrk: {non_2xx.group(1) if non_2xx else 0}),"
            f" {socket_errors} socket errors/timeouts; wrk requests/s {per_second.group(1)}",
            flush=True,
        )
    return ok / (duration_us / 1e6), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=24)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when on the PATH (auto), else Python threads",
    )
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on the PATH (apt-get install wrk)")

    data_dir = tempfile.mkdtemp(prefix="assure-bench-login-")
    _setup_django(data_dir)
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    pairs = _prepare(args.accounts)
    encoded = make_password(SECRET)
    print(
        f"Argon2id m={settings.ARGON2_MEMORY_COST_KIB} KiB, t={settings.ARGON2_TIME_COST}, "
        f"p={settings.ARGON2_PARALLELISM}; {args.workers} processes; {args.seconds:.0f} s each"
    )
    connections = args.workers * 2
    if client == "wrk":
        script = _wrk_script(pairs)
        print(f"client: wrk, 1 thread, {connections} connections")

        def measure(seconds: float) -> tuple[float, int]:
            return wrk_logins_per_second(port, script, connections, seconds)

    else:
        script = ""
        print(f"client: Python http.client, {connections} threads (wrk not used)")

        def measure(seconds: float) -> tuple[float, int]:
            return logins_per_second(port, pairs, connections, seconds)

    print("load average at start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    port = _free_port()
    # The API's request budgets (30 auth requests a minute per address) would answer 429 to a
    # benchmark client on one address: lift them for this throw-away server only.
    env = dict(
        os.environ,
        ASSURE_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="assure.settings",
        ASSURE_API_RATE_ADDRESS=os.environ.get("ASSURE_API_RATE_ADDRESS", "1000000/60"),
        ASSURE_API_RATE_AUTH=os.environ.get("ASSURE_API_RATE_AUTH", "1000000/60"),
        ASSURE_API_RATE_MEMBER=os.environ.get("ASSURE_API_RATE_MEMBER", "1000000/60"),
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
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
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        _, warm_errors = measure(2)  # warm up: imports, connections
        if warm_errors:
            print(f"  warm-up: {warm_errors} errors")
        # Interleaved rounds, so that a change in the machine's load hits both halves alike.
        raws, rates, round_errors = [], [], []
        for n in range(args.rounds):
            raws.append(hashes_per_second(encoded, args.workers, args.seconds / args.rounds))
            rate_n, errors_n = measure(args.seconds / args.rounds)
            rates.append(rate_n)
            round_errors.append(errors_n)
            print(
                f"round {n + 1}: {raws[-1]:.1f} hashes/s, {rate_n:.1f} logins/s, "
                f"{errors_n} errors, ratio {rate_n / raws[-1]:.2f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        if script:
            Path(script).unlink(missing_ok=True)
    errors = sum(round_errors)
    raw = sum(raws) / len(raws)
    rate = sum(rates) / len(rates)
    print(
        "rounds (hashes/s, logins/s): "
        + ", ".join(f"({h:.1f}, {r:.1f})" for h, r in zip(raws, rates, strict=True))
    )
    print(f"raw Argon2id verifications: {raw:.1f}/s")
    print(
        f"logins through POST /api/v1/auth/login (known device, client {client}): "
        f"{rate:.1f}/s, {errors} errors"
    )
    print("load average at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"ratio logins/hashes: {rate / raw:.2f} (goal >= 0.80)")
    if errors:
        print(f"INVALID RUN: {errors} requests were not successful logins")


if __name__ == "__main__":
    main()
