"""`assure serve`: the portal and its background worker, on one machine, in one command.

It migrates the database, then supervises gunicorn and one `assure worker` (see
assure/ops/runtime.py). On several machines, run gunicorn and `assure worker` as separate
services instead (deploy/ and docs/operations.md).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from assure.ops import runtime


class Command(BaseCommand):
    help = "Migrate, then serve the portal with gunicorn and run one background worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--workers", type=int, default=None, help="gunicorn processes (default 2)"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve only: the task workers run elsewhere (`assure worker`)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if runtime.address_in_use(options["host"], options["port"]):
            raise CommandError(
                f"{options['host']}:{options['port']} is already in use: stop the other server "
                "or choose another --port."
            )
        call_command("migrate", interactive=False, verbosity=0)
        # WhiteNoise warns on every process start when the collected-files folder is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        # The supervisor itself never queries again: do not hold a database connection for days.
        connections.close_all()

        children = [
            runtime.Child(
                "web",
                runtime.gunicorn_argv(
                    host=options["host"], port=options["port"], workers=options["workers"]
                ),
            )
        ]
        if not options["no_worker"]:
            try:
                runtime.task_backend_kind()
            except runtime.RuntimeConfigurationError as exc:
                raise CommandError(str(exc)) from exc
            children.append(runtime.Child("worker", runtime.worker_argv()))

        host = options["host"]
        shown_host = f"[{host}]" if ":" in host else host
        worker_note = "without a worker" if options["no_worker"] else "with one background worker"
        self.stdout.write(
            f"assure serves http://{shown_host}:{options['port']}/ {worker_note}; "
            "Ctrl-C or SIGTERM stops it."
        )
        self.stdout.flush()
        code = runtime.Supervisor(children).run()
        if code:
            sys.exit(code)
