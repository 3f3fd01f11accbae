"""`assure serve` as an operator runs it: real gunicorn, a real worker, real signals.

On the embedded default (SQLite, database task queue) always; on PostgreSQL + Redis (RQ worker)
when DATABASE_URL and REDIS_URL are set. Each test starts the server on a free port with a data
directory of its own, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.conftest import REPO

START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0

pytestmark = pytest.mark.system


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _children(pid: int) -> list[int]:
    """Direct children of a process, from Linux's /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Server:
    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.env = env
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assure", "serve", "--port", str(self.port), *args],
            cwd=REPO,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"assure serve exited early:\n{self.output()}")
            with contextlib.suppress(OSError):
                return _get(f"{self.base}/healthz")[0] == 200
            return False

        _wait_until(healthy, START_TIMEOUT, "/healthz")

    def children(self) -> dict[str, int]:
        found = {}
        for pid in _children(self.process.pid):
            line = _cmdline(pid)
            found["web" if "gunicorn" in line else "worker" if " worker" in line else line] = pid
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        self._log_file.close()


@pytest.fixture
def serve(tmp_path) -> Iterator:
    servers: list[Server] = []

    def start(env: dict[str, str], *args: str) -> Server:
        server = Server(env, tmp_path / f"serve-{len(servers)}.log", *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        children = list(server.children().values())
        server.stop()
        for pid in children:  # never leave a process behind, whatever the test did
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _serve_probe_and_stop(server: Server, backend: str) -> None:
    server.wait_healthy()
    assert f"assure serves http://127.0.0.1:{server.port}/" in server.output()

    status, body = _get(f"{server.base}/readyz")
    assert status == 200, body
    assert body["status"] == "ready"
    assert all(check["ok"] for check in body["checks"].values()), body
    assert body["checks"]["queue"]["backend"] == backend

    children = server.children()
    assert set(children) == {"web", "worker"}, children

    # A task enqueued by another process of the application is run by serve's worker.
    check = subprocess.run(
        [sys.executable, "-m", "assure", "worker", "--check", "--timeout", "45"],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr + server.output()
    assert "A worker is taking tasks" in check.stdout

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=STOP_TIMEOUT) == 0, server.output()
    _wait_until(lambda: not any(_alive(pid) for pid in children.values()), STOP_TIMEOUT, "children")


def test_serve_on_the_embedded_default(serve, embedded_env):
    server = serve(embedded_env, "--workers", "1")
    _serve_probe_and_stop(server, backend="database")
    assert (Path(embedded_env["ASSURE_DATA_DIR"]) / "assure.sqlite3").exists()


def test_serve_on_postgresql_and_redis(serve, production_shape_env):
    server = serve(production_shape_env, "--workers", "1")
    _serve_probe_and_stop(server, backend="rq")


def test_serve_stops_the_web_server_and_fails_when_the_worker_dies(serve, embedded_env):
    server = serve(embedded_env, "--workers", "1")
    server.wait_healthy()
    children = server.children()
    os.kill(children["worker"], signal.SIGKILL)
    assert server.process.wait(timeout=STOP_TIMEOUT) == 1
    _wait_until(lambda: not _alive(children["web"]), STOP_TIMEOUT, "gunicorn to stop")
    assert "worker" in server.output()
    assert "exited with" in server.output()


def test_serve_without_worker_runs_the_web_server_alone(serve, embedded_env):
    server = serve(embedded_env, "--workers", "1", "--no-worker")
    server.wait_healthy()
    assert set(server.children()) == {"web"}
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=STOP_TIMEOUT) == 0, server.output()


def test_children_stop_when_serve_is_killed_outright(serve, embedded_env):
    """SIGKILL leaves the supervisor no chance to pass it on: the kernel tells the children."""
    server = serve(embedded_env, "--workers", "1")
    server.wait_healthy()
    children = server.children()
    assert set(children) == {"web", "worker"}
    server.process.kill()
    server.process.wait(timeout=STOP_TIMEOUT)
    _wait_until(
        lambda: not any(_alive(pid) for pid in children.values()), STOP_TIMEOUT, "orphans to stop"
    )
