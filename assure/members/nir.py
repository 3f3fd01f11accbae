"""The NIR (numéro de sécurité sociale), validated by python-stdnum (Corsica's 2A/2B included)."""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import nir as stdnum_nir


class InvalidNir(ValueError):
    """Not a NIR: wrong length, characters or key."""


# Already in the register's form: the common case in feeds, spared a second clean-up pass.
_COMPACT_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}")


def normalize_nir(value: str) -> str:
    """The 15-character form kept in the register: spaces and dots removed, letters in capitals."""
    if value and _COMPACT_NIR.fullmatch(value):
        compact = value
    else:
        compact = stdnum_nir.compact(value or "").replace(".", "").replace("-", "")
    try:
        return str(stdnum_nir.validate(compact))
    except StdnumValidationError as exc:
        raise InvalidNir(str(exc)) from exc


def is_temporary_nir(nir: str) -> bool:
    """Temporary NIRs (first digit 7 or 8) are in the register but cannot open an account."""
    return nir[:1] in {"7", "8"}


def mask_nir(nir: str) -> str:
    """First 5 and last 2 characters shown (API.md, GET me)."""
    return nir[:5] + "•" * (len(nir) - 7) + nir[-2:]


def format_nir(nir: str) -> str:
    """Grouped as printed on the carte Vitale: 1 85 05 2A 123 456 33."""
    return str(stdnum_nir.format(nir))


def with_key(nir13: str) -> str:
    """A 13-character NIR completed with its key (for generators and tests)."""
    return nir13 + str(stdnum_nir.calc_check_digits(nir13))
