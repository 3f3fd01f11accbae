"""Tasks of the runtime itself."""

from __future__ import annotations

from django_tasks import task


@task()
def worker_probe(token: str) -> str:
    """Returns its argument: `assure worker --check` enqueues it to prove a worker is taking tasks.

    It touches no data, so an operator may run the check on a live system at any time.
    """
    return token
