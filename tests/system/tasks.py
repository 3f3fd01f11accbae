"""Tasks that only the system tests enqueue (importable by the worker through PYTHONPATH)."""

from __future__ import annotations

import os
import signal

from django_tasks import task


@task()
def stop_my_worker(target: str) -> str:
    """Asks the worker running it to stop, then finishes: a graceful stop must let it finish.

    The database worker runs tasks in its own process ("self"); RQ runs each job in a forked child
    whose parent is the worker ("parent").
    """
    os.kill(os.getppid() if target == "parent" else os.getpid(), signal.SIGTERM)
    return "finished"
