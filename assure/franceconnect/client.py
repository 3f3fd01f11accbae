"""The relying party's side of the protocol, on Authlib's Django client.

Authlib does discovery, the key set (cached, fetched again on demand), the authorization URL and the
code exchange with `client_secret_post`. The tokens it brings back are checked by our own verifier
(`tokens.py`) with the pinned algorithm, because Authlib accepts any algorithm the provider lists.
State and nonce are ours too: 32+ random characters each, kept in the server-side session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from requests import RequestException

from assure.franceconnect import tokens
from assure.franceconnect.exceptions import FranceConnectUnavailable, InvalidUserinfo

SCOPE = "openid identite_pivot email preferred_username"
ACR_VALUES = "eidas1"
# Seconds to wait for FranceConnect; its tokens live 60 s, so a slow answer is as good as none.
HTTP_TIMEOUT = 10


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    alg: str
    redirect_uri: str
    post_logout_redirect_uri: str


def config() -> Config | None:
    """The configuration, or None when FranceConnect is off (issuer, id or secret unset)."""
    if not (
        settings.FRANCECONNECT_ISSUER
        and settings.FRANCECONNECT_CLIENT_ID
        and settings.FRANCECONNECT_CLIENT_SECRET
    ):
        return None
    site = settings.ASSURE_SITE_URL.rstrip("/")
    return Config(
        issuer=settings.FRANCECONNECT_ISSUER.rstrip("/"),
        client_id=settings.FRANCECONNECT_CLIENT_ID,
        client_secret=settings.FRANCECONNECT_CLIENT_SECRET,
        alg=settings.FRANCECONNECT_ALG or "ES256",
        redirect_uri=settings.FRANCECONNECT_REDIRECT_URI or f"{site}/franceconnect/retour/",
        post_logout_redirect_uri=settings.FRANCECONNECT_POST_LOGOUT_REDIRECT_URI
        or f"{site}/franceconnect/deconnexion/retour/",
    )


def enabled() -> bool:
    return config() is not None


def random_value() -> str:
    """43 URL-safe characters (256 bits): above FranceConnect's 32-character minimum."""
    return secrets.token_urlsafe(32)


@lru_cache(maxsize=4)
def _app(cfg: Config) -> Any:
    """One Authlib client per configuration and process: discovery and keys are cached in it."""
    oauth = OAuth()
    return oauth.register(
        name="franceconnect",
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        server_metadata_url=f"{cfg.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": HTTP_TIMEOUT,
            # Authlib treats a token as expired 60 s early by default: with FranceConnect's 60 s
            # access tokens that would refuse the userinfo call made right after the exchange.
            "leeway": 5,
        },
    )


def forget_cached_clients() -> None:
    """Drops discovery and keys (tests start providers with fresh keys)."""
    _app.cache_clear()


class Client:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.app = _app(cfg)

    def _metadata(self) -> dict[str, Any]:
        try:
            return dict(self.app.load_server_metadata())
        except (RequestException, ValueError) as exc:
            raise FranceConnectUnavailable(extra={"reason": "discovery"}) from exc

    def issuer(self) -> str:
        return str(self._metadata().get("issuer") or self.cfg.issuer)

    def _keys(self, fresh: bool) -> dict[str, Any]:
        self._metadata()
        try:
            return dict(self.app.fetch_jwk_set(force=fresh))
        except (RequestException, ValueError, RuntimeError) as exc:
            raise FranceConnectUnavailable(extra={"reason": "jwks"}) from exc

    def authorization_url(self, *, state: str, nonce: str, ui_locales: str = "") -> str:
        """Only the parameters FranceConnect accepts: no PKCE, nothing else."""
        self._metadata()
        extra: dict[str, str] = {"acr_values": ACR_VALUES}
        if ui_locales:
            extra["ui_locales"] = ui_locales
        try:
            result = self.app.create_authorization_url(
                self.cfg.redirect_uri, state=state, nonce=nonce, **extra
            )
        except (RequestException, ValueError, RuntimeError) as exc:
            raise FranceConnectUnavailable(extra={"reason": "discovery"}) from exc
        return str(result["url"])

    def exchange(self, *, code: str) -> dict[str, Any]:
        """The token call, at once: a code lives 30 seconds."""
        try:
            token = self.app.fetch_access_token(
                redirect_uri=self.cfg.redirect_uri, code=code, grant_type="authorization_code"
            )
        except (OAuthError, RequestException, ValueError) as exc:
            reason = getattr(exc, "error", "") or "token_call"
            raise FranceConnectUnavailable(extra={"reason": f"token:{reason}"[:60]}) from exc
        return dict(token)

    def id_token_claims(self, *, id_token: str, nonce: str) -> dict[str, Any]:
        return tokens.id_token_verify(
            id_token,
            alg=self.cfg.alg,
            issuer=self.issuer(),
            client_id=self.cfg.client_id,
            nonce=nonce,
            load_keys=self._keys,
        )

    def userinfo(self, *, token: dict[str, Any], sub: str) -> dict[str, Any]:
        """The userinfo answer must be a signed JWT: a plain JSON answer is refused."""
        endpoint = self._metadata().get("userinfo_endpoint", "")
        try:
            response = self.app.get(endpoint, token=token, headers={"Accept": "application/jwt"})
        except (OAuthError, RequestException, ValueError) as exc:
            raise FranceConnectUnavailable(extra={"reason": "userinfo_call"}) from exc
        if response.status_code != 200:
            raise FranceConnectUnavailable(extra={"reason": f"userinfo:{response.status_code}"})
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/jwt":
            raise InvalidUserinfo(extra={"reason": "unsigned"})
        return tokens.userinfo_verify(
            response.text.strip(),
            alg=self.cfg.alg,
            issuer=self.issuer(),
            client_id=self.cfg.client_id,
            sub=sub,
            load_keys=self._keys,
        )

    def logout_url(self, *, id_token: str, state: str) -> str:
        """`/session/end` with the three parameters FranceConnect requires."""
        endpoint = self._metadata().get("end_session_endpoint") or f"{self.cfg.issuer}/session/end"
        query = urlencode(
            {
                "id_token_hint": id_token,
                "state": state,
                "post_logout_redirect_uri": self.cfg.post_logout_redirect_uri,
            }
        )
        return f"{endpoint}?{query}"


def client() -> Client | None:
    cfg = config()
    return Client(cfg) if cfg else None
