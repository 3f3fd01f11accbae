"""The English catalogues of the certificate and card pages are complete and load."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.utils.translation import trans_real

from tests.documents.conftest import issue

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).parents[2] / "assure"


@pytest.fixture(autouse=True)
def _compiled():
    """Compile the catalogues as `make messages` does, so a plain pytest sees them too."""
    for app in ("documents", "cards"):
        po = ROOT / app / "locale/en/LC_MESSAGES/django.po"
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as po_file, mo.open("wb") as mo_file:
                write_mo(mo_file, read_po(po_file), use_fuzzy=True)
    trans_real._translations = {}
    trans_real._default = None
    yield
    trans_real._translations = {}
    trans_real._default = None


def test_every_message_is_translated():
    for app in ("documents", "cards"):
        with (ROOT / app / "locale/en/LC_MESSAGES/django.po").open("rb") as handle:
            catalogue = read_po(handle)
        untranslated = [m.id for m in catalogue if m.id and not m.string]
        assert not untranslated, (app, untranslated)


def test_verification_page_in_english(member, client):
    certificate = issue(member, "entitlement")
    response = client.get(f"/verifier/{certificate.display_reference}/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Valid document" in page
    assert "Certificate of entitlement" in page
    not_valid = client.get("/verifier/0000-0000-0000-0000-0000/", HTTP_ACCEPT_LANGUAGE="en")
    assert "This document is not valid." in not_valid.content.decode()
