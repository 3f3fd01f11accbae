"""Our own checks of the JWTs FranceConnect signs: the ID token and the signed userinfo.

The algorithm is pinned by configuration and compared with the token's header before anything
else, so that a token signed with `none` or with HS256 (the client secret as key) is refused even
though the engine FranceConnect runs can produce both. On an unknown `kid` the key set is fetched
again once (keys rotate), then the token is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from assure.franceconnect.exceptions import InvalidIdToken, InvalidUserinfo

# Clock difference allowed between FranceConnect and us, in seconds.
LEEWAY = 30
EXPECTED_ACR = "eidas1"

# Returns the JSON key set; `True` asks for a fresh copy from the provider.
KeyLoader = Callable[[bool], Mapping[str, Any]]


def _header(compact: str) -> dict[str, Any]:
    try:
        segment = compact.split(".")[0]
        padded = segment + "=" * (-len(segment) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, IndexError, binascii.Error, UnicodeError) as exc:
        raise ValueError("malformed") from exc
    if not isinstance(header, dict):
        raise ValueError("malformed")
    return header


def _key_for(kid: str | None, load_keys: KeyLoader, alg: str) -> KeySet:
    """The key set holding `kid`, fetched again once when the cached one does not."""
    for fresh in (False, True):
        keys = KeySet.import_key_set(dict(load_keys(fresh)))  # type: ignore[arg-type]
        matching = [
            key for key in keys.keys if (kid is None or key.kid == kid) and key.alg in (None, alg)
        ]
        if matching:
            return KeySet(matching)
    raise ValueError("unknown_kid")


def _decode(compact: str, *, alg: str, load_keys: KeyLoader) -> dict[str, Any]:
    """Checks the header's algorithm and the signature; returns the claims, not yet validated."""
    if not isinstance(compact, str) or compact.count(".") != 2:
        raise ValueError("malformed")
    header = _header(compact)
    if header.get("alg") != alg:
        raise ValueError("wrong_alg")
    keys = _key_for(header.get("kid"), load_keys, alg)
    try:
        token = jwt.decode(compact, keys, algorithms=[alg])
    except JoseError as exc:
        raise ValueError("bad_signature") from exc
    return dict(token.claims)


def _validate(claims: dict[str, Any], options: dict[str, Any]) -> None:
    registry = jwt.JWTClaimsRegistry(leeway=LEEWAY, **options)
    try:
        registry.validate(claims)
    except JoseError as exc:
        claim = getattr(exc, "claim", "")
        reason = getattr(exc, "error", "invalid_claims")
        raise ValueError(f"{reason}:{claim}" if claim else reason) from exc


def id_token_verify(
    compact: str,
    *,
    alg: str,
    issuer: str,
    client_id: str,
    nonce: str,
    load_keys: KeyLoader,
) -> dict[str, Any]:
    """All the checks of FRANCECONNECT.md; raises InvalidIdToken with the failed check as reason."""
    try:
        claims = _decode(compact, alg=alg, load_keys=load_keys)
        _validate(
            claims,
            {
                "iss": {"essential": True, "value": issuer},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
                "acr": {"essential": True, "value": EXPECTED_ACR},
            },
        )
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id not in audiences:
            raise ValueError("invalid_aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
            raise ValueError("invalid_azp")
    except ValueError as exc:
        raise InvalidIdToken(extra={"reason": str(exc)}) from exc
    return claims


def userinfo_verify(
    compact: str,
    *,
    alg: str,
    issuer: str,
    client_id: str,
    sub: str,
    load_keys: KeyLoader,
) -> dict[str, Any]:
    """The signed userinfo answer: same pinned algorithm and keys, and the ID token's `sub`."""
    try:
        claims = _decode(compact, alg=alg, load_keys=load_keys)
        options: dict[str, Any] = {"sub": {"essential": True, "value": sub}}
        # FranceConnect adds iss and aud to the userinfo JWT; when present they must be ours.
        if "iss" in claims:
            options["iss"] = {"essential": True, "value": issuer}
        _validate(claims, options)
        if "aud" in claims:
            audience = claims["aud"]
            if client_id not in (audience if isinstance(audience, list) else [audience]):
                raise ValueError("invalid_aud")
    except ValueError as exc:
        raise InvalidUserinfo(extra={"reason": str(exc)}) from exc
    return claims
