"""`assure export changes --since <ISO datetime> [--out FILE]`: the outbound change feed.

The personal details members changed in the portal since a time, as JSON Lines (UTF-8, one change
a line, oldest first), for the fund's register to take before it sends its next members feed
(docs/profile.md). Each line carries `change_id`, so the fund can skip a line it already took when
two runs overlap; field names follow the members feed (FEEDS.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from assure.core.services import Actor, audit_record
from assure.members.changes import profile_change_feed, profile_change_feed_line


def _since(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since: not an ISO 8601 date or time: {value!r} (e.g. 2026-11-25T00:00:00+01:00)"
        ) from None
    if timezone.is_naive(parsed):
        # A bare date or time is read in the fund's own time zone, as its operators write it.
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "Export what the fund's systems take from the portal: changes (profile changes)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["changes"], help="which feed to write")
        parser.add_argument(
            "--since",
            required=True,
            help="ISO 8601 date or time; changes made from then on (inclusive)",
        )
        parser.add_argument(
            "--out", type=Path, default=None, help="file to write (default: standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = _since(options["since"])
        out: Path | None = options["out"]
        count = 0
        if out is None:
            for change in profile_change_feed(since=since).iterator(chunk_size=2000):
                self.stdout.write(json.dumps(profile_change_feed_line(change), ensure_ascii=False))
                count += 1
            self.stdout.flush()
        else:
            # Written beside the target and renamed: the fund never picks up half a file.
            partial = out.with_name(out.name + ".partial")
            with partial.open("w", encoding="utf-8") as handle:
                for change in profile_change_feed(since=since).iterator(chunk_size=2000):
                    handle.write(json.dumps(profile_change_feed_line(change), ensure_ascii=False))
                    handle.write("\n")
                    count += 1
            os.replace(partial, out)
        audit_record(
            actor=Actor.system("assure export changes"),
            action="members.changes_exported",
            data={"since": since.isoformat(), "lines": count},
        )
        self.stderr.write(f"{count} change(s) since {since.isoformat()}")
