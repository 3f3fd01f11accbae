"""The back office's English catalogue covers every string of its templates."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

REPO = Path(__file__).parents[2]
CATALOGUE = REPO / "assure/backoffice/locale/en/LC_MESSAGES/django.po"
TEMPLATES = [
    *sorted((REPO / "assure/backoffice/templates").rglob("*.html")),
    *sorted((REPO / "assure/backoffice/templates").rglob("*.txt")),
    REPO / "assure/identity/templates/identity/access_log.html",
]


def _msgids(text: str) -> set[str]:
    found = set(re.findall(r'\{% translate "([^"]*)" %\}', text))
    found |= set(re.findall(r"\{% translate '([^']*)' %\}", text))
    for body in re.findall(r"\{% blocktranslate[^%]*%\}(.*?)\{% endblocktranslate %\}", text, re.S):
        found.add(re.sub(r"\{\{ (\w+) \}\}", r"%(\1)s", body))
    return found


def test_every_template_string_has_an_english_translation():
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = {
        msgid
        for template in TEMPLATES
        for msgid in _msgids(template.read_text(encoding="utf-8"))
        if msgid not in translated
    }
    assert not missing, sorted(missing)
