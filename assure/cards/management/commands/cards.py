"""`assure cards export|update FILE`: the fund's side of card orders, with the card maker.

`export` writes the orders not yet sent to the maker as one CSV (in CARDS_EXPORT_DIR, or
`--output DIR`) and marks them in production. `update FILE` reads the maker's status file
(`order_id,status,date,reason`: sent, delivered or returned); it exits 0 when every line applied,
1 when some lines were rejected (listed with their line numbers), 2 when the file cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assure.cards.exports import card_orders_export, card_orders_update
from assure.core.services import Actor


class Command(BaseCommand):
    help = "Exchange European Health Insurance Card orders with the card maker."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="write the day's orders for the card maker")
        export.add_argument("--output", type=Path, help="folder of the CSV file")
        update = actions.add_parser("update", help="read the card maker's status file")
        update.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("assure cards")
        if options["action"] == "export":
            result = card_orders_export(actor=actor, directory=options.get("output"))
            if result.path is None:
                self.stdout.write("No card to order.")
            else:
                self.stdout.write(f"{result.count} cards in {result.path} (batch {result.batch}).")
            return
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
            result_update = card_orders_update(actor=actor, text=text)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            self.stderr.write(f"{path}: cannot be read ({error}).")
            sys.exit(2)
        for line, reason in result_update.rejected:
            self.stderr.write(f"line {line}: {reason}")
        self.stdout.write(
            f"{result_update.changed} changed, {result_update.unchanged} unchanged, "
            f"{len(result_update.rejected)} rejected."
        )
        if result_update.rejected:
            sys.exit(1)
