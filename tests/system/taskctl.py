"""Enqueues the system tests' tasks and reads their results, from a process of its own.

python tests/system/taskctl.py enqueue TARGET   -> prints the ids of two tasks
python tests/system/taskctl.py status ID...     -> prints one JSON object: id -> [status, value]
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "assure.settings"
    import django

    django.setup()
    from django_tasks import default_task_backend

    from assure.ops.tasks import worker_probe
    from tests.system.tasks import stop_my_worker

    if sys.argv[1] == "enqueue":
        first = stop_my_worker.enqueue(sys.argv[2])
        second = worker_probe.enqueue("second")
        print(first.id, second.id)
    else:
        results = {}
        for result_id in sys.argv[2:]:
            result = default_task_backend.get_result(result_id)
            value = result.return_value if result.is_finished else None
            results[result_id] = [str(result.status), value]
        print(json.dumps(results))


if __name__ == "__main__":
    main()
