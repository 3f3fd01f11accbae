"""French postal addresses: the recipient of a letter and its address block (NF Z10-011).

The standard asks for at most six lines of at most 38 characters, no punctuation at the end of a
line, the postcode and town in capitals on the last line (before the country), and the country in
capitals for mail leaving France. The sorting machines of La Poste read the block from the bottom.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from babel import Locale

MAX_LINES = 6
MAX_WIDTH = 38

FRANCE_NAMES = frozenset({"", "FR", "FRA", "FRANCE", "FRANCE METROPOLITAINE"})

# Usual abbreviations of street types and words, from La Poste's guide to addressing
# (abbreviations allowed by NF Z10-011 when a line is too long).
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("AVENUE", "AV"),
    ("BOULEVARD", "BD"),
    ("CHEMIN", "CHE"),
    ("IMPASSE", "IMP"),
    ("PLACE", "PL"),
    ("QUARTIER", "QUA"),
    ("RESIDENCE", "RES"),
    ("ROUTE", "RTE"),
    ("SQUARE", "SQ"),
    ("ALLEE", "ALL"),
    ("FAUBOURG", "FG"),
    ("BATIMENT", "BAT"),
    ("APPARTEMENT", "APP"),
    ("ESCALIER", "ESC"),
    ("ETAGE", "ETG"),
    ("LIEU DIT", "LD"),
    ("SAINTE", "STE"),
    ("SAINT", "ST"),
    ("MONSIEUR", "M"),
    ("MADAME", "MME"),
    ("DOCTEUR", "DR"),
    ("PROFESSEUR", "PR"),
    ("GENERAL", "GAL"),
    ("MARECHAL", "MAL"),
    ("PRESIDENT", "PDT"),
)

# Removed wherever they appear: La Poste's sorting machines want no commas or full stops in an
# address ("14 AVENUE ...", not "14, avenue ..."). Hyphens and apostrophes stay
# (Saint-Denis, L'Haÿ).
_DROPPED = str.maketrans(dict.fromkeys(',.;:!?()[]{}"«»“”', " "))


_CIVILITIES = frozenset({"M", "MME", "MLLE", "MM", "MMES", "DR", "PR", "ME", "MGR"})


@dataclass(frozen=True)
class PostalRecipient:
    """Whom a letter goes to. `lines` are the lines between the name and the postcode/town."""

    name: str
    lines: tuple[str, ...] = field(default_factory=tuple)
    postal_code: str = ""
    city: str = ""
    country: str = "FRANCE"

    def __post_init__(self) -> None:
        # Callers pass lists from the register; the dataclass stays hashable and frozen.
        object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def is_france(self) -> bool:
        return _ascii_upper(self.country) in FRANCE_NAMES

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "lines": list(self.lines),
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PostalRecipient:
        raw_lines = data.get("lines") or []
        lines = tuple(str(x) for x in raw_lines) if isinstance(raw_lines, list | tuple) else ()
        return cls(
            name=str(data.get("name", "")),
            lines=lines,
            postal_code=str(data.get("postal_code", "")),
            city=str(data.get("city", "")),
            country=str(data.get("country", "FRANCE")),
        )


@functools.cache
def _french_territories() -> dict[str, str]:
    return {str(code): str(name) for code, name in Locale("fr").territories.items()}


def country_name(country: str) -> str:
    """The register may hold ISO 3166 codes ("DE"); the envelope wants the name in French."""
    code = country.strip().upper()
    if len(code) == 2 and code.isascii() and code.isalpha():
        name = _french_territories().get(code)
        if name:
            return str(name)
    return country


def _ascii_upper(text: str) -> str:
    """Capitals without accents, as the standard asks for the town and country lines."""
    text = text.replace("\u2019", "'")  # the typographic apostrophe of "Côte d\u2019Ivoire"
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _clean(stripped).upper()


def _clean(text: str) -> str:
    """One line: no control characters, single spaces, no punctuation or symbol at either end."""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    text = text.translate(_DROPPED)
    text = re.sub(r"\s+", " ", text).strip()
    while text and (text[-1] == " " or unicodedata.category(text[-1])[0] in "PS"):
        text = text[:-1]
    while text and (text[0] == " " or unicodedata.category(text[0])[0] in "PS"):
        text = text[1:]
    return text


def _abbreviate(line: str) -> str:
    """Shortens a line with the usual abbreviations, longest word first, until it fits."""
    for word, short in _ABBREVIATIONS:
        if len(line) <= MAX_WIDTH:
            break
        pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
        # Compare without accents: "Résidence" and "RESIDENCE" are the same word.
        plain = _strip_accents(line)
        match = pattern.search(plain)
        while match and len(line) > MAX_WIDTH:
            line = line[: match.start()] + short + line[match.end() :]
            plain = _strip_accents(line)
            match = pattern.search(plain)
    return line


def _strip_accents(text: str) -> str:
    # One character in, one character out, so that offsets found in the result fit the original.
    out = []
    for c in text:
        base = unicodedata.normalize("NFKD", c)
        kept = "".join(b for b in base if not unicodedata.combining(b))
        out.append(kept[:1] if len(kept) >= 1 else c)
    return "".join(out)


def _fold(line: str) -> list[str]:
    """Cuts a line that is still too long at word boundaries (a word longer than a line is cut)."""
    parts: list[str] = []
    current = ""
    for word in line.split(" "):
        while len(word) > MAX_WIDTH:
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:MAX_WIDTH])
            word = word[MAX_WIDTH:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= MAX_WIDTH:
            current = f"{current} {word}"
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return [p for p in (_clean(p) for p in parts) if p]


def _fit(line: str) -> list[str]:
    line = _clean(line)
    if not line:
        return []
    if len(line) > MAX_WIDTH:
        line = _clean(_abbreviate(line))
    if len(line) > MAX_WIDTH:
        return _fold(line)
    return [line]


def _initial(word: str) -> str:
    """Jean → J, Jean-Baptiste → J-B."""
    return "-".join(part[:1] for part in word.split("-") if part)


def _fit_name(name: str) -> str:
    """The name on one line: civility abbreviated, then given names reduced to initials from the
    left (the surname, last, is what the postman reads), then cut at a word boundary."""
    line = _clean(name)
    if len(line) <= MAX_WIDTH:
        return line
    line = _clean(_abbreviate(line))
    words = line.split(" ")
    start = 1 if words and _strip_accents(words[0]).upper() in _CIVILITIES else 0
    index = start
    while len(" ".join(words)) > MAX_WIDTH and index < len(words) - 1:
        # Particles (de, du, La) belong to the surname and are kept as they are.
        if words[index][:1].isupper() and len(words[index]) > 1:
            words[index] = _initial(words[index])
        index += 1
    line = " ".join(words)
    if len(line) > MAX_WIDTH:
        line = _fold(line)[0]
    return _clean(line)


def address_block(recipient: PostalRecipient) -> list[str]:
    """The lines to print in the envelope window, top to bottom.

    The last lines (postcode and town, then the country) always survive; when the other lines do
    not fit in six, the name is kept and the middle lines are joined or dropped from the least
    useful ones (the ones nearest the name: building and flat details, which the postman needs
    least), so that the street line stays.
    """
    town = _ascii_upper(f"{recipient.postal_code} {recipient.city}")
    if len(town) > MAX_WIDTH:
        town = _clean(_abbreviate(town))[:MAX_WIDTH].rstrip()
        town = _clean(town)
    tail = [town] if town else []
    if not recipient.is_france:
        country = _ascii_upper(country_name(recipient.country))[:MAX_WIDTH]
        country = _clean(country)
        if country:
            tail.append(country)

    name = _fit_name(recipient.name)
    name_lines = [name] if name else []
    body: list[str] = []
    for raw in recipient.lines:
        body.extend(_fit(raw))

    room = MAX_LINES - len(tail) - len(name_lines)
    if len(body) > room:
        # Keep the lines nearest the town (the street, the post box, the locality).
        body = body[len(body) - room :] if room > 0 else []
    return name_lines + body + tail
