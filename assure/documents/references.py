"""Certificate references: 100 random bits written in Crockford's base32.

Twenty characters shown in groups of four (`7K3Q-…`), read back whatever the case, the dashes or
the letters people confuse (O for 0, I and L for 1). At 100 bits, trying references at any rate the
verification throttle allows finds nothing in the lifetime of the universe.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS = 100
LENGTH = BITS // 5
_CONFUSED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def reference_new() -> str:
    value = secrets.randbits(BITS)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(LENGTH))


def reference_normalize(text: str) -> str | None:
    """The stored form of a typed or scanned reference; None when it cannot be one."""
    if len(text) > 40:
        return None
    cleaned = text.upper().replace("-", "").replace(" ", "").translate(_CONFUSED)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def reference_display(reference: str) -> str:
    return "-".join(reference[i : i + 4] for i in range(0, len(reference), 4))
