"""Fixtures of the fault tests: private PostgreSQL, Redis and SMTP servers that a test may stop,
restart or slow down, and assure's processes started against them as an operator starts them.

The servers are this run's own (a temporary directory, free ports): stopping them never touches
the machine's PostgreSQL or Redis, nor another test run. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service
from tests.system.conftest import REPO, run_assure

FAULTCTL = REPO / "tests" / "system" / "faults" / "faultctl.py"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


# --- PostgreSQL ----------------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, trust authentication, on a free port."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.log = root / "postgres.log"
        # initdb refuses to run as root: the cluster then belongs to the postgres system user.
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(root, entry.pw_uid, entry.pw_gid)

    def _run(self, *argv: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
        )
        assert result.returncode == 0, f"{argv[0]} failed:\n{result.stdout}{result.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def query(self, database: str, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url(database), connect_timeout=5) as conn:
            return list(conn.execute(sql).fetchall())


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory) -> Iterator[PrivatePostgres]:
    bindir = _pg_bindir()
    need_service("PostgreSQL server binaries", bindir is not None, "initdb and pg_ctl not found")
    assert bindir is not None
    # Not under pytest's temporary directory: its parents are closed to the postgres user.
    root = Path(tempfile.mkdtemp(prefix="assure-faults-pg-"))
    server = PrivatePostgres(bindir, root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(private_postgres, tmp_path_factory) -> str:
    """A database migrated once, copied for each test (CREATE DATABASE … TEMPLATE)."""
    name = "assure_faults_template"
    private_postgres.admin(f'CREATE DATABASE "{name}"')
    env = base_env(tmp_path_factory.mktemp("template-data"))
    env["DATABASE_URL"] = private_postgres.url(name)
    run_assure(env, "migrate", "--verbosity", "0", timeout=300)
    return name


@pytest.fixture
def database(private_postgres, migrated_template, request) -> str:
    """A fresh copy of the migrated template, for this test alone; returns its URL."""
    name = f"faults_{request.node.name[:40].lower()}_{os.getpid()}"
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    private_postgres.admin(f'DROP DATABASE IF EXISTS "{name}"')
    private_postgres.admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    return private_postgres.url(name)


# --- Redis ---------------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 20, "redis-server to answer")

    def answers(self) -> bool:
        import redis

        with contextlib.suppress(redis.exceptions.RedisError):
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        return False

    def start_on_same_port(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    need_service("Redis server", shutil.which("redis-server") is not None, "redis-server missing")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


# --- SMTP ----------------------------------------------------------------------------------------


@dataclass
class Received:
    message_id: str
    to: list[str]
    data: bytes


@dataclass
class SmtpHandler:
    """Keeps every accepted message. `hold` makes the next transaction wait at one step:
    "rcpt" before answering RCPT (the relay has nothing yet), "accept" after keeping the message
    and before answering 250 (the relay has it; the client does not know)."""

    received: list[Received] = field(default_factory=list)
    hold: str = ""
    hold_seconds: float = 0.0
    holding: threading.Event = field(default_factory=threading.Event)

    async def _hold(self, step: str) -> None:
        if self.hold == step:
            self.hold = ""  # once
            self.holding.set()
            await asyncio.sleep(self.hold_seconds)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._hold("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = bytes(envelope.original_content or envelope.content)
        parsed = message_from_bytes(data)
        self.received.append(Received(str(parsed["Message-ID"]), list(envelope.rcpt_tos), data))
        await self._hold("accept")
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = SmtpHandler()
        self.controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        return [item.message_id for item in self.handler.received]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


# --- assure's processes --------------------------------------------------------------------------


def base_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE", "ASSURE_ENV"}
        and not key.startswith("PYTEST_")
    }
    env.update(ASSURE_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO), ASSURE_LOG_LEVEL="INFO")
    return env


def faultctl(env: dict[str, str], *args: object) -> Any:
    result = subprocess.run(
        [sys.executable, str(FAULTCTL), *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class Process:
    """An `assure` command running in a session of its own (so it can be killed whole)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assure", *args],
            cwd=REPO,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_all(self) -> None:
        """SIGKILL to the process and every process it started (a machine that dies)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """No graceful stop here (tests/system/test_serve.py covers it): never leave one behind."""
        self.kill_all()
        self._log_file.close()


@pytest.fixture
def processes(tmp_path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(env: dict[str, str], *args: str) -> Process:
        process = Process(env, tmp_path / f"{args[0]}-{len(started)}.log", *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in path.read_text().split()]
    return []


def process_tree(pid: int) -> set[int]:
    found = {pid}
    for child in children(pid):
        found |= process_tree(child)
    return found


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def wait_healthy(base: str, server: Process, timeout: float = START_TIMEOUT) -> None:
    import requests

    def healthy() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"assure exited early:\n{server.output()}")
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        return False

    wait_until(healthy, timeout, "/healthz")


@pytest.fixture
def fault_env(tmp_path, database) -> dict[str, str]:
    """The environment of assure's processes: the test's own database, no Redis, no SMTP yet."""
    env = base_env(tmp_path / "data")
    env["DATABASE_URL"] = database
    return env


def dump_tables(url: str, queries: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of each query, sorted: what two databases are compared on."""
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        return {
            name: sorted(tuple(str(v) for v in row) for row in conn.execute(sql).fetchall())
            for name, sql in queries.items()
        }
