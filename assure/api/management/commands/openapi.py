"""`assure openapi`: writes the API's OpenAPI document to docs/openapi.json (or checks it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assure.api import openapi


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ to docs/openapi.json (--check compares)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", default=str(openapi.COMMITTED_DOCUMENT))
        parser.add_argument(
            "--check", action="store_true", help="Fail when the file differs; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from assure.api.api import api

        text = openapi.dumps(api.get_openapi_schema(path_prefix="/api/v1/"))
        if options["output"] == "-":
            sys.stdout.write(text)
            return
        path = Path(options["output"])
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is not up to date: run `assure openapi`.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
