"""A bare Django project: one view answering "hello", no middleware, no database.

The baseline of bench/locust/run.py, served by gunicorn with the project's own gunicorn settings
(assure.ops.gunicorn_conf, which reads LOG_FORMAT) behind the same nginx configuration:

    DJANGO_SETTINGS_MODULE=hello.settings PYTHONPATH=bench \\
        gunicorn -c python:assure.ops.gunicorn_conf --bind 127.0.0.1:8602 hello.wsgi:application
"""

import os
import tempfile
from pathlib import Path

SECRET_KEY = "bench-hello-not-secret"  # noqa: S105 - serves one constant page
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "hello.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOG_FORMAT = "text"
# Read by the gunicorn settings' hooks (Prometheus files): a directory of the baseline's own.
METRICS_DIR = Path(
    os.environ.get("ASSURE_METRICS_DIR") or Path(tempfile.gettempdir()) / "assure-hello-metrics"
).resolve()
METRICS_DIR.mkdir(parents=True, exist_ok=True)
