"""Test settings: assure's own settings with test-only speed-ups that do not change behaviour.

DATABASE_URL and REDIS_URL are honoured, so the same suite runs on SQLite and on PostgreSQL+Redis.
"""

import os
import tempfile

os.environ.setdefault("ASSURE_ENV", "test")
os.environ.setdefault("ASSURE_DATA_DIR", tempfile.mkdtemp(prefix="assure-test-"))

from assure.settings import *  # noqa: F403
from assure.settings import CACHES, REDIS_URL

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if not REDIS_URL:
    # One process per test run: local memory is enough, and keeps tests independent of table state.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES["default"]["KEY_PREFIX"] = "assure-test"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
if DATABASES["default"]["ENGINE"] == POSTGRESQL_ENGINE:  # noqa: F405
    # Transactional tests are cleaned with TRUNCATE, which the audit trail's trigger refuses unless
    # the connection asks (assure/core/migrations/0001_initial.py); production never asks.
    DATABASES["default"]["OPTIONS"]["options"] = "-c assure.audit_truncate=allow"  # noqa: F405
