"""Demo step: the first demo member gets an active account with a known secret code."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from assure.core.services import Actor, audit_record
from assure.identity.models import Account
from assure.members.models import Member
from assure.members.nir import format_nir, is_temporary_nir

DEMO_SECRET_CODE = "Demo-assure-2026"  # noqa: S105 - printed to whoever runs the demo


def _first_member() -> Member | None:
    for member in Member.objects.order_by("id")[:20]:
        if not is_temporary_nir(member.nir):
            return member
    return None


def demo_account(load: bool) -> list[str]:
    """Gives the first demo member an account; prints what to log in with."""
    member = _first_member()
    if member is None:
        return ["Demo account: no member in the register, nothing to do."]
    if load:
        with transaction.atomic():
            account, _created = Account.objects.get_or_create(member=member)
            account.secret_code_hash = make_password(DEMO_SECRET_CODE)
            account.must_change_code = False
            account.status = Account.Status.ACTIVE
            account.activated_at = account.activated_at or timezone.now()
            account.terminated_at = None
            account.save()
            audit_record(
                actor=Actor.system("demo-data"),
                action="identity.demo_account",
                member_id=member.pk,
                object_type="account",
                object_id=account.pk,
            )
    return [
        f"Demo account: {member.display_name}, NIR {format_nir(member.nir)}, "
        f"secret code {DEMO_SECRET_CODE} (a new browser is asked for the e-mailed code, "
        "shown at /dev/outbox/)."
    ]
