"""`assure feed-token create|list|revoke`: the credentials of the fund's systems for the feed
endpoint. The token is printed once, at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assure.api.feed_tokens import (
    FeedTokenNameTaken,
    feed_token_create,
    feed_token_list,
    feed_token_revoke,
)
from assure.core.exceptions import NotFound
from assure.core.services import Actor


class Command(BaseCommand):
    help = "Create, list or revoke the tokens the fund's systems use to send feeds."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token and print it once")
        create.add_argument("name", help="who uses it, e.g. 'register-nightly'")
        actions.add_parser("list", help="list tokens (never their values)")
        revoke = actions.add_parser("revoke", help="revoke a token at once")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("assure feed-token")
        action = options["action"]
        if action == "create":
            name = options["name"].strip()
            if not name or len(name) > 100:
                raise CommandError("The name must have 1 to 100 characters.")
            try:
                _record, token = feed_token_create(name=name, actor=actor)
            except FeedTokenNameTaken as exc:
                raise CommandError(f"A feed token named {name!r} already exists.") from exc
            self.stdout.write(f"Feed token {name!r} created. It is shown only this once:")
            self.stdout.write(token)
        elif action == "list":
            tokens = feed_token_list()
            if not tokens:
                self.stdout.write("No feed token.")
            for record in tokens:
                last = f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never"
                state = (
                    f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
                )
                self.stdout.write(
                    f"{record.name}\tcreated {record.created_at:%Y-%m-%d %H:%M}\t"
                    f"last used {last}\t{state}"
                )
        else:
            try:
                feed_token_revoke(name=options["name"], actor=actor)
            except NotFound as exc:
                raise CommandError(f"No feed token named {options['name']!r}.") from exc
            self.stdout.write(f"Feed token {options['name']!r} revoked.")
