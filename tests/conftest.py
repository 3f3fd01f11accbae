"""Fixtures shared by every suite."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

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
def _clear_cache():
    """Throttling counters and cached values never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()
