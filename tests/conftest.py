"""Fixtures shared by every suite."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_service(name: str, available: bool, why: str) -> None:
    """A missing service fails the suite in CI and skips it loudly on a laptop (TESTING.md)."""
    if available:
        return
    message = f"{name} is not available: {why}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in French, whatever language a test before it left active."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttling counters and cached values never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


def _production_shape_missing(item: pytest.Item) -> str | None:
    """Why a test of the production shape has no place in this pass, or None when it has one."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if item.get_closest_marker("postgres") and not database_url.startswith("postgres"):
        return "PostgreSQL"
    if item.get_closest_marker("redis") and not redis_url:
        return "Redis"
    if "production_shape_env" in getattr(item, "fixturenames", ()) and not (
        database_url or redis_url
    ):
        return "PostgreSQL + Redis"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The embedded pass (no DATABASE_URL/REDIS_URL) leaves out the tests of the production shape.

    They are not skipped: they belong to the other pass of `.ci/run`, where these services are set,
    and there a missing service fails them. Leaving them out here keeps "skipped" meaning "missed".
    """
    kept, left_out = [], []
    for item in items:
        (left_out if _production_shape_missing(item) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"{len(left_out)} tests of the production shape (PostgreSQL/Redis) are left to "
                "the pass with DATABASE_URL and REDIS_URL set."
            )
