"""The ID token and signed userinfo checks, with tokens signed here (no provider needed)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import time_machine
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from assure.franceconnect.exceptions import InvalidIdToken, InvalidUserinfo
from assure.franceconnect.tokens import id_token_verify, userinfo_verify

ISSUER = "https://fc.example.test/api/v2"
CLIENT_ID = "client-123"
NONCE = "n" * 43
SUB = "pairwise-sub-0001"


def _ec(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", {"kid": kid, "alg": "ES256", "use": "sig"}, private=True)


class Keys:
    """The provider's key set as the client sees it; `rotate` changes it behind the cache."""

    def __init__(self, *keys: Any) -> None:
        self.published = list(keys)
        self.cached = list(keys)
        self.fetches = 0

    def rotate(self, *keys: Any) -> None:
        self.published = list(keys)

    def __call__(self, fresh: bool) -> dict[str, Any]:
        if fresh:
            self.fetches += 1
            self.cached = list(self.published)
        return KeySet(self.cached).as_dict(private=False)


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": SUB,
        "exp": now + 60,
        "iat": now,
        "nonce": NONCE,
        "acr": "eidas1",
        "amr": ["pwd"],
        "auth_time": now - 5,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: Any, claims: dict[str, Any], alg: str = "ES256", kid: str | None = None) -> str:
    header = {"alg": alg, "kid": kid if kid is not None else key.kid}
    return jwt.encode(header, claims, key, algorithms=[alg])


def _verify(token: str, keys: Keys, **changes: Any) -> dict[str, Any]:
    options = {
        "alg": "ES256",
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "nonce": NONCE,
        "load_keys": keys,
    }
    options.update(changes)
    return id_token_verify(token, **options)


def _reason(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.extra["reason"])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_id_token_passes():
    key = _ec("k1")
    claims = _verify(_sign(key, _claims()), Keys(key))
    assert claims["sub"] == SUB
    assert claims["acr"] == "eidas1"


def test_hs256_signed_with_the_client_secret_is_refused():
    secret = OctKey.import_key("client-secret-known-to-both-sides-0123456789")
    token = _sign(secret, _claims(), alg="HS256", kid="")
    with pytest.raises(InvalidIdToken) as exc:
        _verify(token, Keys(_ec("k1")))
    assert _reason(exc) == "wrong_alg"


def test_an_unsigned_token_alg_none_is_refused():
    token = f"{_b64({'alg': 'none'})}.{_b64(_claims())}."
    with pytest.raises(InvalidIdToken) as exc:
        _verify(token, Keys(_ec("k1")))
    assert _reason(exc) == "wrong_alg"


def test_rs256_is_refused_when_es256_is_pinned():
    rsa = RSAKey.generate_key(2048, {"kid": "r1", "alg": "RS256"}, private=True)
    with pytest.raises(InvalidIdToken) as exc:
        _verify(_sign(rsa, _claims(), alg="RS256"), Keys(rsa))
    assert _reason(exc) == "wrong_alg"


def test_a_header_claiming_es256_with_a_forged_signature_is_refused():
    key, other = _ec("k1"), _ec("k1")
    with pytest.raises(InvalidIdToken) as exc:
        _verify(_sign(other, _claims()), Keys(key))
    assert _reason(exc) == "bad_signature"


@pytest.mark.parametrize(
    ("changes", "claim"),
    [
        ({"aud": "someone-else"}, "aud"),
        ({"iss": "https://evil.example/api/v2"}, "iss"),
        ({"nonce": "x" * 43}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"acr": "eidas2"}, "acr"),
        ({"acr": None}, "acr"),
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
    ],
)
def test_each_claim_is_checked(changes, claim):
    key = _ec("k1")
    with pytest.raises(InvalidIdToken) as exc:
        _verify(_sign(key, _claims(**changes)), Keys(key))
    assert claim in _reason(exc)


def test_an_expired_id_token_is_refused():
    key = _ec("k1")
    token = _sign(key, _claims())
    keys = Keys(key)
    _verify(token, keys)
    with (
        time_machine.travel(time.time() + 60 + 31, tick=False),
        pytest.raises(InvalidIdToken) as exc,
    ):
        _verify(token, keys)
    assert "expired" in _reason(exc)


def test_an_id_token_issued_in_the_future_is_refused():
    key = _ec("k1")
    now = int(time.time())
    with pytest.raises(InvalidIdToken):
        _verify(_sign(key, _claims(iat=now + 600, exp=now + 660)), Keys(key))


def test_unknown_kid_fetches_the_keys_again_once_then_accepts_the_rotated_key():
    old, new = _ec("old"), _ec("new")
    keys = Keys(old)
    keys.rotate(new)
    claims = _verify(_sign(new, _claims()), keys)
    assert claims["sub"] == SUB
    assert keys.fetches == 1


def test_unknown_kid_fails_after_one_fetch():
    keys = Keys(_ec("k1"))
    stranger = _ec("nobody-knows-me")
    with pytest.raises(InvalidIdToken) as exc:
        _verify(_sign(stranger, _claims()), keys)
    assert _reason(exc) == "unknown_kid"
    assert keys.fetches == 1


def test_userinfo_with_the_same_sub_passes():
    key = _ec("k1")
    token = _sign(key, {"iss": ISSUER, "aud": CLIENT_ID, "sub": SUB, "given_name": "Marie"})
    claims = userinfo_verify(
        token, alg="ES256", issuer=ISSUER, client_id=CLIENT_ID, sub=SUB, load_keys=Keys(key)
    )
    assert claims["given_name"] == "Marie"


def test_userinfo_whose_sub_differs_from_the_id_token_is_refused():
    key = _ec("k1")
    token = _sign(key, {"iss": ISSUER, "aud": CLIENT_ID, "sub": "another-person"})
    with pytest.raises(InvalidUserinfo):
        userinfo_verify(
            token, alg="ES256", issuer=ISSUER, client_id=CLIENT_ID, sub=SUB, load_keys=Keys(key)
        )


def test_unsigned_userinfo_is_refused():
    token = f"{_b64({'alg': 'none'})}.{_b64({'sub': SUB})}."
    with pytest.raises(InvalidUserinfo) as exc:
        userinfo_verify(
            token,
            alg="ES256",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            sub=SUB,
            load_keys=Keys(_ec("k1")),
        )
    assert _reason(exc) == "wrong_alg"


def test_plain_json_userinfo_is_refused():
    with pytest.raises(InvalidUserinfo) as exc:
        userinfo_verify(
            json.dumps({"sub": SUB}),
            alg="ES256",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            sub=SUB,
            load_keys=Keys(_ec("k1")),
        )
    assert _reason(exc) == "malformed"


def test_userinfo_for_another_client_is_refused():
    key = _ec("k1")
    token = _sign(key, {"iss": ISSUER, "aud": "other-client", "sub": SUB})
    with pytest.raises(InvalidUserinfo):
        userinfo_verify(
            token, alg="ES256", issuer=ISSUER, client_id=CLIENT_ID, sub=SUB, load_keys=Keys(key)
        )
