"""Bearer authentication of members for every router (API.md, "Authentication (member)")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from assure.identity.services import access_token_session


class MemberBearer(HttpBearer):
    """A live access token: sets request.member, request.member_account, request.member_session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        session = access_token_session(token)
        if session is None:
            return None
        request.member_session = session  # type: ignore[attr-defined]
        request.member_account = session.account  # type: ignore[attr-defined]
        request.member = session.account.member  # type: ignore[attr-defined]
        return session.account


member_auth = MemberBearer()
