"""The address block of letters (NF Z10-011), by examples and by properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assure.notifications.postal import (
    MAX_LINES,
    MAX_WIDTH,
    PostalRecipient,
    address_block,
    country_name,
)

CASES = [
    pytest.param(
        PostalRecipient(
            name="Mme Zoé Lefèvre",
            lines=("Appartement 12, escalier B", "14, avenue du Général Leclerc."),
            postal_code="75014",
            city="Paris",
        ),
        [
            "Mme Zoé Lefèvre",
            "Appartement 12 escalier B",
            "14 avenue du Général Leclerc",
            "75014 PARIS",
        ],
        id="france-commas-and-stops-removed",
    ),
    pytest.param(
        PostalRecipient(
            name="M. Hans Müller",
            lines=("Hauptstraße 5",),
            postal_code="10115",
            city="Berlin",
            country="Allemagne",
        ),
        ["M Hans Müller", "Hauptstraße 5", "10115 BERLIN", "ALLEMAGNE"],
        id="abroad-country-in-capitals",
    ),
    pytest.param(
        PostalRecipient(
            name="Paul Martin",
            lines=("3 rue Haute",),
            postal_code="97400",
            city="Saint-Denis",
            country="france",
        ),
        ["Paul Martin", "3 rue Haute", "97400 SAINT-DENIS"],
        id="france-never-written",
    ),
    pytest.param(
        PostalRecipient(
            name="Monsieur Jean-Baptiste de La Rochefoucauld-Montmorency",
            lines=("Boulevard du Maréchal de Lattre de Tassigny",),
            postal_code="13008",
            city="Marseille",
        ),
        [
            "M J-B de La Rochefoucauld-Montmorency",
            "BD du Maréchal de Lattre de Tassigny",
            "13008 MARSEILLE",
        ],
        id="long-lines-abbreviated",
    ),
    pytest.param(
        PostalRecipient(
            name="Léa Roux",
            lines=(
                "Chez M. et Mme Dupont",
                "Bâtiment A",
                "Résidence Les Pins",
                "12 rue Neuve",
                "BP 7",
            ),
            postal_code="69001",
            city="Lyon",
            country="Suisse",
        ),
        ["Léa Roux", "Résidence Les Pins", "12 rue Neuve", "BP 7", "69001 LYON", "SUISSE"],
        id="too-many-lines-keep-those-nearest-the-town",
    ),
    pytest.param(
        PostalRecipient(
            name="Anne Petit",
            lines=("Lieu-dit le Grand Champ au-dessus du moulin de la rivière",),
            postal_code="29000",
            city="Quimper",
        ),
        [
            "Anne Petit",
            "Lieu-dit le Grand Champ au-dessus du",
            "moulin de la rivière",
            "29000 QUIMPER",
        ],
        id="folded-at-a-word-boundary",
    ),
    pytest.param(
        PostalRecipient(
            name="  Ève   Durand  ",
            lines=("", "  7 place d'Armes  ", "\t"),
            postal_code=" 80000 ",
            city="amiens",
        ),
        ["Ève Durand", "7 place d'Armes", "80000 AMIENS"],
        id="spaces-and-empty-lines",
    ),
    pytest.param(
        PostalRecipient(
            name="Luc Blanc",
            lines=("4 rue de l'Église",),
            postal_code="94240",
            city="L'Haÿ-les-Roses",
        ),
        ["Luc Blanc", "4 rue de l'Église", "94240 L'HAY-LES-ROSES"],
        id="accents-removed-from-the-town-line",
    ),
]


CASES += [
    pytest.param(
        PostalRecipient(
            name="Ana Silva",
            lines=("Rua Nova 3",),
            postal_code="1000-001",
            city="Lisboa",
            country="PT",
        ),
        ["Ana Silva", "Rua Nova 3", "1000-001 LISBOA", "PORTUGAL"],
        id="iso-code-becomes-the-french-name",
    ),
    pytest.param(
        PostalRecipient(
            name="Awa Koné", lines=("Rue 12",), postal_code="01 BP 1", city="Abidjan", country="CI"
        ),
        ["Awa Koné", "Rue 12", "01 BP 1 ABIDJAN", "COTE D'IVOIRE"],
        id="typographic-apostrophe",
    ),
    pytest.param(
        PostalRecipient(
            name="Jean Roy", lines=("1 rue Basse",), postal_code="75001", city="Paris", country="FR"
        ),
        ["Jean Roy", "1 rue Basse", "75001 PARIS"],
        id="fr-code-is-france",
    ),
]


@pytest.mark.parametrize(("recipient", "expected"), CASES)
def test_address_block_examples(recipient, expected):
    assert address_block(recipient) == expected


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs", "Cc")),
    max_size=80,
)
recipients = st.builds(
    PostalRecipient,
    name=text,
    lines=st.lists(text, max_size=8).map(tuple),
    postal_code=st.from_regex(r"[0-9]{5}", fullmatch=True) | text,
    city=text,
    country=st.sampled_from(["France", "FRANCE", "", "Belgique", "Côte d'Ivoire", "DE", "ch"])
    | text,
)


@settings(max_examples=400, deadline=None)
@given(recipients)
def test_address_block_properties(recipient):
    block = address_block(recipient)
    assert len(block) <= MAX_LINES
    for line in block:
        assert line, "no empty line"
        assert len(line) <= MAX_WIDTH
        assert line == line.strip()
        assert "  " not in line
        assert not _is_punctuation(line[0])
        assert not _is_punctuation(line[-1])
        assert all(unicodedata.category(c)[0] != "C" for c in line)
    if recipient.is_france:
        town = block[-1] if block else ""
    else:
        town = block[-2] if len(block) >= 2 else ""
    if recipient.postal_code.isdigit() and recipient.city.isalpha() and recipient.city.isascii():
        assert town == town.upper()
        assert town.startswith(recipient.postal_code)
    country = country_name(recipient.country)
    if not recipient.is_france and country.isalpha() and country.isascii():
        assert block[-1] == country.upper()[:MAX_WIDTH]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.from_regex(r"[A-Za-z]{1,12}( [A-Za-z]{1,12}){0,6}", fullmatch=True).filter(
            lambda line: len(line) <= MAX_WIDTH
        ),
        min_size=1,
        max_size=MAX_LINES - 2,
    )
)
def test_ordinary_street_lines_are_never_lost(lines):
    """Plain lines that fit are kept word for word, in order."""
    recipient = PostalRecipient(name="A B", lines=tuple(lines), postal_code="75001", city="Paris")
    block = address_block(recipient)
    kept = " ".join(block[1:-1]).split()
    assert kept == " ".join(lines).split()
