"""`POST /api/v1/feeds/{feed}`: the fund's systems send a feed (FEEDS.md) as JSON Lines.

The body is read from the request as a stream, a line at a time, so a register of any size goes
through without being held in memory; the answer lists every rejected line.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import HttpBearer

from assure.api.feed_tokens import feed_token_authenticate
from assure.api.models import FeedToken
from assure.api.problems import problem_response
from assure.api.throttling import AddressThrottle, FeedThrottle, throttle_check
from assure.core.exceptions import Throttled
from assure.core.feeds import Reject, feed_get, feed_load, feed_names
from assure.core.models import FeedRun

NDJSON = "application/x-ndjson"

router = Router(tags=["feeds"], throttle=[AddressThrottle(), FeedThrottle()])
_address_throttle = AddressThrottle()


class FeedTokenAuth(HttpBearer):
    """`Authorization: Bearer <feed token>`; a missing, unknown or revoked token is a 401."""

    openapi_description = (
        "A feed token of the fund's systems, created with `assure feed-token create NAME`: "
        "`Authorization: Bearer <feed token>`. Member tokens are not accepted here."
    )

    def __call__(self, request: HttpRequest) -> FeedToken:
        wait = throttle_check(request, _address_throttle)
        if wait is not None:
            raise Throttled(extra={"retry_after": math.ceil(wait)})
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        return feed_token_authenticate(token.strip() if scheme.lower() == "bearer" else None)

    def authenticate(self, request: HttpRequest, token: str) -> FeedToken:
        return feed_token_authenticate(token)


class RejectedLine(Schema):
    line: int
    external_id: str | None
    errors: dict[str, list[str]]


class FeedAnswer(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedLine]


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    errors: dict[str, list[str]] | None = None


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "JSON Lines (UTF-8), one object a line as FEEDS.md describes; blank lines "
        "are ignored.",
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


def _add_feed_endpoint(name: str) -> None:
    @router.post(
        f"/{name}",
        auth=FeedTokenAuth(),
        response={200: FeedAnswer, 401: Problem, 415: Problem},
        operation_id=f"feeds_{name}_load",
        summary=f"Load the {name} feed",
        description=(
            "Idempotent by external_id: a line sent again is counted as unchanged. Each line is "
            "applied whole or rejected whole, with its line number and the reasons by field."
        ),
        openapi_extra=_REQUEST_BODY,
    )
    def load(request: HttpRequest) -> Any:
        if request.content_type != NDJSON:
            return problem_response(
                request,
                status=415,
                code="unsupported_media_type",
                title=_("Le flux doit être envoyé en application/x-ndjson."),
            )
        token: FeedToken = request.auth  # type: ignore[attr-defined]
        rejected: list[Reject] = []
        result, _run = feed_load(
            feed=feed_get(name),
            stream=request,
            source=FeedRun.Source.API,
            actor=token.name,
            on_reject=rejected.append,
        )
        return {**result.counts, "rejected": [r.as_dict() for r in rejected]}

    load.__name__ = f"feeds_{name}_load"


for _name in feed_names():
    _add_feed_endpoint(_name)
