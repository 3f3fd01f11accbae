"""Bearer authentication of members for every router (API.md, "Authentication (member)")."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from assure.api.throttling import AddressThrottle, throttle_check
from assure.core.exceptions import Throttled
from assure.identity.services import access_token_session

_address_throttle = AddressThrottle()


class MemberBearer(HttpBearer):
    """A live access token: sets request.member, request.member_account, request.member_session."""

    openapi_description = (
        "A member's access token (15 minutes), from auth/login, auth/second-factor, "
        "auth/secret-code or auth/refresh: `Authorization: Bearer <access token>`."
    )

    def __call__(self, request: HttpRequest) -> Any | None:
        # Counted before the token is looked at, so that guessing tokens is throttled too.
        wait = throttle_check(request, _address_throttle)
        if wait is not None:
            raise Throttled(extra={"retry_after": math.ceil(wait)})
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        session = access_token_session(token)
        if session is None:
            return None
        request.member_session = session  # type: ignore[attr-defined]
        request.member_account = session.account  # type: ignore[attr-defined]
        request.member = session.account.member  # type: ignore[attr-defined]
        return session.account


member_auth = MemberBearer()
