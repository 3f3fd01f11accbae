"""The demo step: a signing pair made once, a certificate and a card for the demo member."""

from __future__ import annotations

import pytest

from assure.cards.models import CardOrder
from assure.documents.demo import demo_documents
from assure.documents.models import Certificate
from assure.documents.signing import signing_pair
from assure.identity.models import Account

pytestmark = pytest.mark.django_db


def test_demo_step_is_idempotent(member):
    Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    lines = demo_documents(True)
    assert "self-signed demo" in lines[0]
    demo_documents(True)
    assert Certificate.objects.filter(member=member).count() == 1
    assert list(CardOrder.objects.values_list("status", flat=True)) == ["sent"]


def test_the_demo_pair_is_made_once(member):
    first = signing_pair()
    cert = first[1].read_bytes()
    assert signing_pair() == first
    assert first[1].read_bytes() == cert
    assert oct(first[0].stat().st_mode & 0o777) == "0o600"


def test_production_needs_a_configured_pair(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PRODUCTION = True
    settings.DOCUMENTS_SIGNING_KEY = settings.DOCUMENTS_SIGNING_CERT = ""
    with pytest.raises(ImproperlyConfigured):
        signing_pair()
    settings.DOCUMENTS_SIGNING_KEY = "/etc/assure/key.pem"
    with pytest.raises(ImproperlyConfigured):
        signing_pair()  # the certificate is missing


def test_a_configured_pair_is_used(settings, tmp_path):
    from assure.documents.signing import demo_pair_generate

    key, cert = demo_pair_generate(tmp_path)
    settings.DOCUMENTS_SIGNING_KEY, settings.DOCUMENTS_SIGNING_CERT = str(key), str(cert)
    assert signing_pair() == (key, cert)


def test_room_for_the_signature_is_even_and_sufficient():
    from assure.documents.signing import _reserve_for

    for sizes in ([1], [2], [733], [1200, 1399]):
        reserve = _reserve_for(tuple(b"x" * n for n in sizes))
        assert reserve % 2 == 0
        assert reserve >= 2048 + sum(sizes)
