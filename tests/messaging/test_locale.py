"""The English catalogue of the messaging: complete placeholders, and used by the pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils.translation import trans_real

from tests.messaging.helpers import sign_in

CATALOGUE = Path(__file__).parents[2] / "assure/messaging/locale/en/LC_MESSAGES/django.po"


def _catalogue():
    with CATALOGUE.open("rb") as po_file:
        return read_po(po_file)


def test_every_message_is_translated_with_the_same_placeholders():
    for message in _catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        placeholders = set(re.findall(r"%\(\w+\)s", " ".join(ids)))
        for string in strings:
            assert placeholders == set(re.findall(r"%\(\w+\)s", string)), message.id


@pytest.fixture
def compiled():
    """Compile as `make messages` does (compiled files are not committed)."""
    mo = CATALOGUE.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < CATALOGUE.stat().st_mtime:
        with mo.open("wb") as mo_file:
            write_mo(mo_file, _catalogue(), use_fuzzy=True)
        trans_real._translations = {}
        trans_real._default = None


@pytest.mark.django_db
def test_pages_in_english(client, member, compiled):
    sign_in(client, member)
    page = client.get(reverse("messaging:new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Write a message" in page
    assert "My reimbursements" in page  # the subject's English label, from the data
    assert "A lost, stolen or damaged card" in page
