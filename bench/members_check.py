"""CPU per line of checking members lines: python-stdnum's paths against the import's, one run.

    .venv/bin/python bench/members_check.py [--members 20000] [--rounds 5]

Generates a register with bench/generate.py (in memory), then checks it in chunks of 500 lines as
an import worker does, in alternating rounds: "stdnum" with python-stdnum's own IBAN and NIR
checks and the fund's date read for every line (the import before its own paths), "import" with
the paths the import uses now. Prints the CPU time per line of each (median and best round).
Then the cost, in the writing process, of taking back a worker's checked chunk: unpickled with
the garbage collector running (as before) and paused (`parsed_loads`, as now).
Needs no database. Nothing is asserted: record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assure.settings")
    import django

    django.setup()
    import generate
    from django.utils import timezone
    from stdnum import iban as stdnum_iban

    from assure.core.feeds import parse_lines, read_raw_lines
    from assure.members import feed
    from assure.members.nir import normalize_nir

    text = io.StringIO()
    generate.generate(args.members, text)
    stream = io.BytesIO(text.getvalue().encode())
    lines = [(number, raw) for number, _consumed, raw in read_raw_lines(stream)]

    paths = {
        "stdnum": (lambda v: str(stdnum_iban.validate(v)), normalize_nir, timezone.localdate),
        "import": (feed.iban_validate, feed.nir_normalize, feed._today_now),
    }

    def round_of(name: str) -> float:
        feed.iban_validate, feed.nir_normalize, feed._today_now = paths[name]
        start = time.process_time()
        for index in range(0, len(lines), 500):
            parse_lines("members", lines[index : index + 500])
        return (time.process_time() - start) / len(lines) * 1e6

    results: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for _ in range(args.rounds):
            for name in paths:
                results[name].append(round_of(name))
    finally:
        feed.iban_validate, feed.nir_normalize, feed._today_now = paths["import"]
    import pickle

    from assure.core.feeds import parsed_loads

    chunks = [
        pickle.dumps(parse_lines("members", lines[i : i + 500]), protocol=pickle.HIGHEST_PROTOCOL)
        for i in range(0, len(lines), 500)
    ]
    for label, loads in (("unpickle, collector on", pickle.loads), ("parsed_loads", parsed_loads)):
        best = min(_timed(lambda loads=loads: [loads(c) for c in chunks]) for _ in range(3))
        results[label] = [best / len(lines) * 1e6]
    for name, values in results.items():
        print(
            f"{name:24s} {statistics.median(values):6.1f} µs of CPU a line (best {min(values):.1f})"
        )
    print(f"{len(lines):,} lines, {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")


def _timed(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


if __name__ == "__main__":
    main()
