"""One writer process for tests/system/test_sqlite_concurrency.py (run as a script, not collected).

It loads assure's real settings (the embedded default), waits for "go" on its standard input so
that every writer starts at once, then writes in a loop the way a web request and a task do: read
inside a transaction, then write, plus a write to the database cache. It prints one JSON summary.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    name, iterations, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.environ["DJANGO_SETTINGS_MODULE"] = "assure.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import OperationalError, connection, transaction

    from assure.core.models import AuditEvent
    from assure.core.services import Actor, audit_record

    if mode == "unprotected":
        # The control experiment: SQLite as it comes (rollback journal, deferred transactions, no
        # waiting), to show the load below is enough to lock the database without the settings.
        settings.DATABASES["default"]["OPTIONS"] = {"timeout": 0}

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    connection.close()

    print("ready", flush=True)
    sys.stdin.readline()

    actor = Actor(kind=AuditEvent.ActorKind.SYSTEM, id=name, display=name)
    errors: list[str] = []
    written = 0
    for i in range(iterations):
        try:
            with transaction.atomic():
                seen = AuditEvent.objects.filter(actor_id=name).count()
                audit_record(actor=actor, action="concurrency.write", data={"i": i, "seen": seen})
            written += 1
            cache.set(f"concurrency:{name}", i, 60)
        except OperationalError as exc:
            errors.append(str(exc))
    print(
        json.dumps(
            {"name": name, "journal_mode": journal_mode, "written": written, "errors": errors}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
