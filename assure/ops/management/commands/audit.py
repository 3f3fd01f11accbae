"""`assure audit verify`: checks that the audit trail is complete and unaltered (its hash chain).

Exit status 0 when the chain holds, 1 with the breaks listed otherwise. The last hash printed can
be written down elsewhere: a later run whose chain no longer passes through it shows a rewrite.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assure.core.audit import chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("verify", help="walk the chain and report altered or missing events")

    def handle(self, *args: Any, **options: Any) -> None:
        result = chain_verify()
        if result.ok:
            self.stdout.write(
                f"Audit trail intact: {result.checked} events, last hash {result.head}."
            )
            return
        for item in result.breaks:
            self.stderr.write(item.describe())
        self.stderr.write(
            f"Audit trail BROKEN: {len(result.breaks)} break(s) in {result.checked} events."
        )
        sys.exit(1)
