"""Factories for payments: statement lines that add up (the GP visit by default), sick leaves and
their allowance payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from assure.payments.models import AllowancePayment, SickLeave, Statement
from tests.members.factories import MemberFactory


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Statement

    external_id = factory.Sequence(lambda n: f"S{n:09d}")
    member = factory.SubFactory(MemberFactory)
    beneficiary = None
    status = Statement.Status.PAID
    care_date = dt.date(2026, 10, 20)
    received_on = dt.date(2026, 10, 22)
    paid_on = dt.date(2026, 11, 6)
    category = "consultation"
    act_code = "G"
    label = "Consultation chez le médecin généraliste"
    provider = "Dr Martin"
    amount_charged = Decimal("30.00")
    base_amount = Decimal("30.00")
    rate = 70
    reimbursed = Decimal("19.00")
    flat_fee = Decimal("2.00")
    deductible = Decimal("0.00")
    paid_to = Statement.PaidTo.MEMBER
    complementary_forwarded = True
    payment_reference = "PAY-2026-11-06"
    rejection_reason = None


class SickLeaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SickLeave

    external_id = factory.Sequence(lambda n: f"L{n:08d}")
    member = factory.SubFactory(MemberFactory)
    kind = SickLeave.Kind.ILLNESS
    start = dt.date(2026, 10, 1)
    end = None


class AllowancePaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllowancePayment

    external_id = factory.Sequence(lambda n: f"A{n:08d}")
    sick_leave = factory.SubFactory(SickLeaveFactory)
    member = factory.LazyAttribute(lambda o: o.sick_leave.member)
    status = AllowancePayment.Status.PAID
    period_start = dt.date(2026, 10, 4)
    period_end = dt.date(2026, 10, 17)
    days = 14
    daily_gross = Decimal("41.47")
    gross = Decimal("580.58")
    social_levies = Decimal("38.90")
    net = Decimal("541.68")
    paid_on = dt.date(2026, 10, 24)
    paid_to = AllowancePayment.PaidTo.MEMBER
