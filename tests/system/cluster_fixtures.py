"""Fixtures of the scale-out tests: a cluster (deploy/cluster.py) on PostgreSQL and on a Redis
server started with deploy/redis.conf, a local SMTP server that records what the workers send,
and a small browser that keeps its own cookies.

tests/system/conftest.py imports the fixtures `cluster`, `cluster_services` and `cluster_smtp`.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from aiosmtpd.controller import Controller

from deploy.cluster import DEPLOY, Cluster, free_port, nginx_binary
from tests.conftest import need_service

# Every wait of these tests is bounded.
MAIL_TIMEOUT = 30.0
# Members the cluster fixture loads, with e-mail addresses (the tests take distinct ones).
CLUSTER_PEOPLE = 8


def need_nginx() -> str:
    binary = nginx_binary()
    need_service("nginx", binary is not None, "apt-get install nginx (.ci/run does)")
    assert binary is not None
    return binary


# --- SMTP -----------------------------------------------------------------------------------------


@dataclass
class Mail:
    to: list[str]
    subject: str
    text: str


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: keeps every message received, in order, whatever thread receives it."""

    messages: list[Mail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self._lock:
            self.messages.append(
                Mail(to=list(envelope.rcpt_tos), subject=str(message["Subject"]), text=text)
            )
        return "250 Message accepted for delivery"

    def to(self, address: str, subject: str | None = None) -> list[Mail]:
        with self._lock:
            return [
                m
                for m in self.messages
                if address in m.to and (subject is None or m.subject == subject)
            ]

    def wait_for(
        self,
        address: str,
        count: int = 1,
        timeout: float = MAIL_TIMEOUT,
        subject: str | None = None,
    ) -> list[Mail]:
        """The messages to `address` (with that subject, if given) once there are at least
        `count` of them. Two workers send: a notice queued earlier may arrive after a code
        asked later, so a test waiting for a code names its subject."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address, subject)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{len(self.to(address, subject))} message(s) to {address} "
            f"({subject or 'any subject'}) after {timeout:.0f} s, expected {count}"
        )


@pytest.fixture(scope="module")
def cluster_smtp() -> Iterator[tuple[str, SmtpRecorder]]:
    """A local SMTP server: (EMAIL_URL for the cluster, the recorder)."""
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", recorder
    finally:
        controller.stop()


# --- The cluster ----------------------------------------------------------------------------------


@dataclass
class ClusterRedis:
    """A Redis server of the cluster's own, configured by deploy/redis.conf (noeviction, AOF, the
    `assure` ACL user with a password made for the run); only its address, port and data
    directory differ, given on the command line."""

    url: str
    password: str
    process: subprocess.Popen[bytes]
    log: Path


def start_cluster_redis(directory: Path) -> ClusterRedis:
    import redis

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    need_service("Redis", Path(binary).exists(), "redis-server is not installed")
    password = secrets.token_urlsafe(24)
    conf = directory / "redis.conf"
    template = (DEPLOY / "redis.conf").read_text()
    assert "CHANGE-ME-long-random-password" in template
    conf.write_text(template.replace("CHANGE-ME-long-random-password", password))
    port = free_port()
    log = directory / "redis.log"
    process = subprocess.Popen(
        [binary, str(conf), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory),
         "--daemonize", "no", "--logfile", str(log)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"redis://assure:{password}@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not answer in 20 s"
            time.sleep(0.1)
    return ClusterRedis(url=url, password=password, process=process, log=log)


@pytest.fixture(scope="module")
def cluster_services(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database and a Redis server of the cluster's own: (database URL, Redis URL).

    The database is named after the run's DATABASE_URL (`<name>_scale_out`), created empty and
    dropped at the end; Redis runs with deploy/redis.conf (start_cluster_redis) and is stopped.
    """
    database_url = os.environ.get("DATABASE_URL", "")
    need_service("PostgreSQL", database_url.startswith("postgres"), "DATABASE_URL is not set")
    import psycopg

    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/') or 'assure'}_scale_out"
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def recreate(drop_only: bool) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                admin.execute(f'CREATE DATABASE "{name}"')

    recreate(drop_only=False)
    redis_server = start_cluster_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}")), redis_server.url
    finally:
        redis_server.process.terminate()
        try:
            redis_server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            redis_server.process.kill()
            redis_server.process.wait(timeout=10)
        recreate(drop_only=True)


@pytest.fixture(scope="module")
def cluster(cluster_services, cluster_smtp, tmp_path_factory) -> Iterator[Cluster]:
    """nginx (TLS) + two gunicorn web processes + two RQ workers, ASSURE_ENV=production, and the
    members of `cluster.people` loaded by the members feed (`assure import members`) while the
    processes start."""
    need_nginx()
    database_url, redis_url = cluster_services
    email_url, _recorder = cluster_smtp
    running = Cluster(
        web=2,
        workers=2,
        database_url=database_url,
        redis_url=redis_url,
        email_url=email_url,
        # One process per gunicorn keeps the machine's two cores for the rest; requests still
        # spread over two processes that share nothing but the database and Redis.
        gunicorn_workers=1,
    )
    running.start(wait=False)
    try:
        feed = tmp_path_factory.mktemp("feed") / "members.jsonl"
        running.people = members_feed(feed, CLUSTER_PEOPLE, "scale")  # type: ignore[attr-defined]
        running.assure("import", "members", str(feed))
        running.wait_ready()
        yield running
    finally:
        running.stop()


# --- Members --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    nir: str
    birth_date: str  # dd/mm/yyyy, as typed
    vitale_serial: str
    email: str


def members_feed(path: Path, count: int, prefix: str) -> list[Person]:
    """A members feed (FEEDS.md) of `count` people with e-mail addresses, written to `path`."""
    from assure.members.nir import with_key

    people, lines = [], []
    for index in range(count):
        # Women born in May 1985 in Paris 14e (75114), order numbers from 101 on.
        nir = with_key(f"2850575114{101 + index:03d}")
        person = Person(
            nir=nir,
            birth_date="14/05/1985",
            vitale_serial=f"{880000000 + index:09d}",
            email=f"{prefix}-{index}@assure.test",
        )
        people.append(person)
        lines.append(
            {
                "external_id": f"{prefix}-{index}",
                "nir": nir,
                "birth_name": "MARTIN",
                "usual_name": None,
                "given_names": f"Camille {prefix.upper()} {index}",
                "sex": "F",
                "birth_date": "1985-05-14",
                "birth_place_insee": "75114",
                "birth_country_insee": "99100",
                "vitale_serial": person.vitale_serial,
                "email": person.email,
                "phone": None,
                "address": {"line1": "12 rue des Lilas", "postal_code": "75014", "city": "Paris"},
                "bank_account": None,
                "coverage": {"start": "2020-01-01", "end": None, "exemptions": []},
                "complementary": None,
                "beneficiaries": [],
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return people


# --- A browser ------------------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """One browser: its own cookies (device, session, CSRF), sent to whichever server it is told.

    The cookies are Secure (`__Host-`, ASSURE_ENV=production) and Python's cookie jar would not
    send them over the plain HTTP of a direct call to gunicorn, so they are kept here by hand. A
    direct call says it came over HTTPS (`X-Forwarded-Proto`), as nginx does; gunicorn trusts it
    from the loopback address only.
    """

    def __init__(self, cluster: Cluster, name: str = "navigateur") -> None:
        self.cluster = cluster
        self.cookies: dict[str, str] = {}
        self.user_agent = f"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 {name}"

    def base(self, where: str) -> str:
        """'nginx', or 'A' / 'B' for the first or second web process directly."""
        if where == "nginx":
            return self.cluster.url
        return self.cluster.web_urls["AB".index(where)]

    def request(self, where: str, method: str, path: str, data=None) -> requests.Response:
        base = self.base(where)
        headers = {"User-Agent": self.user_agent}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if where != "nginx":
            headers["X-Forwarded-Proto"] = "https"
        if method == "POST":
            # The origin Django expects: the scheme it was told and the host it was reached at.
            headers["Origin"] = base.replace("http://", "https://")
        response = requests.request(
            method,
            base + path,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=20,
            verify=str(self.cluster.ca_file),
        )
        for line in response.raw.headers.getlist("Set-Cookie"):
            parsed = SimpleCookie()
            parsed.load(line)
            for key, morsel in parsed.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return response

    def get(self, where: str, path: str) -> requests.Response:
        return self.request(where, "GET", path)

    def submit(
        self, where: str, path: str, fields: dict[str, str], action: str | None = None
    ) -> requests.Response:
        """GET the page `path` for its CSRF token, then POST the form to `action` (default: the
        same path), both to `where`."""
        page = self.get(where, path)
        assert page.status_code == 200, (path, page.status_code, page.headers.get("Location"))
        token = CSRF_FIELD.search(page.text)
        assert token, page.text[:500]
        data = {"csrfmiddlewaretoken": token.group(1), **fields}
        return self.request(where, "POST", action or path, data)


def page_text(response: requests.Response) -> str:
    return html.unescape(response.text)


PROVISIONAL_CODE = re.compile(r":\s*([0-9A-Z]{8})\b")
ONE_TIME_CODE = re.compile(r"\b(\d{6})\b")


def code_in(mail: Mail, pattern: re.Pattern[str]) -> str:
    match = pattern.search(mail.text)
    assert match, mail.text
    return match.group(1)
