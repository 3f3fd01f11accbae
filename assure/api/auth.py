"""Bearer authentication of members for every router (API.md, "Authentication (member)")."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from assure.api.throttling import AddressThrottle, MemberThrottle, throttle_check
from assure.core.exceptions import Throttled
from assure.identity.services import access_token_session

_address_throttle = AddressThrottle()
_member = MemberThrottle()


class MemberBearer(HttpBearer):
    """A live access token: sets request.member, request.member_account, request.member_session."""

    openapi_description = (
        "A member's access token (15 minutes), from auth/login, auth/second-factor, "
        "auth/secret-code or auth/refresh: `Authorization: Bearer <access token>`."
    )

    def __call__(self, request: HttpRequest) -> Any | None:
        account = super().__call__(request)
        # Every request spends its address's budget, a good token or not, so guessing tokens is
        # throttled like anything else (over budget, both answer 429: nothing tells them apart).
        # With a good token the member's budget is counted in the same round trip.
        throttles = (_address_throttle,) if account is None else (_address_throttle, _member)
        wait = throttle_check(request, *throttles)
        if wait is not None:
            raise Throttled(extra={"retry_after": math.ceil(wait)})
        return account

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        session = access_token_session(token)
        if session is None:
            return None
        request.member_session = session  # type: ignore[attr-defined]
        request.member_account = session.account  # type: ignore[attr-defined]
        request.member = session.account.member  # type: ignore[attr-defined]
        return session.account


member_auth = MemberBearer()
