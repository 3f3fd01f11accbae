"""Fixtures of the system tests: assure run as separate processes, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import need_service

REPO = Path(__file__).resolve().parents[2]


def run_assure(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Runs `assure ARGS` in a process of its own; fails the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "assure", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "ASSURE_ENV"}
        and not key.startswith("PYTEST_")
    }
    env.update(ASSURE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    return env


@pytest.fixture
def production_shape_env(embedded_env) -> Iterator[dict[str, str]]:
    """A database and a Redis db of their own, so that the server never touches the test data."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url and not redis_url:
        pytest.skip(
            "PostgreSQL + Redis shape: runs in the pass with DATABASE_URL and REDIS_URL set"
        )
    need_service(
        "PostgreSQL", database_url.startswith("postgres"), "DATABASE_URL is not PostgreSQL"
    )
    need_service("Redis", bool(redis_url), "REDIS_URL is not set")
    import psycopg
    import redis

    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/') or 'assure'}_serve_system"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    # A Redis db number ten above the one of the test run: its queue holds nothing but ours.
    redis_parts = urlsplit(redis_url)
    redis_db = (int(redis_parts.path.lstrip("/") or 0) + 10) % 16
    own_redis = urlunsplit(redis_parts._replace(path=f"/{redis_db}"))
    redis.Redis.from_url(own_redis, socket_timeout=5).flushdb()
    env = dict(embedded_env)
    env.update(DATABASE_URL=urlunsplit(parts._replace(path=f"/{name}")), REDIS_URL=own_redis)
    yield env
    redis.Redis.from_url(own_redis, socket_timeout=5).flushdb()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The scale-out cluster (deploy/cluster.py) and its SMTP server, for tests/system/test_scale_out.py.
from tests.system.cluster_fixtures import (  # noqa: E402, F401 - fixtures, found by name
    cluster,
    cluster_services,
    cluster_smtp,
)
