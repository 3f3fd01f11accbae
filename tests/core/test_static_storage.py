"""The production static storage: each file's address worked out once, the same as whitenoise's."""

from __future__ import annotations

import json

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from assure.core.static_storage import KEPT_URLS_MAX, KeptURLStaticFilesStorage


@pytest.fixture
def storages(tmp_path, settings):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STATIC_URL = "/static/"
    settings.DEBUG = False
    manifest = {"paths": {"assure/app.js": "assure/app.0123abcd.js"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return KeptURLStaticFilesStorage(), CompressedManifestStaticFilesStorage()


def test_addresses_are_whitenoises(storages):
    kept, plain = storages
    for _ in range(2):  # worked out, then given back
        assert (
            kept.url("assure/app.js")
            == plain.url("assure/app.js")
            == ("/static/assure/app.0123abcd.js")
        )
    assert kept.url("assure/app.js#top") == plain.url("assure/app.js#top")


def test_a_file_missing_from_the_manifest_is_still_an_error(storages):
    kept, _plain = storages
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            kept.url("assure/absent.js")


def test_debug_gives_the_unhashed_address(storages, settings):
    kept, _plain = storages
    assert kept.url("assure/app.js") == "/static/assure/app.0123abcd.js"
    settings.DEBUG = True
    assert kept.url("assure/app.js") == "/static/assure/app.js"


def test_what_is_kept_is_bounded(storages):
    kept, _plain = storages
    for number in range(KEPT_URLS_MAX + 5):
        kept.url(f"assure/dossier/{number}/")  # a folder: not looked up in the manifest
    assert len(kept._kept_urls) <= KEPT_URLS_MAX
