"""Entry points of the processes that check feed lines (`assure import --workers N`).

Kept apart from `assure.core.feeds`, and importing nothing of Django at the top: a new process
unpickles these functions by importing this module before Django is set up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def setup() -> None:
    import gc

    import django

    django.setup()
    # What Django loaded stays for the process's life: kept out of the collector's passes, which
    # otherwise walk it again and again while lines are checked.
    gc.freeze()


def parse_lines(feed_name: str, lines: Sequence[tuple[int, Any]]) -> bytes:
    """The checked chunk, pickled here: see `assure.core.feeds.parsed_loads` for the other end."""
    import pickle

    from assure.core.feeds import parse_lines as parse

    return pickle.dumps(parse(feed_name, lines), protocol=pickle.HIGHEST_PROTOCOL)
