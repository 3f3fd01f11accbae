"""What a new web worker costs before it serves the mix as cheaply as one that has run a while.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/worker_start.py --workers 3 --requests 1200

gunicorn replaces each worker after `max_requests` requests (assure/ops/gunicorn_conf.py): the
new one is forked from the master, which has loaded the application (`preload_app`,
assure/ops/warm.py) but never served a request. Whatever a worker builds on its first requests
(database connections, statements compiled once, kept fragments of pages, prepared statements on
the server) is paid again by each new worker, so its cost per request is that start-up cost
divided by `max_requests`.

This script does what gunicorn does, in one process and its children: the parent sets up as the
master does (settings of production, `application_warm`, the garbage collector frozen) and forks
`--workers` children one after the other. Each child serves the people of bench/mix_cpu.py (signed
in beforehand by another child, so that no login counts) the Locust mix through Django's test
client, and measures the processor time of its own process and of its PostgreSQL server process
for each block of `--block` requests. The start-up cost is what the first blocks cost above the
median of the last half of the blocks; the cost per request at a given `max_requests` follows.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "locust"))

import mix_cpu  # noqa: E402 - after the paths above


def _people(members: list[dict[str, Any]], advisors: list[dict[str, Any]], seed: int) -> list[Any]:
    rng = random.Random(seed)
    member_ids = [int(str(person["member_id"])) for person in members]
    people: list[Any] = []
    for data in members:
        people.append(mix_cpu.Member(data, random.Random(rng.random())))
    for data in advisors:
        advisor = mix_cpu.Advisor(data, random.Random(rng.random()))
        advisor.member_ids = member_ids
        people.append(advisor)
    return people


def _in_child(work: Any) -> Any:
    """Runs `work()` in a forked child and returns what it returns (JSON through a file)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    pid = os.fork()
    if pid == 0:  # the child: never returns to the caller's loop
        code = 0
        try:
            path.write_text(json.dumps(work()))
        except BaseException as error:  # reported by the parent
            path.write_text(json.dumps({"error": repr(error)}))
            code = 1
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    result = json.loads(path.read_text() or "{}")
    path.unlink()
    if status != 0 or (isinstance(result, dict) and "error" in result):
        sys.exit(f"a child failed: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=3, help="new workers measured in turn")
    parser.add_argument("--requests", type=int, default=1200, help="requests per worker")
    parser.add_argument("--block", type=int, default=100, help="requests per measured block")
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--advisors", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1].startswith("assure_bench"):
        sys.exit("DATABASE_URL must name a bench database (assure_bench*): this bench writes")

    members, advisors, subjects = mix_cpu.bench_setup("assure-worker-start-", args)
    from django.conf import settings
    from django.db import connection, connections
    from run import process_seconds  # bench/locust/run.py: the same reading of /proc

    from assure.ops.warm import application_warm

    connections.close_all()

    def sign_in() -> list[dict[str, str]]:
        people = _people(members, advisors, args.seed)
        member_ids = people[-1].member_ids if advisors else []
        for person in people:
            if isinstance(person, mix_cpu.Member):
                person.sign_in(settings.IDENTITY_DEVICE_COOKIE, subjects)
            else:
                person.sign_in(member_ids)
        return [{key: morsel.value for key, morsel in p.client.cookies.items()} for p in people]

    cookies = _in_child(sign_in)

    # As gunicorn's master: the application loaded and warmed, nothing served, the garbage
    # collector's view frozen (assure/ops/gunicorn_conf.py), no connection open.
    application_warm()
    gc.collect()
    gc.freeze()

    def serve() -> dict[str, list[float]]:
        people = _people(members, advisors, args.seed)
        for person, jar in zip(people, cookies, strict=True):
            person.subjects = subjects
            for key, value in jar.items():
                person.client.cookies[key] = value
        blocks: list[float] = []
        server_blocks: list[float] = []
        server_pid = None
        done = 0
        started = time.process_time()
        server_before = 0.0
        while done < args.requests:
            for person in people:
                before = len(person.timings)
                mix_cpu._next_task(person)
                done += len(person.timings) - before
                if done >= args.block * (len(blocks) + 1):
                    now = time.process_time()
                    blocks.append(now - started)
                    if server_pid is None:  # the connection this worker opened
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_backend_pid()")
                            server_pid = int(cursor.fetchone()[0])
                        server_blocks.append(process_seconds(server_pid))
                    else:
                        server_seconds = process_seconds(server_pid)
                        server_blocks.append(server_seconds - server_before)
                    server_before = process_seconds(server_pid)
                    started = time.process_time()
        return {"blocks": blocks, "server": server_blocks}

    connection.settings_dict["CONN_MAX_AGE"] = None  # one connection for the child's life
    costs: list[float] = []
    print(
        f"{args.workers} new workers, {args.requests} requests each, in blocks of {args.block}: "
        "processor ms per request of the worker (and of its PostgreSQL server process)"
    )
    for number in range(1, args.workers + 1):
        result = _in_child(serve)
        blocks, server = result["blocks"], result["server"]
        steady = statistics.median(blocks[len(blocks) // 2 :])
        steady_server = statistics.median(server[len(server) // 2 :])
        extra = sum(max(0.0, seconds - steady) for seconds in blocks[: len(blocks) // 2])
        extra_server = sum(max(0.0, s - steady_server) for s in server[: len(server) // 2])
        costs.append(extra + extra_server)
        shown = ", ".join(
            f"{1000 * w / args.block:.2f} ({1000 * s / args.block:.2f})"
            for w, s in zip(blocks, server, strict=True)
        )
        print(f"worker {number}: {shown}")
        print(
            f"    start-up: {1000 * extra:.0f} ms in the worker, {1000 * extra_server:.0f} ms in "
            f"PostgreSQL, above the steady {1000 * steady / args.block:.2f} ms per request"
        )
    start_up = statistics.median(costs)
    print(f"median start-up cost: {1000 * start_up:.0f} ms of processor")
    for max_requests in (2000, 10000, 20000):
        print(
            f"    per request with max_requests {max_requests:>6,}: "
            f"{1000 * start_up / max_requests:.3f} ms"
        )


if __name__ == "__main__":
    main()
