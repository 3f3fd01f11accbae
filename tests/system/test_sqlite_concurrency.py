"""The embedded default never meets "database is locked" with several processes writing at once.

Web processes and the worker share one SQLite file. WAL lets readers go on while one process
writes; IMMEDIATE transactions take the write lock at BEGIN, so a transaction that reads and then
writes queues on the busy timeout instead of failing when it tries to upgrade its lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("sqlite_writer.py")
PROCESSES = 4
ITERATIONS = 150

pytestmark = pytest.mark.system


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "ASSURE_ENV"}
    }
    env["ASSURE_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(REPO)
    return env


def _run_writers(data_dir: Path, mode: str) -> list[dict]:
    env = _embedded_env(data_dir)
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), f"writer-{n}", str(ITERATIONS), mode],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
        for writer in writers:  # all at once, so that their loops overlap
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        summaries = []
        for writer in writers:
            out, _ = writer.communicate(timeout=120)
            assert writer.returncode == 0
            summaries.append(json.loads(out.strip().splitlines()[-1]))
        return summaries
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait(timeout=10)


@pytest.fixture
def migrated_data_dir(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "assure", "migrate", "--verbosity", "0"],
        cwd=REPO,
        env=_embedded_env(tmp_path),
        check=True,
        timeout=180,
    )
    return tmp_path


def test_concurrent_writers_never_meet_a_locked_database(migrated_data_dir):
    summaries = _run_writers(migrated_data_dir, "settings")
    assert {s["journal_mode"] for s in summaries} == {"wal"}
    assert [s["errors"] for s in summaries] == [[]] * PROCESSES
    assert sum(s["written"] for s in summaries) == PROCESSES * ITERATIONS


def test_the_same_load_locks_sqlite_without_those_settings(migrated_data_dir):
    """The control: proves the load above is heavy enough for the first test to mean something."""
    # The file stays in WAL mode once set; go back to a rollback journal for the control.
    import sqlite3

    with sqlite3.connect(migrated_data_dir / "assure.sqlite3") as db:
        db.execute("PRAGMA journal_mode=DELETE")
    summaries = _run_writers(migrated_data_dir, "unprotected")
    errors = [error for s in summaries for error in s["errors"]]
    assert any("locked" in error for error in errors)
