"""Scale-out: two web processes behind nginx, two workers, one PostgreSQL, one Redis.

The production shape as deploy/cluster.py starts it from deploy/'s own configuration files
(ASSURE_ENV=production, TLS, secure cookies). The web processes share nothing but the database and
Redis, so a session opened on one is valid on the other, failed logins counted on both lock the
NIR on both, and an e-mail queued by either is sent exactly once by one of the two workers.
Requests go to each gunicorn directly by port (to be sure which one answers) and through nginx.

Redis is a server of the cluster's own, started with deploy/redis.conf. The other files of
deploy/ are checked here too: `nginx -t` on the rendered site (both passes of
`.ci/run`), the backup script and the restore drill on the cluster's database, and the PostgreSQL
settings with a point-in-time recovery in a scratch server (the PostgreSQL + Redis pass).

Every wait is bounded: the cluster's start (120 s), each e-mail (30 s), its stop (30 s). The
cluster's tests take about 90 s on an idle two-core machine, most of it migrating a new database
and starting the processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from deploy.cluster import DEPLOY, free_port, make_certificates, nginx_test, write_nginx_config
from tests.conftest import need_service
from tests.system.cluster_fixtures import (
    ONE_TIME_CODE,
    PROVISIONAL_CODE,
    Browser,
    Person,
    code_in,
    need_nginx,
    page_text,
)

pytestmark = pytest.mark.system


def production_shape(test):
    """PostgreSQL and Redis: the pass of `.ci/run` with DATABASE_URL and REDIS_URL set."""
    return pytest.mark.postgres(pytest.mark.redis(test))


NEW_SECRET = "une girafe bleue traverse le pont"
LOCKED = "Trop d'essais infructueux"
WRONG = "un code qui ne va pas du tout"
# The subjects of the e-mails that carry a code (identity's notification templates).
PROVISIONAL_SUBJECT = "Votre code provisoire"
LOGIN_CODE_SUBJECT = "Votre code de sécurité"


def test_nginx_accepts_the_rendered_production_configuration(tmp_path):
    """`nginx -t` on deploy/nginx-assure.conf and its proxy snippet, as deploy/cluster.py renders
    them, with a certificate made for the test."""
    binary = need_nginx()
    make_certificates(tmp_path / "tls")
    main = write_nginx_config(
        tmp_path / "nginx",
        https_port=8443,
        http_port=8080,
        web_ports=[8001, 8002],
        certificate=tmp_path / "tls" / "server.pem",
        certificate_key=tmp_path / "tls" / "server.key",
        static_root=tmp_path / "static",
        log_dir=tmp_path / "logs",
    )
    result = nginx_test(main, binary)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "test is successful" in result.stderr
    site = (tmp_path / "nginx" / "assure.conf").read_text()
    assert "server 127.0.0.1:8001 " in site
    assert "server 127.0.0.1:8002 " in site
    assert "listen 127.0.0.1:8443 ssl" in site
    # A broken configuration is refused: the check is not a formality.
    (tmp_path / "nginx" / "assure.conf").write_text(site.replace("server_tokens off;", "oops;"))
    assert nginx_test(main, binary).returncode != 0


# --- The cluster ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(cluster) -> list[Person]:
    """Members loaded by the members feed, as the fund sends them (`assure import members`)."""
    return cluster.people


def _activate(browser: Browser, person: Person, recorder, *, sign_up_on: str, login_on: str):
    """Sign-up (code by e-mail), first login with the provisional code, definitive code.
    The definitive code is chosen on the other web process than the login's."""
    response = browser.submit(
        sign_up_on,
        "/creer-mon-compte/",
        {
            "nir": person.nir,
            "birth_date": person.birth_date,
            "vitale_serial": person.vitale_serial,
            "iban_end": "",
            "email": "",
            "channel": "email",
        },
    )
    assert response.status_code == 302, page_text(response)[:2000]
    assert response.headers["Location"] == "/creer-mon-compte/demande-envoyee/"
    provisional = code_in(
        recorder.wait_for(person.email, subject=PROVISIONAL_SUBJECT)[-1], PROVISIONAL_CODE
    )

    response = browser.submit(
        login_on, "/connexion/", {"nir": person.nir, "secret_code": provisional}
    )
    assert response.status_code == 302, page_text(response)[:2000]
    assert response.headers["Location"] == "/connexion/code-definitif/"
    other = "B" if login_on == "A" else "A"
    response = browser.submit(
        other,
        "/connexion/code-definitif/",
        {"new_secret_code": NEW_SECRET, "confirm": NEW_SECRET},
    )
    assert response.status_code == 302, page_text(response)[:2000]


def _signed_in(browser: Browser, where: str) -> bool:
    response = browser.get(where, "/mon-compte/securite/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/connexion/")
    return False


@production_shape
def test_a_session_opened_on_one_web_process_goes_on_on_the_other(cluster, people, cluster_smtp):
    _url, recorder = cluster_smtp
    person = people[0]
    browser = Browser(cluster, "premier")
    # Sign-up on A, provisional login on A, definitive code on B: the login's challenge, kept
    # in the session, crosses from one process to the other.
    _activate(browser, person, recorder, sign_up_on="A", login_on="A")
    session_cookie = browser.cookies["__Host-assure_session"]

    assert _signed_in(browser, "A")
    assert _signed_in(browser, "B")
    assert _signed_in(browser, "nginx")
    page = page_text(browser.get("B", "/mon-compte/securite/"))
    assert "Sécurité" in page or "sécurité" in page
    assert browser.cookies["__Host-assure_session"] == session_cookie

    # Another browser: not signed in anywhere with nothing, and a new device must give the
    # code e-mailed to the member, whichever process sends the challenge and checks the code.
    other = Browser(cluster, "second")
    assert not _signed_in(other, "A")
    before = len(recorder.to(person.email, LOGIN_CODE_SUBJECT))
    response = other.submit("A", "/connexion/", {"nir": person.nir, "secret_code": NEW_SECRET})
    assert response.status_code == 302, page_text(response)[:2000]
    assert response.headers["Location"] == "/connexion/code-de-securite/"
    otp = code_in(
        recorder.wait_for(person.email, before + 1, subject=LOGIN_CODE_SUBJECT)[-1],
        ONE_TIME_CODE,
    )
    response = other.submit("B", "/connexion/code-de-securite/", {"code": otp})
    assert response.status_code == 302, page_text(response)[:2000]
    assert _signed_in(other, "nginx")
    assert _signed_in(other, "A")

    # Logging out on B (the form of every page) ends the session for A and nginx too.
    response = browser.submit("B", "/mon-compte/securite/", {}, action="/deconnexion/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/connexion/"
    browser.cookies["__Host-assure_session"] = session_cookie  # as if the cookie were replayed
    assert not _signed_in(browser, "A")
    assert not _signed_in(browser, "nginx")
    assert _signed_in(other, "B")  # the other browser's session is untouched


@production_shape
def test_failures_spread_over_both_processes_lock_the_nir_on_both(cluster, people, cluster_smtp):
    _url, recorder = cluster_smtp
    person = people[1]
    _activate(Browser(cluster, "activation"), person, recorder, sign_up_on="nginx", login_on="B")

    attacker = Browser(cluster, "essais")
    answers = []
    for attempt in range(5):  # IDENTITY_LOCK_AFTER_FAILURES: A, B, A, B, A
        where = "AB"[attempt % 2]
        response = attacker.submit(where, "/connexion/", {"nir": person.nir, "secret_code": WRONG})
        assert response.status_code == 200, response.status_code
        answers.append(page_text(response))
    # No process alone saw five failures: only the shared count locks.
    assert not any(LOCKED in answer for answer in answers[:4]), answers[:4]

    # The right code is now refused on every process, with the lock's message.
    owner = Browser(cluster, "titulaire")
    for where in ("A", "B", "nginx"):
        response = owner.submit(
            where, "/connexion/", {"nir": person.nir, "secret_code": NEW_SECRET}
        )
        assert response.status_code == 200, (where, response.status_code)
        assert LOCKED in page_text(response), where
        assert not _signed_in(owner, where)


@production_shape
def test_each_e_mail_is_sent_once_by_one_of_the_two_workers(cluster, people, cluster_smtp):
    _url, recorder = cluster_smtp
    batch = people[2:8]
    for index, person in enumerate(batch):
        where = ("A", "B", "nginx")[index % 3]
        response = Browser(cluster, f"lot-{index}").submit(
            where,
            "/creer-mon-compte/",
            {
                "nir": person.nir,
                "birth_date": person.birth_date,
                "vitale_serial": person.vitale_serial,
                "iban_end": "",
                "email": "",
                "channel": "email",
            },
        )
        assert response.status_code == 302, page_text(response)[:2000]
    for person in batch:
        recorder.wait_for(person.email)
    # Time for a duplicate to arrive, if a second worker were to send the same message: both
    # workers poll the queue continuously, and their first outbox sweep has run at start.
    time.sleep(3)
    for person in batch:
        received = recorder.to(person.email)
        assert len(received) == 1, [m.subject for m in received]
        assert code_in(received[0], PROVISIONAL_CODE)
    assert all(process.running() for process in cluster.processes)

    # Both workers took jobs: RQ logs each job it runs.
    jobs = {
        process.name: process.output(tail=200_000).count("Job OK")
        for process in cluster.processes
        if process.name.startswith("worker-")
    }
    assert sum(jobs.values()) >= len(batch), jobs


@production_shape
def test_the_cluster_s_redis_runs_with_the_deploy_settings(cluster):
    """deploy/redis.conf is the one the cluster ran on: nothing evicted, AOF, the application's
    ACL user without the commands that wipe or reconfigure, the default user off."""
    import redis

    client = redis.Redis.from_url(cluster.env["REDIS_URL"], socket_timeout=5)
    memory = client.info("memory")
    assert memory["maxmemory_policy"] == "noeviction"
    assert memory["maxmemory"] == 1024**3
    assert client.info("persistence")["aof_enabled"] == 1
    assert client.llen("rq:queue:default") == 0  # every job taken: the queue lived here
    assert client.exists("rq:workers")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.flushdb()
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.config_get("maxmemory-policy")
    address = cluster.env["REDIS_URL"].rsplit("@", 1)[1]
    anonymous = redis.Redis.from_url(f"redis://{address}", socket_timeout=5)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()  # the default user is off: NOAUTH


@production_shape
def test_nightly_backup_and_the_restore_drill(cluster, people, tmp_path):
    """deploy/backup/: pg_dump of the cluster's database, then the drill restores it into a
    scratch database, checks migrations and the audit chain, counts the rows, and drops it."""
    database = cluster.env["DATABASE_URL"].rsplit("/", 1)[1]
    env = {
        **cluster.env,
        "BACKUP_DIR": str(tmp_path / "backups"),
        "DRILL_DB": f"{database}_drill",
        "ASSURE": str(Path(sys.executable).parent / "assure"),
    }
    backup = subprocess.run(
        ["sh", str(DEPLOY / "backup" / "assure-backup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert backup.returncode == 0, backup.stdout + backup.stderr
    dumps = list((tmp_path / "backups" / "db").glob("assure-*.dump"))
    assert [str(d) for d in dumps] == backup.stdout.split()[:1]
    assert oct(dumps[0].stat().st_mode & 0o777) == "0o600"

    drill = subprocess.run(
        ["sh", str(DEPLOY / "backup" / "assure-restore-drill.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = drill.stdout + drill.stderr
    assert drill.returncode == 0, output
    assert "migrations: complete" in output
    assert "Audit trail intact" in output
    assert f"members_member: {len(people)}" in output
    assert "restore drill passed" in output
    # The scratch database is gone; the live one is untouched.
    assert cluster.status(cluster.url + "/readyz") == 200
    import psycopg

    with psycopg.connect(cluster.env["DATABASE_URL"], connect_timeout=5) as connection:
        left = connection.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [f"{database}_drill"]
        ).fetchone()
    assert left == (0,)


class ScratchPostgres:
    """A PostgreSQL server of its own in a temporary directory, on a free port, run as the
    postgres user when the test runs as root (PostgreSQL refuses root), with
    deploy/postgresql.conf.d/assure.conf included: sizes scaled down, WAL archived to `wal/`."""

    def __init__(self, root: Path) -> None:
        initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        need_service("PostgreSQL server binaries", bool(initdb), "no /usr/lib/postgresql/*/bin")
        self.bin = initdb[-1].parent
        self.root = root
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(root, "postgres")
        self.snippet = root / "assure.conf"
        self.snippet.write_text(
            (DEPLOY / "postgresql.conf.d" / "assure.conf")
            .read_text()
            .replace("/var/backups/assure/wal", str(root / "wal"))
            .replace("shared_buffers = 4GB", "shared_buffers = 64MB")
            .replace("effective_cache_size = 12GB", "effective_cache_size = 256MB")
            .replace("ssl = on", "ssl = off")  # no certificate in a scratch server
        )
        self.snippet.chmod(0o644)
        self.data = root / "main"
        self.run("mkdir", "-p", str(root / "wal"), str(root / "base"))
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.configure(
            f"include '{self.snippet}'",
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{root}'",
        )

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_postgres, *argv], capture_output=True, text=True, timeout=120, check=check
        )

    def configure(self, *lines: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(line + "\n" for line in lines))

    def pg_ctl(self, action: str) -> None:
        log = self.root / f"{action}.log"
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", action)

    def sql(self, query: str) -> str:
        return self.run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qtA", "-c", query
        ).stdout.strip()


@pytest.mark.postgres
def test_postgresql_settings_and_a_point_in_time_recovery():
    """deploy/postgresql.conf.d/assure.conf is accepted by PostgreSQL, archives the WAL, and the
    recovery of docs/operations.md ("Point-in-time recovery") brings back the database as it was
    at the chosen moment: a row written before it is there, one written after it is not."""
    scratch = Path(tempfile.mkdtemp(prefix="assure-pitr-"))
    server = None
    try:
        server = ScratchPostgres(scratch)
        show = server.run(str(server.bin / "postgres"), "-D", str(server.data), "-C", "wal_level")
        assert show.stdout.strip() == "replica"
        server.pg_ctl("start")
        assert server.sql("SHOW archive_mode") == "on"
        assert server.sql("SHOW log_parameter_max_length") == "0"
        assert server.sql("SHOW idle_in_transaction_session_timeout") == "1min"
        server.sql("CREATE TABLE payment (id int)")
        server.sql("INSERT INTO payment VALUES (1)")
        base = scratch / "base" / "weekly"
        server.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
            f"--pgdata={base}", "--format=tar", "--gzip", "--wal-method=stream",
            "--checkpoint=fast",
        )  # fmt: skip
        server.sql("INSERT INTO payment VALUES (2)")
        time.sleep(0.5)
        target = server.sql("SELECT now()")
        time.sleep(0.5)
        server.sql("INSERT INTO payment VALUES (3)")  # the bad change, after the target
        # Closes the segment now (archive_timeout would within 5 minutes); wait for its copy.
        segment = server.sql("SELECT pg_walfile_name(pg_switch_wal())")
        archived = scratch / "wal"
        deadline = time.monotonic() + 30
        while not (archived / segment).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (archived / segment).exists(), sorted(p.name for p in archived.iterdir())
        server.pg_ctl("stop")

        # The recovery, as documented: base backup, its WAL, restore_command, target, signal.
        shutil.move(server.data, scratch / "main.broken")
        server.run("install", "-d", "-m", "0700", str(server.data))
        server.run("tar", "-xzf", str(base / "base.tar.gz"), "-C", str(server.data))
        server.run("tar", "-xzf", str(base / "pg_wal.tar.gz"), "-C", str(server.data / "pg_wal"))
        server.configure(
            f"restore_command = 'cp {archived}/%f %p'",
            f"recovery_target_time = '{target}'",
            "recovery_target_action = 'promote'",
        )
        server.run("touch", str(server.data / "recovery.signal"))
        server.pg_ctl("start")
        # It accepts read-only connections while replaying; promoted at the target, it writes.
        deadline = time.monotonic() + 60
        while server.sql("SELECT pg_is_in_recovery()") == "t" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.sql("SELECT pg_is_in_recovery()") == "f"
        assert server.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM payment") == "1,2"
        server.pg_ctl("stop")

        # And a setting PostgreSQL does not know is refused, not ignored.
        with server.snippet.open("a") as conf:
            conf.write("not_a_setting = 1\n")
        refused = server.run(
            str(server.bin / "postgres"), "-D", str(server.data), "-C", "wal_level", check=False
        )
        assert refused.returncode != 0
        assert "not_a_setting" in refused.stderr
    finally:
        if server is not None and (server.data / "postmaster.pid").exists():
            server.run(
                str(server.bin / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop",
                check=False,
            )  # fmt: skip
        shutil.rmtree(scratch, ignore_errors=True)


@production_shape
def test_nginx_in_front_tls_headers_static_files_and_limits(cluster):
    ca = str(cluster.ca_file)
    home = requests.get(cluster.url + "/", timeout=10, verify=ca)
    assert home.status_code == 200
    assert home.headers["Server"] == "nginx"  # no version (server_tokens off), not gunicorn
    assert home.raw.headers.getlist("Strict-Transport-Security") == [
        "max-age=63072000; includeSubDomains; preload"
    ]
    assert home.headers.get("Content-Encoding") is None  # pages are not compressed (BREACH)

    plain = requests.get(
        cluster.http_url + "/connexion/?suite=/", timeout=10, allow_redirects=False
    )
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{cluster.url}/connexion/?suite=/"

    stylesheet = next(
        path
        for path in (cluster.static_root / "assure" / "css").glob("assure.*.css")
        if path.name.count(".") == 2
    )
    static = requests.get(
        f"{cluster.url}/static/assure/css/{stylesheet.name}",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
        verify=ca,
    )
    assert static.status_code == 200
    assert static.headers["Content-Encoding"] == "gzip"
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert static.content == stylesheet.read_bytes()  # served by nginx from STATIC_ROOT

    assert requests.get(cluster.url + "/media/x", timeout=10, verify=ca).status_code == 404
    # Three attachments of 5 MiB fit (16 MiB): such a body reaches the application (which
    # refuses this one for its missing CSRF token); a larger body stops at nginx.
    fits = requests.post(
        cluster.url + "/connexion/",
        files={"attachments": ("scan.pdf", b"%PDF" + b"x" * (15 * 1024 * 1024))},
        timeout=30,
        verify=ca,
    )
    assert fits.status_code == 403
    too_large = requests.post(
        cluster.url + "/connexion/", data=b"x" * (17 * 1024 * 1024), timeout=30, verify=ca
    )
    assert too_large.status_code == 413
    # The self-signed certificate of the run is refused without its authority: real TLS.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(cluster.url + "/healthz", timeout=10)


def test_the_launcher_checks_its_template(tmp_path):
    """A template line that deploy/cluster.py rewrites must still be there."""
    from deploy import cluster as launcher

    with pytest.raises(launcher.ClusterError, match="no longer in the template"):
        launcher.render_site(
            "upstream assure_web {}\n",
            https_port=1,
            http_port=2,
            web_ports=[3],
            certificate=tmp_path / "c",
            certificate_key=tmp_path / "k",
            static_root=tmp_path,
            log_dir=tmp_path,
            proxy_snippet=tmp_path / "p",
        )
