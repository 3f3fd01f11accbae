"""Entry points of the processes that check feed lines (`assure import --workers N`).

Kept apart from `assure.core.feeds`, and importing nothing of Django at the top: a new process
unpickles these functions by importing this module before Django is set up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assure.core.feeds import ParsedLine, Reject


def setup() -> None:
    import django

    django.setup()


def parse_lines(
    feed_name: str, lines: Sequence[tuple[int, Any]]
) -> list[tuple[int, ParsedLine | Reject]]:
    from assure.core.feeds import parse_lines as parse

    return parse(feed_name, lines)
