"""`assure worker` stops cleanly: SIGTERM lets the task in hand finish and takes no other."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.system.conftest import REPO, run_assure

TASKCTL = REPO / "tests" / "system" / "taskctl.py"

pytestmark = pytest.mark.system


def _taskctl(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(TASKCTL), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def _stop_during_a_task(env: dict[str, str], target: str) -> None:
    run_assure(env, "migrate", "--verbosity", "0")
    first, second = _taskctl(env, "enqueue", target).split()

    # The first task sends the worker SIGTERM while it runs.
    worker = subprocess.run(
        [sys.executable, "-m", "assure", "worker", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr

    statuses = json.loads(_taskctl(env, "status", first, second))
    assert statuses[first] == ["SUCCESSFUL", "finished"], worker.stderr
    assert statuses[second][0] == "READY", worker.stderr


def test_database_worker_finishes_the_current_task_on_sigterm(embedded_env):
    _stop_during_a_task(embedded_env, target="self")


def test_rq_worker_finishes_the_current_task_on_sigterm(production_shape_env):
    _stop_during_a_task(production_shape_env, target="parent")
