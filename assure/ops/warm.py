"""What a web process loads on its first requests, loaded once before the workers are forked.

gunicorn loads the application in its master (preload_app) and forks the workers from it, also
when it replaces one (max_requests). Whatever the master has loaded, each worker starts with:
without this, every new worker imported the views, compiled each template and read each
translation catalogue on the first requests that needed them, and those requests were the slow
tail of the load test (docs/performance.md). The fund's certificate signer is built here too
(its first use sets up tables of asn1crypto that two threads must not build at once), and the
French holidays the messages' answer dates count with. Nothing here opens a database or Redis
connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.template import engines
from django.urls import get_resolver
from django.utils import timezone, translation


def project_template_names() -> list[str]:
    """The names of assure's own templates (the site's directory and each app's), sorted."""
    templates: list[dict[str, Any]] = settings.TEMPLATES
    roots = [Path(d) for engine in templates for d in engine.get("DIRS", [])]
    roots += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if config.name.startswith("assure.")
    ]
    names = {
        path.relative_to(root).as_posix()
        for root in roots
        if root.is_dir()
        for path in root.rglob("*")
        if path.is_file() and path.suffix in {".html", ".txt"}
    }
    return sorted(names)


def application_warm() -> None:
    get_resolver().url_patterns  # noqa: B018 (reading it imports every view and API module)
    for engine in engines.all():
        for name in project_template_names():
            engine.get_template(name)  # compiled into the engine's cached loader
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Accueil")  # reads the language's catalogues
    if apps.is_installed("assure.documents"):
        from assure.documents.signing import signer_warm

        signer_warm()
    if apps.is_installed("assure.messaging"):
        from assure.messaging.workdays import holidays_warm

        holidays_warm(timezone.localdate())
