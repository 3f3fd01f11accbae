"""The gunicorn master loads what the workers' first requests would (assure/ops/warm.py)."""

from __future__ import annotations

import datetime as dt
import sys

from django.template import engines
from django.utils import translation

from assure.ops.warm import application_warm, project_template_names


def test_every_project_template_is_found():
    names = project_template_names()
    assert "base.html" in names
    assert "messaging/staff/inbox.html" in names
    assert "documents/list.html" in names
    assert not any(name.startswith("admin/") for name in names)  # Django's own are not ours


def test_the_views_templates_and_languages_are_loaded():
    application_warm()
    assert "assure.api.routers.documents" in sys.modules
    loader = engines["django"].engine.template_loaders[0]
    kept = getattr(loader, "get_template_cache", {})
    missing = [name for name in project_template_names() if name not in kept]
    assert not missing
    with translation.override("en"):
        assert translation.gettext("Accueil") == "Home"


def test_the_certificate_signer_is_built_before_the_workers_are_forked():
    from assure.documents.signing import _signer_built

    _signer_built.cache_clear()
    application_warm()
    assert _signer_built.cache_info().currsize == 1


def test_the_holidays_of_this_year_and_the_next_are_read_before_the_workers_are_forked():
    from django.utils import timezone

    from assure.messaging.workdays import _french_holidays

    _french_holidays.cache_clear()
    application_warm()
    year = timezone.localdate().year
    assert _french_holidays.cache_info().currsize == 2
    assert dt.date(year + 1, 1, 1) in _french_holidays(year + 1)
    assert _french_holidays.cache_info().hits >= 1
