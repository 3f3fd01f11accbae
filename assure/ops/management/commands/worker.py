"""`assure worker`: runs the background tasks (e-mails, letters, PDFs, imports).

Without REDIS_URL the tasks live in the database (django-tasks-db); with it they live in Redis and
an RQ worker runs them. Either way an outbox sweep runs every 30 s beside the worker, so that a
message whose task was lost (a crash between commit and enqueue, a worker killed mid-task) is sent
all the same. Any number of workers may run on any number of machines.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assure.ops import runtime


class Command(BaseCommand):
    help = "Run the background task worker (database backend, or RQ when REDIS_URL is set)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="database backend: seconds between polls when the queue is empty (default 1)",
        )
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=runtime.SWEEP_INTERVAL_SECONDS,
            help="seconds between two outbox sweeps (default 30)",
        )
        parser.add_argument(
            "--burst", action="store_true", help="run the tasks waiting now, then exit"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="do not work: enqueue a probe task and wait for a running worker to take it",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=30.0,
            help="with --check: seconds to wait for the probe (default 30)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            runtime.task_backend_kind()
        except runtime.RuntimeConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        if options["check"]:
            ok, detail = runtime.check_worker(timeout=options["timeout"])
            if not ok:
                raise CommandError(f"No worker is taking tasks: {detail}.")
            self.stdout.write(f"A worker is taking tasks: {detail}.")
            return
        runtime.run_worker(
            interval=options["interval"],
            sweep_interval=options["sweep_interval"],
            burst=options["burst"],
        )
