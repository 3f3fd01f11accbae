"""assure's settings: the only module that reads the environment (STYLE.md, convention 8).

Without any variable set, assure runs on one machine: SQLite in WAL mode, the database as cache and
task queue, e-mails written as files. DATABASE_URL, REDIS_URL and EMAIL_URL switch each part to its
production shape (DESIGN.md, "Runtime"). ASSURE_ENV=production makes the unsafe defaults errors.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent

ENV = os.environ.get("ASSURE_ENV", "development")
if ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("ASSURE_ENV must be development, test or production.")
PRODUCTION = ENV == "production"
DEMO = os.environ.get("ASSURE_DEMO", "") == "1" and not PRODUCTION
DEBUG = os.environ.get("ASSURE_DEBUG", "") == "1" and not PRODUCTION

DATA_DIR = Path(os.environ.get("ASSURE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
OUTBOX_DIR = DATA_DIR / "outbox"
STATIC_ROOT = DATA_DIR / "static"


def _secret_key() -> str:
    """A secret from the environment, or (outside production) one generated once per data dir."""
    value = os.environ.get("SECRET_KEY", "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when ASSURE_ENV=production.")
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Written whole with mode 0600 under a temporary name, then linked into place: a process
        # starting at the same moment (a gunicorn worker, the task worker) either finds no key
        # or the complete one, never a half-written or world-readable file.
        draft = DATA_DIR / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass  # another process won the race: everyone uses its key
        finally:
            draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "assure.core",
    "assure.notifications",
    "assure.members",
    "assure.identity",
    "assure.franceconnect",
    "assure.payments",
    "assure.cards",
    "assure.messaging",
    "assure.profile",
    "assure.documents",
    "assure.backoffice",
    "assure.api",
    "assure.fhir",
    "assure.ops",
]

MIDDLEWARE = [
    # Outermost: counts every answer and its duration (docs/operations.md, "Metrics").
    "assure.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "assure.core.middleware.SecurityHeadersMiddleware",
    # An unreachable database answers 503 with Retry-After (HTML page, or problem on /api/).
    "assure.core.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "assure.core.middleware.ContentSecurityPolicyMiddleware",
    # Members' safe reads may go to a replica; writes pin the client to the primary for a while.
    "assure.core.db_routers.ReplicaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "assure.backoffice.middleware.StaffIdleMiddleware",
    "assure.identity.middleware.MemberSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: sees a view's database error before it becomes a 503 page.
    "assure.ops.metrics.DatabaseErrorMetricsMiddleware",
]

ROOT_URLCONF = "assure.urls"
WSGI_APPLICATION = "assure.wsgi.application"
# Every form renders in the GOV.UK Frontend markup (label, hint, error message, fieldsets).
FORM_RENDERER = "assure.core.forms.GovukFormRenderer"

TEMPLATES = [
    {
        # Django's backend, with `{% load i18n %}` keeping fixed texts (core/template_i18n.py).
        "BACKEND": "assure.core.template_i18n.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% url %}` as Django's, fixed addresses kept once reversed (core/fixed_urls.py).
            "builtins": ["assure.core.fixed_urls"],
            "libraries": {"i18n": "assure.core.template_i18n"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assure.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRESQL_ENGINE = "assure.core.postgresql"
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that polls the socket instead of a SELECT 1
        # round trip per request (assure/core/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
        # A query that hangs must not hold a web worker: fail fast, answer 503, recover.
        DATABASES["default"].setdefault("OPTIONS", {})
        # A server that is down or restarting refuses at once; one that does not answer at all
        # (a lost host) costs this many seconds before the 503 page (docs/operations.md, faults).
        DATABASES["default"]["OPTIONS"].setdefault(
            "connect_timeout", int(os.environ.get("ASSURE_DB_CONNECT_TIMEOUT", "3"))
        )
        # Parameters sent apart from the statement, and a statement run five times on a connection
        # prepared there (psycopg): PostgreSQL then parses and plans the reads of every page once
        # per connection instead of on every request (docs/performance.md). ASSURE_DB_PREPARED=0
        # turns it off, for a pooler in transaction mode that does not keep prepared statements
        # (PgBouncer before 1.21, or without max_prepared_statements).
        if os.environ.get("ASSURE_DB_PREPARED", "1") != "0":
            DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
            DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "assure.sqlite3"),
            # Reusing connections spares every request the PRAGMAs below (measured by
            # bench/login.py: the per-request overhead around the password hash drops by half).
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
                # BEGIN so that two writers queue on the busy timeout instead of failing with
                # "database is locked" when one upgrades a read transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
# Read replicas (docs/operations.md, "Read replicas"): PostgreSQL standbys serving members' reads
# of the apps below; writes, transactions, the back office and the requests that follow a write
# read the primary (assure/core/db_routers.py). Migrations run on the primary only.
DATABASE_REPLICA_URLS = [
    url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()
]
if DATABASE_REPLICA_URLS and DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL.")
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = dj_database_url.parse(_url, conn_max_age=60)
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica["ENGINE"] = POSTGRESQL_ENGINE
    _replica["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **_replica.get("OPTIONS", {})}
    # A test run creates no database for a replica: it reads the test database under its alias.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["assure.core.db_routers.ReplicaRouter"]
# Apps whose tables members read and that only feeds or the member's own requests write.
DATABASE_REPLICA_APPS = ["members", "payments", "cards", "messaging", "documents"]
# Always read from the primary: advisors act on what they see.
DATABASE_REPLICA_PRIMARY_PATHS = ["/backoffice/"]
# After a write, the same browser (cookie) or API client (its Authorization header) reads the
# primary for this long: above the replicas' usual replication lag.
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("ASSURE_REPLICA_PIN_SECONDS", "15"))
DATABASE_REPLICA_PIN_COOKIE = "__Host-assure_primary" if PRODUCTION else "assure_primary"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, tasks -----------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
# Past this many rows Django's database cache deletes a third of them, whatever they hold: with its
# default of 300, spraying a few hundred NIRs would evict throttling counters and locks. Expired
# rows go first; a spray that fills this many live rows is stopped long before by the per-address
# limit (docs/security.md).
DATABASE_CACHE_MAX_ENTRIES = 200_000
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Throttling counters fall back to this database cache while Redis is down (identity).
    CACHES["fallback"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "assure_cache",
        "OPTIONS": {"MAX_ENTRIES": DATABASE_CACHE_MAX_ENTRIES},
    }
    # Sessions live in the database alone: a Redis outage logs nobody out and blocks no login, and
    # a logout during one is never undone by a stale cached copy (docs/operations.md, faults).
    SESSION_ENGINE = "assure.core.sessions"
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    INSTALLED_APPS += ["django_rq"]
else:
    # The database cache is shared by every process on the machine, so throttling counters hold
    # across gunicorn workers; local memory would give each worker its own count.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "assure_cache",
            "OPTIONS": {"MAX_ENTRIES": DATABASE_CACHE_MAX_ENTRIES},
        }
    }
    SESSION_ENGINE = "assure.core.sessions"
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- E-mail ---------------------------------------------------------------------------------------

EMAIL_URL = os.environ.get("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("ASSURE_FROM_EMAIL", "ne-pas-repondre@assure.invalid")
if EMAIL_URL:
    _email = urlsplit(EMAIL_URL)
    _email_options = parse_qs(_email.query)
    if _email.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured("EMAIL_URL must start with smtp:// or smtps://.")
    ASSURE_EMAIL_DELIVERY = "smtp"
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = _email_options.get("tls", ["0"])[0] in {"1", "true", "yes"}
    EMAIL_TIMEOUT = 10
else:
    ASSURE_EMAIL_DELIVERY = "file"
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- Authentication -------------------------------------------------------------------------------

# Argon2id at m=19 MiB, t=2, p=1 (OWASP's minimum): about 57 hashes/s per core on the reference
# machine, where Django's default memory cost would let a login flood exhaust memory (DESIGN.md).
PASSWORD_HASHERS = ["assure.core.hashers.Argon2idHasher"]
# Staff only (members sign in through assure.identity): Django's model backend with its per-page
# reads of the user and their permissions compiled once (assure/backoffice/auth.py).
AUTHENTICATION_BACKENDS = ["assure.backoffice.auth.StaffBackend"]
ARGON2_MEMORY_COST_KIB = int(os.environ.get("ASSURE_ARGON2_MEMORY_KIB", "19456"))
ARGON2_TIME_COST = int(os.environ.get("ASSURE_ARGON2_TIME_COST", "2"))
ARGON2_PARALLELISM = 1

# Member accounts (identity): code lifetimes, second factor, throttling, tokens (issue 3).
IDENTITY_PROVISIONAL_EMAIL_HOURS = int(os.environ.get("ASSURE_PROVISIONAL_EMAIL_HOURS", "48"))
IDENTITY_PROVISIONAL_POST_DAYS = int(os.environ.get("ASSURE_PROVISIONAL_POST_DAYS", "15"))
IDENTITY_CODE_TRIES = 5  # a provisional code, an e-mailed code, a second-factor challenge
IDENTITY_OTP_SECONDS = 10 * 60
IDENTITY_DEVICE_DAYS = 90
IDENTITY_LOCK_AFTER_FAILURES = 5
IDENTITY_LOCK_FIRST_SECONDS = 15 * 60  # then doubled at each new lock
IDENTITY_FAILURES_PER_HOUR = 100
IDENTITY_ADDRESS_FAILURES = int(os.environ.get("ASSURE_ADDRESS_FAILURES", "50"))
IDENTITY_ADDRESS_WINDOW_SECONDS = 10 * 60
IDENTITY_ADDRESS_BLOCK_SECONDS = int(os.environ.get("ASSURE_ADDRESS_BLOCK_SECONDS", "600"))
IDENTITY_CODE_SENDS_PER_DAY = 3  # provisional codes sent to one member in 24 hours
IDENTITY_REQUESTS_PER_ADDRESS_HOUR = int(os.environ.get("ASSURE_REQUESTS_PER_ADDRESS", "30"))
IDENTITY_ACCESS_TOKEN_SECONDS = 15 * 60
IDENTITY_REFRESH_TOKEN_DAYS = 30
# Number of reverse proxies in front of gunicorn whose X-Forwarded-For can be trusted.
IDENTITY_TRUSTED_PROXY_COUNT = int(os.environ.get("ASSURE_TRUSTED_PROXY_COUNT", "0"))
IDENTITY_DEVICE_COOKIE = "__Host-assure_device" if PRODUCTION else "assure_device"
IDENTITY_NIR_COOKIE = "__Host-assure_nir" if PRODUCTION else "assure_nir"

# Messaging (issue 6): answer date in working days, attachment limit, optional virus scanning.
MESSAGING_ANSWER_WORKING_DAYS = int(os.environ.get("ASSURE_MESSAGING_ANSWER_DAYS", "5"))
MESSAGING_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# clamd's Unix socket (e.g. /run/clamav/clamd.ctl); unset, attachments are not virus-scanned.
CLAMD_SOCKET = os.environ.get("ASSURE_CLAMD_SOCKET", "")
# Where advisors are sent to sign in; the page itself belongs to the back office.
BACKOFFICE_LOGIN_URL = "/backoffice/connexion/"
# Back office (issue 7): staff sessions end after 15 idle minutes; enrolment links and passed
# identity checks expire; the staff sign-in is throttled like the members' (identity's counters).
BACKOFFICE_IDLE_SECONDS = int(os.environ.get("ASSURE_BACKOFFICE_IDLE_SECONDS", "900"))
BACKOFFICE_ENROLMENT_HOURS = int(os.environ.get("ASSURE_BACKOFFICE_ENROLMENT_HOURS", "72"))
BACKOFFICE_CHECK_MINUTES = 30
BACKOFFICE_CONSULTATION_MINUTES = 15
LOGIN_URL = BACKOFFICE_LOGIN_URL  # Django's own login_required serves staff pages only

# Certificates (documents) and European Health Insurance Card orders (cards), issue 5.
# The fund's signing key and certificate (PEM files). Unset outside production, a self-signed pair
# is generated once into <data>/signing/ so that the demo's certificates are signed too.
DOCUMENTS_SIGNING_KEY = os.environ.get("ASSURE_SIGNING_KEY", "")
DOCUMENTS_SIGNING_CERT = os.environ.get("ASSURE_SIGNING_CERT", "")
DOCUMENTS_SIGNING_DIR = DATA_DIR / "signing"
DOCUMENTS_CPR_VALIDITY_MONTHS = 3  # certificat provisoire de remplacement (DOMAIN.md)
DOCUMENTS_ENTITLEMENT_VALIDITY_MONTHS = int(os.environ.get("ASSURE_ENTITLEMENT_MONTHS", "12"))
DOCUMENTS_ALLOWANCE_MAX_DAYS = 366  # one page holds about a year of fortnightly payments
# Public verification page: lookups per client address per window, so references cannot be tried.
DOCUMENTS_VERIFY_PER_ADDRESS = int(os.environ.get("ASSURE_VERIFY_PER_ADDRESS", "30"))
DOCUMENTS_VERIFY_WINDOW_SECONDS = 10 * 60
# The fund's identification number printed on the provisional certificate (box 7).
ASSURE_FUND_INSTITUTION_ID = os.environ.get("ASSURE_FUND_INSTITUTION_ID", "0000 - DEMO")
CARDS_EHIC_DELIVERY_DAYS = int(os.environ.get("ASSURE_EHIC_DELIVERY_DAYS", "10"))
CARDS_EHIC_VALIDITY_YEARS = 2
CARDS_EXPORT_DIR = DATA_DIR / "cards"

# --- FranceConnect (docs FRANCECONNECT.md) --------------------------------------------------------
# Unset issuer, client id or secret: FranceConnect is off and its button is shown nowhere.
FRANCECONNECT_ISSUER = os.environ.get("FRANCECONNECT_ISSUER", "").rstrip("/")
FRANCECONNECT_CLIENT_ID = os.environ.get("FRANCECONNECT_CLIENT_ID", "")
FRANCECONNECT_CLIENT_SECRET = os.environ.get("FRANCECONNECT_CLIENT_SECRET", "")
# The signature algorithm agreed for this client: any token whose header says otherwise is refused.
FRANCECONNECT_ALG = os.environ.get("FRANCECONNECT_ALG", "ES256")
# The URIs registered with FranceConnect; by default derived from the public address.
FRANCECONNECT_REDIRECT_URI = os.environ.get("FRANCECONNECT_REDIRECT_URI", "")
FRANCECONNECT_POST_LOGOUT_REDIRECT_URI = os.environ.get(
    "FRANCECONNECT_POST_LOGOUT_REDIRECT_URI", ""
)

# --- Internationalisation -------------------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------

STATIC_URL = "/static/"
# The compiled stylesheet and scripts of the shell (frontend/ builds them; committed).
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media-not-served/"  # files are only ever served through views that check the owner
STORAGES = {
    # Files flushed to disk before the rows naming them commit (assure/core/durable_storage.py).
    "default": {"BACKEND": "assure.core.durable_storage.DurableFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "assure.core.static_storage.KeptURLStaticFilesStorage"
            if PRODUCTION or DEMO
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not (PRODUCTION or DEMO)

# --- Security -------------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute lifetime; the idle limit is enforced by identity
SESSION_IDLE_SECONDS = 30 * 60
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "assure.core.views.csrf_failure"
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("ASSURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted by browsers over HTTPS, on the exact host, path "/".
    SESSION_COOKIE_NAME = "__Host-assure_session"
    CSRF_COOKIE_NAME = "__Host-assure_csrf"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

# --- Logging: identifiers masked in every record --------------------------------------------------

LOG_LEVEL = os.environ.get("ASSURE_LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("ASSURE_LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_identifiers": {"()": "assure.core.logging.MaskIdentifiersFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "assure.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_identifiers"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- The fund: name, address and theme ------------------------------------------------------------

ASSURE_FUND_NAME = os.environ.get("ASSURE_FUND_NAME", "Caisse d'assurance maladie de démonstration")
ASSURE_FUND_SHORT_NAME = os.environ.get("ASSURE_FUND_SHORT_NAME", "assure")
ASSURE_FUND_ADDRESS = [
    line.strip()
    for line in os.environ.get(
        "ASSURE_FUND_ADDRESS", "Service des assurés|1 rue de la Santé|75014 PARIS"
    ).split("|")
    if line.strip()
]
ASSURE_FUND_PHONE = os.environ.get("ASSURE_FUND_PHONE", "3646")
ASSURE_THEME = {
    "brand": os.environ.get("ASSURE_THEME_BRAND", "#1d5c8c"),
    "brand_dark": os.environ.get("ASSURE_THEME_BRAND_DARK", "#123a59"),
    "logo": os.environ.get("ASSURE_THEME_LOGO", ""),
}
ASSURE_SITE_URL = os.environ.get("ASSURE_SITE_URL", "http://127.0.0.1:8000")

# --- Feeds, outbox, retention ---------------------------------------------------------------------

FEED_BATCH_SIZE = int(os.environ.get("ASSURE_FEED_BATCH_SIZE", "1000"))
# Payments: months of statements shown by default; days from a paid period's end to the next
# expected sick-pay payment (DOMAIN.md: about every 14 days).
PAYMENTS_HISTORY_MONTHS = int(os.environ.get("ASSURE_PAYMENTS_HISTORY_MONTHS", "27"))
ALLOWANCE_PAYMENT_INTERVAL_DAYS = int(os.environ.get("ASSURE_ALLOWANCE_INTERVAL_DAYS", "14"))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("ASSURE_OUTBOX_MAX_ATTEMPTS", "12"))
OUTBOX_RETRY_BASE_SECONDS = int(os.environ.get("ASSURE_OUTBOX_RETRY_BASE_SECONDS", "30"))
# How long a worker holds a message it is sending before another may take it over: above the SMTP
# timeout (EMAIL_TIMEOUT), so that a slow send is never doubled by a second worker.
OUTBOX_LEASE_SECONDS = int(os.environ.get("ASSURE_OUTBOX_LEASE_SECONDS", "300"))
# Figures shown on /readyz beside the database, cache and queue checks, named here by dotted path
# because `core`, which serves /readyz, sits below the apps that own them (STYLE.md layers).
READINESS_FIGURES = {"outbox": "assure.notifications.selectors.outbox_backlog"}

# --- Metrics (docs/operations.md, "Metrics") ------------------------------------------------------

# The bearer token Prometheus sends to /metrics; unset, /metrics answers 404 as if absent.
METRICS_TOKEN = os.environ.get("ASSURE_METRICS_TOKEN", "")
if PRODUCTION and METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("ASSURE_METRICS_TOKEN must be at least 32 characters.")
# Each process adds its counts to files here and /metrics sums them (prometheus_client's
# multiprocess mode, which reads the directory from PROMETHEUS_MULTIPROC_DIR only: set for it here,
# before any metric exists, and inherited by gunicorn's workers). One folder per host by default:
# the data directory may be shared by several machines, and process ids are per machine.
METRICS_DIR = Path(
    os.environ.get("ASSURE_METRICS_DIR", "") or DATA_DIR / "metrics" / os.uname().nodename
).resolve()
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# Prometheus scrapes each web machine directly, on its private address: no HTTPS redirect there.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]

# --- API ------------------------------------------------------------------------------------------

NINJA_PAGINATION_MAX_LIMIT = 100
# Request rates of the API ("count/seconds"), counted in the shared cache
# (assure/api/throttling.py): per client address on every endpoint, stricter on auth/*, per
# account, per feed token.
API_THROTTLE_RATES = {
    "address": os.environ.get("ASSURE_API_RATE_ADDRESS", "600/60"),
    "auth": os.environ.get("ASSURE_API_RATE_AUTH", "30/60"),
    "member": os.environ.get("ASSURE_API_RATE_MEMBER", "300/60"),
    "feed": os.environ.get("ASSURE_API_RATE_FEED", "120/60"),
}
API_THROTTLE_DEFAULT_RETRY_AFTER = 60
