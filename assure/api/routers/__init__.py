"""(prefix, router) pairs mounted under /api/v1/. Each area adds its own line."""

from __future__ import annotations

from ninja import Router

ROUTERS: list[tuple[str, Router]] = []

from assure.api.routers.feeds import router as feeds_router  # noqa: E402

ROUTERS.append(("/feeds", feeds_router))

from assure.api.routers.auth import router as auth_router  # noqa: E402

ROUTERS.append(("/auth", auth_router))

from assure.api.routers.account import router as account_router  # noqa: E402

ROUTERS.append(("", account_router))

from assure.api.routers.payments import router as payments_router  # noqa: E402

ROUTERS.append(("", payments_router))

from assure.api.routers.messaging import router as messaging_router  # noqa: E402

ROUTERS.append(("", messaging_router))

from assure.api.routers.documents import router as documents_router  # noqa: E402

ROUTERS.append(("", documents_router))

from assure.api.routers.cards import router as cards_router  # noqa: E402

ROUTERS.append(("", cards_router))

from assure.api.routers.profile import router as profile_router  # noqa: E402

ROUTERS.append(("", profile_router))

from assure.api.routers.access_log import router as access_log_router  # noqa: E402

ROUTERS.append(("", access_log_router))
