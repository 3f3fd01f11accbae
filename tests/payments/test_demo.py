"""The demo's payments go through the real feeds and are all accepted."""

from __future__ import annotations

import pytest

from assure.ops.demo import demo_members
from assure.payments.demo import demo_payments
from assure.payments.models import AllowancePayment, Statement

pytestmark = pytest.mark.django_db


def test_demo_payments_are_believable_and_accepted():
    demo_members(True)
    report = demo_payments(True)
    assert all(line.endswith(" 0 rejected.") for line in report), report
    assert Statement.objects.count() > 25 * 14
    assert Statement.objects.filter(status="paid").exists()
    assert Statement.objects.filter(status__in=["received", "processing"]).exists()
    assert Statement.objects.filter(beneficiary__isnull=False).exists()
    assert AllowancePayment.objects.exists()
    assert demo_payments(False) == [
        f"Payments: {Statement.objects.count()} statement lines already loaded."
    ]
