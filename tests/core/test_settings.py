"""The settings module: production refuses unsafe defaults; the embedded default needs nothing.

Each test evaluates assure/settings.py afresh with its own environment (runpy), so that the
settings of the running test session stay as they are.
"""

from __future__ import annotations

import os
import runpy
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

REPO = Path(__file__).resolve().parents[2]
SETTINGS_FILE = REPO / "assure" / "settings.py"
STRONG_KEY = "k" + secrets.token_urlsafe(60)
VARIABLES = (
    "ASSURE_ENV",
    "ASSURE_DEMO",
    "ASSURE_DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "ALLOWED_HOSTS",
    "ASSURE_SSL_REDIRECT",
    "ASSURE_DB_PREPARED",
)


@pytest.fixture
def load(monkeypatch, tmp_path):
    """Evaluates the settings module with exactly the given variables (and a fresh data dir)."""

    def _load(**env: str) -> dict:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("ASSURE_DATA_DIR", str(tmp_path / "data"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE), run_name="assure_settings_under_test")

    return _load


# --- Production -------------------------------------------------------------------------------


def test_production_requires_a_secret_key(load):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required"):
        load(ASSURE_ENV="production")


def test_an_unknown_environment_name_is_refused(load):
    with pytest.raises(ImproperlyConfigured, match="ASSURE_ENV"):
        load(ASSURE_ENV="prod")


def test_production_turns_on_transport_security(load):
    s = load(ASSURE_ENV="production", SECRET_KEY=STRONG_KEY)
    assert s["DEBUG"] is False
    assert s["DEMO"] is False
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert s["LOG_FORMAT"] == "json"


def test_production_ignores_debug_and_demo_switches(load):
    s = load(ASSURE_ENV="production", SECRET_KEY=STRONG_KEY, ASSURE_DEBUG="1", ASSURE_DEMO="1")
    assert s["DEBUG"] is False
    assert s["DEMO"] is False


def test_development_keeps_plain_cookie_names_for_http(load):
    s = load()
    # Browsers drop __Host- cookies sent over plain HTTP, which the embedded default serves.
    assert "SESSION_COOKIE_NAME" not in s
    assert "CSRF_COOKIE_NAME" not in s
    assert not s.get("SECURE_SSL_REDIRECT", False)
    assert not s.get("SESSION_COOKIE_SECURE", False)


def test_check_deploy_is_clean_in_production(tmp_path):
    """`assure check --deploy` at WARNING level, in a process of its own, production settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in VARIABLES and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        ASSURE_ENV="production",
        ASSURE_DATA_DIR=str(tmp_path),
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="portail.caisse.example",
        DJANGO_SETTINGS_MODULE="assure.settings",
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    result = subprocess.run(
        [sys.executable, "-m", "assure", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


# --- The secret key of the embedded default -------------------------------------------------------


def test_secret_key_is_generated_once_into_the_data_dir(load, tmp_path):
    first = load()["SECRET_KEY"]
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load()["SECRET_KEY"] == first
    assert [p.name for p in key_file.parent.iterdir() if "secret" in p.name] == ["secret_key"]


def test_each_data_dir_gets_its_own_key(load, tmp_path, monkeypatch):
    first = load()["SECRET_KEY"]
    monkeypatch.setenv("ASSURE_DATA_DIR", str(tmp_path / "other"))
    second = runpy.run_path(str(SETTINGS_FILE), run_name="assure_settings_under_test")
    assert second["SECRET_KEY"] != first


def test_secret_key_from_the_environment_wins_and_writes_nothing(load, tmp_path):
    assert load(SECRET_KEY=STRONG_KEY)["SECRET_KEY"] == STRONG_KEY
    assert not (tmp_path / "data" / "secret_key").exists()


# --- The embedded default ------------------------------------------------------------------------


def test_embedded_default_uses_sqlite_wal_and_immediate_transactions(load, tmp_path):
    s = load()
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(db["NAME"]).parent == tmp_path / "data"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert s["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_database_and_redis_urls_switch_to_the_production_shape(load):
    s = load(
        DATABASE_URL="postgres://assure:pw@db.internal:5432/assure",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "assure.core.postgresql"  # Django's, health-checked by a socket poll
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        5432,
        "assure",
        "assure",
    )
    assert db["OPTIONS"]["connect_timeout"] == 3  # fail fast: the 503 page, not a hang
    assert s["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert s["RQ_QUEUES"]["default"]["URL"] == "redis://cache.internal:6379/0"
    assert s["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/0"
    # Redis down: throttling falls back to the database cache; sessions never depend on Redis.
    assert s["CACHES"]["fallback"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["SESSION_ENGINE"] == "assure.core.sessions"  # the database backend, read faster
    assert "django_rq" in s["INSTALLED_APPS"]
    # Statements prepared on each connection, unless a pooler cannot keep them.
    assert db["OPTIONS"]["server_side_binding"] is True
    assert db["OPTIONS"]["prepare_threshold"] == 5
    pooled = load(DATABASE_URL="postgres://assure:pw@db.internal/assure", ASSURE_DB_PREPARED="0")
    assert "server_side_binding" not in pooled["DATABASES"]["default"]["OPTIONS"]
    assert "prepare_threshold" not in pooled["DATABASES"]["default"]["OPTIONS"]


def test_a_page_s_statements_are_prepared_on_postgresql(db):
    """Run often on one connection, a read is parsed and planned once there (PostgreSQL only;
    SQLite's driver keeps its own statement cache)."""
    from django.db import connection

    from assure.payments.selectors import _beneficiaries

    for _ in range(7):
        _beneficiaries.all(-5)
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("members_beneficiary" in statement for statement in prepared), prepared


# --- EMAIL_URL ------------------------------------------------------------------------------------


def test_without_email_url_mail_goes_to_files(load):
    assert load()["ASSURE_EMAIL_DELIVERY"] == "file"


def test_smtp_url_with_starttls_and_credentials(load):
    s = load(EMAIL_URL="smtp://relay%40caisse.example:p%40ss%3Aw0rd@smtp.caisse.example:587?tls=1")
    assert s["ASSURE_EMAIL_DELIVERY"] == "smtp"
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("smtp.caisse.example", 587)
    assert s["EMAIL_HOST_USER"] == "relay@caisse.example"
    assert s["EMAIL_HOST_PASSWORD"] == "p@ss:w0rd"
    assert s["EMAIL_USE_TLS"] is True
    assert s["EMAIL_USE_SSL"] is False
    assert s["EMAIL_TIMEOUT"] > 0


def test_smtps_url_defaults_to_port_465_with_implicit_tls(load):
    s = load(EMAIL_URL="smtps://smtp.caisse.example")
    assert (s["EMAIL_PORT"], s["EMAIL_USE_SSL"], s["EMAIL_USE_TLS"]) == (465, True, False)
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("", "")


def test_plain_smtp_url_defaults_to_port_25_without_tls(load):
    s = load(EMAIL_URL="smtp://127.0.0.1")
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_USE_TLS"]) == ("127.0.0.1", 25, False)


def test_email_url_with_another_scheme_is_refused(load):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        load(EMAIL_URL="http://smtp.caisse.example")
