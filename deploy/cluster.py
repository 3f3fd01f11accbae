#!/usr/bin/env python3
"""A whole assure installation on one machine, in the production shape, for tests and benchmarks.

    .venv/bin/python deploy/cluster.py --web 2 --workers 2 --port 8443 \\
        --database-url postgres://postgres@127.0.0.1:5432/assure --redis-url redis://127.0.0.1:6379/0

starts, with ASSURE_ENV=production settings:

- nginx with this directory's site configuration (nginx-assure.conf and nginx-assure-proxy.conf,
  rendered with the ports and paths of the run), TLS with a certificate made for the run and
  signed by a certificate authority made for the run (`ca.pem` in the run's directory), HTTP
  redirected to HTTPS, static files served from the collected STATIC_ROOT;
- N gunicorn web processes (this directory's gunicorn.conf.py), each on a free port of its own,
  all in nginx's upstream;
- M task workers (`assure worker`: RQ workers when a Redis URL is given);

after migrating the database and collecting the static files once, as a release does. It prints
the addresses, waits for /readyz on every web process and through nginx, and stops everything on
Ctrl-C or SIGTERM (or when any process dies: then it exits 1). nginx runs in the foreground with
its own prefix directory in a temporary directory, never as the system's service.

From Python (tests/system/test_scale_out.py, bench/):

    from deploy.cluster import Cluster

    with Cluster(web=2, workers=2, database_url=..., redis_url=..., email_url=...) as cluster:
        cluster.url          # https://127.0.0.1:PORT (nginx)
        cluster.ca_file      # the certificate authority to verify it with
        cluster.web_urls     # http://127.0.0.1:P1, … (each gunicorn, directly)
        cluster.env          # the processes' environment, for `assure` commands
        cluster.assure("import", "members", "feed.jsonl")

Without a database URL the cluster uses SQLite in its data directory, and without a Redis URL
the database task queue: fine to try, but the production shape is PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
SITE_TEMPLATE = DEPLOY / "nginx-assure.conf"
PROXY_TEMPLATE = DEPLOY / "nginx-assure-proxy.conf"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
HOST = "127.0.0.1"
# Variables of the caller that must not reach the processes: they would pick other settings.
_DROPPED = {"DJANGO_SETTINGS_MODULE", "ASSURE_ENV", "ASSURE_DEMO", "ASSURE_DEBUG"}


class ClusterError(RuntimeError):
    """The cluster could not start (the message names the process and ends with its log)."""


def nginx_binary() -> str | None:
    """nginx's path: on the PATH, or where Debian installs it (/usr/sbin is not on every PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- Certificates ---------------------------------------------------------------------------------


def make_certificates(directory: Path, hosts: Sequence[str] = ("127.0.0.1", "localhost")) -> None:
    """Writes ca.pem, server.pem + server.key (signed by the CA, for `hosts`), and signing.pem +
    signing.key (the fund's self-signed pair that signs certificates, ASSURE_SIGNING_*)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "assure local cluster"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def usage(*, sign: bool, certs: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=certs,
            crl_sign=certs,
            encipher_only=False,
            decipher_only=False,
        )

    def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)

    def builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("assure local cluster CA")
    ca_cert = (
        builder(ca_name, ca_name, ca_key, 30)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=True, certs=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    server_cert = (
        builder(name(hosts[0]), ca_name, server_key, 30)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, certs=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    signing_key = ec.generate_private_key(ec.SECP256R1())
    signing_name = name("assure local cluster (signature des attestations)")
    signing_cert = (
        builder(signing_name, signing_name, signing_key, 30)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, certs=False), critical=True)
        .sign(signing_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (directory / "server.pem").write_bytes(
        server_cert.public_bytes(pem) + ca_cert.public_bytes(pem)
    )
    write_key(directory / "server.key", server_key)
    (directory / "signing.pem").write_bytes(signing_cert.public_bytes(pem))
    write_key(directory / "signing.key", signing_key)


# --- nginx configuration --------------------------------------------------------------------------


def _replace(text: str, old: str, new: str, *, what: str) -> str:
    """Replaces every `old`, which must occur: a template edited out of step fails loudly."""
    if old not in text:
        raise ClusterError(
            f"{what}: {old!r} is no longer in the template; update deploy/cluster.py"
        )
    return text.replace(old, new)


def render_site(
    template: str,
    *,
    https_port: int,
    http_port: int,
    web_ports: Sequence[int],
    certificate: Path,
    certificate_key: Path,
    static_root: Path,
    log_dir: Path,
    proxy_snippet: Path,
    host: str = HOST,
) -> str:
    """nginx-assure.conf with this run's ports and paths; everything else as in production."""
    what = SITE_TEMPLATE.name
    upstream = "\n".join(
        f"    server {host}:{port} max_fails=3 fail_timeout=10s;" for port in web_ports
    )
    replacements = [
        ("    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;", upstream),
        ("    listen 80;\n", f"    listen {host}:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen {host}:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("server_name portail.caisse.example;", "server_name 127.0.0.1 localhost;"),
        # The redirect names the port: the run does not listen on 443.
        (
            "return 301 https://$host$request_uri;",
            f"return 301 https://$host:{https_port}$request_uri;",
        ),
        ("/etc/ssl/assure/fullchain.pem", str(certificate)),
        ("/etc/ssl/assure/privkey.pem", str(certificate_key)),
        # No OCSP responder exists for the run's own certificate authority.
        ("ssl_stapling on;", "ssl_stapling off;"),
        ("ssl_stapling_verify on;", "ssl_stapling_verify off;"),
        ("/var/log/nginx/", f"{log_dir}/"),
        ("/var/www/acme", str(log_dir.parent / "acme")),
        ("alias /var/lib/assure/static/;", f"alias {static_root}/;"),
        ("/etc/nginx/snippets/assure-proxy.conf", str(proxy_snippet)),
    ]
    text = template
    for old, new in replacements:
        text = _replace(text, old, new, what=what)
    return text


def _mime_types() -> str:
    for candidate in ("/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types"):
        if Path(candidate).exists():
            return f"include {candidate};"
    # A minimal table: enough for the portal's static files.
    return (
        "types { text/html html; text/css css; application/javascript js; image/svg+xml svg; "
        "image/png png; image/x-icon ico; font/woff2 woff2; application/json json; }"
    )


def render_main(prefix: Path, site: Path, log_dir: Path) -> str:
    """The main nginx.conf of a run: what a distribution's /etc/nginx/nginx.conf provides."""
    temp = prefix / "temp"
    # As root, nginx's workers would switch to `nobody`, who cannot read the run's files (they
    # sit in private temporary directories): they keep root's rights in this local setting.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"# Rendered by deploy/cluster.py for one local run; the site is {site.name}.\n"
        f"{user}"
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {log_dir}/nginx-error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    {_mime_types()}\n"
        "    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    types_hash_max_size 2048;\n"
        "    server_tokens off;\n"
        f"    client_body_temp_path {temp}/body;\n"
        f"    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n"
        f"    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n"
        f"    include {site};\n"
        "}\n"
    )


def write_nginx_config(
    prefix: Path,
    *,
    https_port: int,
    http_port: int,
    web_ports: Sequence[int],
    certificate: Path,
    certificate_key: Path,
    static_root: Path,
    log_dir: Path,
) -> Path:
    """Renders the deploy templates into `prefix`; returns the main configuration's path."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    proxy = prefix / "assure-proxy.conf"
    proxy.write_text(PROXY_TEMPLATE.read_text())
    site = prefix / "assure.conf"
    site.write_text(
        render_site(
            SITE_TEMPLATE.read_text(),
            https_port=https_port,
            http_port=http_port,
            web_ports=web_ports,
            certificate=certificate,
            certificate_key=certificate_key,
            static_root=static_root,
            log_dir=log_dir,
            proxy_snippet=proxy,
        )
    )
    main = prefix / "nginx.conf"
    main.write_text(render_main(prefix, site, log_dir))
    return main


def nginx_test(main: Path, nginx: str | None = None) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a rendered configuration (exit 0 and "syntax is ok" when it is valid)."""
    binary = nginx or nginx_binary()
    if binary is None:
        raise ClusterError("nginx is not installed (apt-get install nginx)")
    return subprocess.run(  # noqa: S603 - fixed argv
        [binary, "-t", "-p", str(main.parent), "-c", str(main), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# --- Processes ------------------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the launcher is killed outright."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Process:
    """One child of the cluster, its output in a log file of its own."""

    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], log: Path, stop_signal: int
    ) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.stop_signal = stop_signal
        self._log_file = log.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - argv built here
            argv,
            cwd=REPO,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            process_group=0,  # Ctrl-C on a terminal reaches the launcher only
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self, tail: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-tail:]
        return ""

    def signal(self, signum: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signum)

    def close(self) -> None:
        self._log_file.close()


class Cluster:
    """nginx + `web` gunicorn processes + `workers` task workers; see the module's docstring.

    Every argument has a default: free ports, a temporary directory (removed at stop unless
    `keep` is set), the caller's DATABASE_URL/REDIS_URL/EMAIL_URL when not given (pass "" to
    leave one unset), a random SECRET_KEY. `env` adds or overrides variables of the processes.
    """

    def __init__(
        self,
        *,
        web: int = 2,
        workers: int = 2,
        port: int = 0,
        http_port: int = 0,
        database_url: str | None = None,
        redis_url: str | None = None,
        email_url: str | None = None,
        gunicorn_workers: int | None = None,
        directory: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        migrate: bool = True,
        collectstatic: bool = True,
        keep: bool = False,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        if web < 1 or workers < 0:
            raise ValueError("a cluster needs at least one web process and no negative workers")
        self.web = web
        self.workers = workers
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.web_ports: list[int] = []
        self.gunicorn_workers = gunicorn_workers
        self.migrate = migrate
        self.collectstatic = collectstatic
        self.start_timeout = start_timeout
        self._own_directory = directory is None
        self.keep = keep
        self.directory = Path(
            directory if directory is not None else tempfile.mkdtemp(prefix="assure-cluster-")
        ).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log_dir = self.directory / "logs"
        self.log_dir.mkdir(exist_ok=True)
        self.tls_dir = self.directory / "tls"
        self.data_dir = self.directory / "data"
        self.static_root = self.data_dir / "static"
        self.nginx_prefix = self.directory / "nginx"
        self.ca_file = self.tls_dir / "ca.pem"
        self.url = f"https://{HOST}:{self.port}"
        self.http_url = f"http://{HOST}:{self.http_port}"
        self.processes: list[Process] = []
        self.env = self._environment(database_url, redis_url, email_url, env or {})

    # --- environment ---

    def _environment(
        self,
        database_url: str | None,
        redis_url: str | None,
        email_url: str | None,
        extra: Mapping[str, str],
    ) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _DROPPED and not key.startswith("PYTEST_")
        }
        for key, value in (
            ("DATABASE_URL", database_url),
            ("REDIS_URL", redis_url),
            ("EMAIL_URL", email_url),
        ):
            if value is not None:
                env[key] = value
            if not env.get(key):
                env.pop(key, None)
        origins = [f"https://{HOST}:{self.port}", f"https://localhost:{self.port}"]
        env.update(
            ASSURE_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ASSURE_DATA_DIR=str(self.data_dir),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=",".join(origins),
            ASSURE_SITE_URL=origins[0],
            # nginx alone in front: it sets X-Forwarded-For to the client's address.
            ASSURE_TRUSTED_PROXY_COUNT="1",
            ASSURE_SIGNING_KEY=str(self.tls_dir / "signing.key"),
            ASSURE_SIGNING_CERT=str(self.tls_dir / "signing.pem"),
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
            ),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    # --- commands ---

    def assure(self, *args: str, timeout: float = 300) -> str:
        """Runs `assure ARGS` with the cluster's settings; returns its output, raises on failure."""
        result = subprocess.run(  # noqa: S603 - argv built here
            [sys.executable, "-m", "assure", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"assure {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result.stdout

    def assure_all(self, commands: Sequence[Sequence[str]], timeout: float = 300) -> None:
        """Runs several `assure` commands at once; raises if any fails."""
        running = [
            (
                args,
                subprocess.Popen(  # noqa: S603 - argv built here
                    [sys.executable, "-m", "assure", *args],
                    cwd=REPO,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
            for args in commands
        ]
        failures = []
        for args, process in running:
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            if process.returncode != 0:
                failures.append(
                    f"assure {' '.join(args)} exited with {process.returncode}:\n{output[-3000:]}"
                )
        if failures:
            raise ClusterError("\n".join(failures))

    def _spawn(self, name: str, argv: list[str], stop_signal: int = signal.SIGTERM) -> Process:
        process = Process(name, argv, self.env, self.log_dir / f"{name}.log", stop_signal)
        self.processes.append(process)
        return process

    # --- life cycle ---

    def start(self, *, wait: bool = True) -> Cluster:
        """Migrates, collects the static files, starts every process and (unless `wait` is
        False: then call wait_ready() later) waits until all are ready. On any failure, stops
        what it started and raises."""
        try:
            self._start()
            if wait:
                self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        nginx = nginx_binary()
        if nginx is None:
            raise ClusterError("nginx is not installed (apt-get install nginx)")
        make_certificates(self.tls_dir)
        # Once per release, from one machine (docs/operations.md): never from the web processes.
        # The two are independent (collectstatic reads no database): run them side by side.
        self.static_root.mkdir(parents=True, exist_ok=True)
        release = []
        if self.migrate:
            release.append(("migrate", "--noinput", "--verbosity", "0"))
        if self.collectstatic:
            release.append(("collectstatic", "--noinput", "--verbosity", "0"))
        self.assure_all(release)

        self.web_ports = [free_port() for _ in range(self.web)]
        main = write_nginx_config(
            self.nginx_prefix,
            https_port=self.port,
            http_port=self.http_port,
            web_ports=self.web_ports,
            certificate=self.tls_dir / "server.pem",
            certificate_key=self.tls_dir / "server.key",
            static_root=self.static_root,
            log_dir=self.log_dir,
        )
        checked = nginx_test(main, nginx)
        if checked.returncode != 0:
            raise ClusterError(f"nginx -t failed:\n{checked.stderr}")

        for number, port in enumerate(self.web_ports, start=1):
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONF),
                "--bind",
                f"{HOST}:{port}",
            ]
            if self.gunicorn_workers:
                argv += ["--workers", str(self.gunicorn_workers)]
            self._spawn(f"web-{number}", [*argv, "assure.wsgi:application"])
        for number in range(1, self.workers + 1):
            self._spawn(f"worker-{number}", [sys.executable, "-m", "assure", "worker"])
        # SIGQUIT: nginx's graceful stop (connections in progress end first).
        self._spawn(
            "nginx",
            [nginx, "-p", str(self.nginx_prefix), "-c", str(main), "-e", "stderr"],
            stop_signal=signal.SIGQUIT,
        )

    def _fail_if_dead(self) -> None:
        for process in self.processes:
            if not process.running():
                raise ClusterError(
                    f"{process.name} exited with {process.popen.returncode}:\n{process.output()}"
                )

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def status(self, url: str, headers: Mapping[str, str] | None = None) -> int:
        """The HTTP status of a GET (0 when nothing answered); HTTPS verified with the run's CA."""
        request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310
        context = self.ssl_context() if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (OSError, ssl.SSLError):
            return 0

    _status = status  # the earlier name, used by bench/locust/run.py

    @property
    def web_urls(self) -> list[str]:
        return [f"http://{HOST}:{port}" for port in self.web_ports]

    def wait_ready(self, timeout: float | None = None) -> None:
        """Until /readyz answers 200 from every web process directly and through nginx."""
        deadline = time.monotonic() + (timeout or self.start_timeout)
        # Direct calls say they came over HTTPS, as nginx does, or Django redirects them.
        direct = {"X-Forwarded-Proto": "https"}
        pending = [(url + "/readyz", direct) for url in self.web_urls]
        pending.append((self.url + "/readyz", {}))
        while pending:
            self._fail_if_dead()
            url, headers = pending[0]
            if self.status(url, headers) == 200:
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ClusterError(f"{url} did not answer 200 in time; logs in {self.log_dir}")
            time.sleep(0.25)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Graceful stop of every process (nginx first, then the web processes, then the workers);
        what has not stopped after `timeout` seconds is killed."""
        order = sorted(
            self.processes, key=lambda p: ("nginx", "web", "worker").index(p.name.split("-")[0])
        )
        for process in order:
            process.signal(process.stop_signal)
        deadline = time.monotonic() + timeout
        for process in order:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.signal(signal.SIGKILL)
                process.popen.wait(timeout=10)
            process.close()
        self.processes = []
        if self._own_directory and not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def dead(self) -> list[Process]:
        return [p for p in self.processes if not p.running()]

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def describe(self) -> Iterator[str]:
        yield f"assure cluster (ASSURE_ENV=production) in {self.directory}"
        yield f"  HTTPS (nginx)  {self.url}/   certificate authority: {self.ca_file}"
        yield f"  HTTP (nginx)   {self.http_url}/   redirects to HTTPS"
        for number, url in enumerate(self.web_urls, start=1):
            yield f"  web-{number}          {url}/   (gunicorn, direct)"
        yield f"  workers        {self.workers} x `assure worker`"
        database = self.env.get("DATABASE_URL", "SQLite in the data directory")
        redis = self.env.get("REDIS_URL", "none: the database queue")
        yield f"  database       {_safe_url(database)}"
        yield f"  Redis          {_safe_url(redis)}"
        yield f"  logs           {self.log_dir}/"


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web", type=int, default=2, help="gunicorn web processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="task workers (default 2)")
    parser.add_argument("--port", type=int, default=0, help="nginx's HTTPS port (default: free)")
    parser.add_argument("--http-port", type=int, default=0, help="nginx's HTTP port (redirects)")
    parser.add_argument("--database-url", default=None, help="default: $DATABASE_URL, else SQLite")
    parser.add_argument("--redis-url", default=None, help="default: $REDIS_URL, else none")
    parser.add_argument("--email-url", default=None, help="default: $EMAIL_URL, else files")
    parser.add_argument(
        "--gunicorn-workers",
        type=int,
        default=None,
        help="processes per gunicorn (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--dir", default=None, help="directory of the run (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory at stop")
    args = parser.parse_args(argv)

    cluster = Cluster(
        web=args.web,
        workers=args.workers,
        port=args.port,
        http_port=args.http_port,
        database_url=args.database_url,
        redis_url=args.redis_url,
        email_url=args.email_url,
        gunicorn_workers=args.gunicorn_workers,
        directory=args.dir,
        keep=args.keep,
    )
    stopping: list[int] = []
    started = False

    def on_signal(signum: int, frame: object) -> None:
        if not started:  # still starting: start() stops what it started, then this exits
            raise KeyboardInterrupt
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped while starting.", file=sys.stderr)
        return 130
    started = True
    for line in cluster.describe():
        print(line)
    print("ready; Ctrl-C or SIGTERM stops it.", flush=True)
    code = 0
    while not stopping:
        dead = cluster.dead()
        if dead:
            for process in dead:
                print(
                    f"cluster: {process.name} exited with {process.popen.returncode}:\n"
                    f"{process.output()}",
                    file=sys.stderr,
                )
            code = 1
            break
        time.sleep(0.5)
    print("stopping…", flush=True)
    cluster.stop()
    print("stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
