"""`assure import FEED FILE`: load one of the fund's feeds (FEEDS.md) from a JSON Lines file.

Exit status: 0 when every line was applied, 1 when some were rejected (listed in
FILE.rejects.jsonl), 2 when the file could not be read at all (or its rejects file not written),
3 when the database became unreachable midway (run the same import again).
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from assure.core.feeds import Reject, feed_get, feed_load, feed_names
from assure.core.middleware import is_database_outage
from assure.core.models import FeedRun

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNREADABLE = 2
EXIT_DATABASE = 3  # the database went away midway (docs/operations.md, "Faults and what holds")


def _system_user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a container user without a passwd entry
        return f"uid {os.getuid()}"


# Below this size a worker's start-up (Django in a new process) costs more than it saves.
WORKERS_FROM_BYTES = 8 * 1024 * 1024


def _workers(requested: int | None, size: int) -> int:
    if requested is not None:
        return max(requested, 1)
    if size < WORKERS_FROM_BYTES:
        return 1
    # As many as processors (up to 4): this process mostly waits on the database meanwhile.
    return max(min(os.cpu_count() or 1, 4), 1)


class Command(BaseCommand):
    help = "Load a feed from the fund (JSON Lines): " + ", ".join(feed_names() or ["members"])

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("feed", choices=feed_names(), help="which feed the file holds")
        parser.add_argument("file", type=Path, help="JSON Lines file (UTF-8)")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="lines written per transaction"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes checking lines while this one writes (default: as many as processors, "
            "up to 4, for files over 8 MB; 1 checks lines in this process)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        feed = feed_get(options["feed"])
        path: Path = options["file"]
        rejects_path = path.with_name(path.name + ".rejects.jsonl")
        try:
            source = path.open("rb")
            size = os.fstat(source.fileno()).st_size
        except OSError as exc:
            self.stderr.write(f"{path}: cannot be read ({exc.strerror or exc}).")
            raise SystemExit(EXIT_UNREADABLE) from exc
        try:
            rejects = rejects_path.open("w", encoding="utf-8")
        except OSError as exc:
            source.close()
            self.stderr.write(f"{rejects_path}: cannot be written ({exc.strerror or exc}).")
            raise SystemExit(EXIT_UNREADABLE) from exc

        show_progress = sys.stderr.isatty()
        bar = tqdm(total=size, unit="B", unit_scale=True, disable=not show_progress, desc=feed.name)
        done = 0

        def progress(consumed: int) -> None:
            nonlocal done
            bar.update(consumed - done)
            done = consumed

        try:
            with source, rejects:

                def on_reject(reject: Reject) -> None:
                    rejects.write(json.dumps(reject.as_dict(), ensure_ascii=False) + "\n")

                try:
                    result, run = feed_load(
                        feed=feed,
                        stream=source,
                        source=FeedRun.Source.CLI,
                        actor=_system_user(),
                        on_reject=on_reject,
                        on_progress=progress,
                        batch_size=options["batch_size"],
                        workers=_workers(options["workers"], size),
                    )
                except OSError as exc:
                    self.stderr.write(f"{path}: input or output failed ({exc.strerror or exc}).")
                    raise SystemExit(EXIT_UNREADABLE) from exc
                except DatabaseError as exc:
                    if not is_database_outage(exc):
                        raise
                    # Every line is applied whole or not at all: rerunning the same file applies
                    # the lines that were not, and counts the others as unchanged.
                    self.stderr.write(
                        f"{path}: the database became unreachable ({exc.__class__.__name__}); "
                        "no line was half applied: run the same import again."
                    )
                    raise SystemExit(EXIT_DATABASE) from exc
            progress(size)
        finally:
            bar.close()

        counts = result.counts
        self.stdout.write(
            f"{feed.name}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['rejected']} rejected (run {run.pk})."
        )
        if result.rejected:
            self.stdout.write(f"Rejected lines and their reasons: {rejects_path}")
            raise SystemExit(EXIT_REJECTED)
