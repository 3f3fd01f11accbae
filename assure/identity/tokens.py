"""Random codes and tokens, and the keyed hashes under which they are stored.

High-entropy tokens and short-lived, throttled one-time codes are hashed with HMAC-SHA256 keyed by
SECRET_KEY: a database copy alone cannot be brute-forced, and the check costs microseconds, so it
adds nothing measurable to the timing of a login (the Argon2id check dominates).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

# Crockford's base 32: digits and capitals without I, L, O, U. 32 symbols x 8 = 40 bits. When a
# member types O, I or L, they are read as 0, 1, 1, so a look-alike never makes a code fail.
PROVISIONAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PROVISIONAL_LENGTH = 8
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def keyed_hash(value: str, *, purpose: str) -> str:
    key = f"assure.identity.{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def provisional_code_new() -> str:
    return "".join(secrets.choice(PROVISIONAL_ALPHABET) for _ in range(PROVISIONAL_LENGTH))


def provisional_code_normalize(value: str) -> str:
    """The canonical form of a typed provisional code: capitals, no spaces or dashes."""
    compact = "".join(ch for ch in value.upper() if ch not in " -.")
    return compact.translate(_LOOK_ALIKES)


def looks_like_provisional_code(value: str) -> bool:
    compact = provisional_code_normalize(value)
    return len(compact) == PROVISIONAL_LENGTH and all(c in PROVISIONAL_ALPHABET for c in compact)


def provisional_code_hash(value: str) -> str:
    return keyed_hash(provisional_code_normalize(value), purpose="provisional")


def otp_new() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(value: str, *, purpose: str = "token") -> str:
    return keyed_hash(value, purpose=purpose)


def recovery_code_new() -> str:
    """10 characters of base 32 (50 bits), shown as two groups of five."""
    raw = "".join(secrets.choice(PROVISIONAL_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_hash(value: str) -> str:
    return keyed_hash(provisional_code_normalize(value), purpose="recovery")
