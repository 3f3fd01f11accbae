"""Fixtures of the outbox tests: a private spool folder and an e-mail backend that can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from assure.notifications.postal import PostalRecipient


class FlakyBackend:
    """An e-mail backend that fails a set number of times, then delivers to `sent`."""

    failures_left = 0
    error: type[Exception] = ConnectionRefusedError
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise FlakyBackend.error("refused for jane.doe@example.org")
        FlakyBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture(scope="session", autouse=True)
def _english_catalogue():
    """`make test` compiles every catalogue; a bare `pytest` run gets this app's compiled too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from django.utils.translation import trans_real

    import assure.notifications

    po = Path(assure.notifications.__file__).parent / "locale/en/LC_MESSAGES/django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with open(po, "rb") as handle:
            catalog = read_po(handle)
        with open(mo, "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=True)
        trans_real._translations = {}
        trans_real._default = None
    return


@pytest.fixture
def outbox_dir(settings, tmp_path) -> Path:
    settings.OUTBOX_DIR = tmp_path / "outbox"
    return settings.OUTBOX_DIR


@pytest.fixture
def file_delivery(settings, outbox_dir) -> Path:
    settings.ASSURE_EMAIL_DELIVERY = "file"
    return outbox_dir


@pytest.fixture
def smtp_locmem(settings, outbox_dir):
    """The SMTP path through Django's mail API, caught by the locmem backend."""
    settings.ASSURE_EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    mail.outbox = []
    return mail.outbox


@pytest.fixture
def flaky(settings, outbox_dir):
    settings.ASSURE_EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "tests.notifications.conftest.FlakyBackend"
    FlakyBackend.failures_left = 0
    FlakyBackend.error = ConnectionRefusedError
    FlakyBackend.sent = []
    return FlakyBackend


@pytest.fixture
def recipient() -> PostalRecipient:
    return PostalRecipient(
        name="Mme Zoé Lefèvre",
        lines=("Appartement 12, escalier B", "14 avenue du Général Leclerc"),
        postal_code="75014",
        city="Paris",
        country="France",
    )
