"""(prefix, router) pairs mounted under /api/v1/. Each area adds its own line."""

from __future__ import annotations

from ninja import Router

ROUTERS: list[tuple[str, Router]] = []
