"""Demo step: the demo advisor (created by the messaging step) becomes a supervisor with an
authenticator app, so that `make run` ends with a back-office login that works: username,
password, the TOTP key to add to an app, and a command that prints the current code."""

from __future__ import annotations

import pyotp
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assure.backoffice import roles
from assure.backoffice.models import StaffProfile

DEMO_ADVISOR = "conseiller.demo"
DEMO_ADVISOR_PASSWORD = "Demo-conseil-2026"  # noqa: S105 - printed to whoever runs the demo


def demo_backoffice(load: bool) -> list[str]:
    with transaction.atomic():
        groups = roles.roles_sync()
        user, created = User.objects.get_or_create(
            username=DEMO_ADVISOR,
            defaults={"first_name": "Claire", "last_name": "Conseil", "is_staff": True},
        )
        if created:
            user.set_password(DEMO_ADVISOR_PASSWORD)
            user.save()
        user.groups.add(groups[roles.SUPERVISOR])
        profile, _created = StaffProfile.objects.get_or_create(user=user)
        if not profile.totp_enabled:
            profile.totp_secret = pyotp.random_base32()
            profile.totp_enabled_at = timezone.now()
            profile.save()
    return [
        f"Back office: {DEMO_ADVISOR} / {DEMO_ADVISOR_PASSWORD} at /backoffice/connexion/, "
        f"then the authenticator code: key {profile.totp_secret} in any TOTP app, "
        f"or `assure staff code {DEMO_ADVISOR}` prints the current code (demo only)."
    ]
