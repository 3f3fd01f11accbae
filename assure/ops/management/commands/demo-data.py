"""`assure demo-data [--if-empty]`: a believable register (and what other areas add) for trying
assure. Refused in production: demo data must never mix with a real register.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assure.members.models import Member
from assure.ops import demo


class Command(BaseCommand):
    help = "Load demo data through the real feeds, then print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="load nothing when the register already holds members (used by `make run`)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is refused when ASSURE_ENV=production.")
        load = not (options["if_empty"] and Member.objects.exists())
        if not load:
            self.stdout.write("The register is not empty: no demo data loaded.")
        for step in demo.DEMO_STEPS:
            for line in step(load):
                self.stdout.write(line)
