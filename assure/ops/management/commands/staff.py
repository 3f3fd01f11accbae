"""`assure staff create USERNAME --role advisor|supervisor|admin`: a staff account and its one-time
enrolment link (password and authenticator app are chosen by the person, never by the operator).
`assure staff link USERNAME` issues a new link (a lost phone); `assure staff roles` syncs groups.
"""

from __future__ import annotations

from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from assure.backoffice import roles, services
from assure.backoffice.models import StaffProfile
from assure.core.services import Actor


def enrolment_url(token: str) -> str:
    path = reverse("backoffice:enrol", kwargs={"token": token})
    return settings.ASSURE_SITE_URL.rstrip("/") + path


class Command(BaseCommand):
    help = "Create staff accounts and print their one-time enrolment link."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a staff account")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=sorted(roles.ROLE_PERMISSIONS))
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")
        create.add_argument("--email", default="")
        link = actions.add_parser("link", help="a new enrolment link (the old one stops working)")
        link.add_argument("username")
        actions.add_parser("roles", help="create or update the role groups")
        code = actions.add_parser("code", help="print the current authenticator code (demo only)")
        code.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("assure staff")
        action = options["action"]
        if action == "roles":
            roles.roles_sync()
            self.stdout.write("Roles synchronised: " + ", ".join(roles.GROUP_NAMES.values()))
            return
        username = options["username"].strip()
        if action == "code":
            # Outside a demo, reading a second factor from the server would defeat its purpose.
            if not settings.DEMO:
                raise CommandError("`assure staff code` works only in demo mode (ASSURE_DEMO=1).")
            profile = StaffProfile.objects.filter(user__username__iexact=username).first()
            if profile is None or not profile.totp_enabled:
                raise CommandError(f"No enrolled staff account named {username!r}.")
            self.stdout.write(pyotp.TOTP(profile.totp_secret).now())
            return
        if action == "create":
            if not username or User.objects.filter(username__iexact=username).exists():
                raise CommandError(f"A user named {username!r} already exists (or empty name).")
            _user, token = services.staff_create(
                username=username,
                role=options["role"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
                actor=actor,
            )
            self.stdout.write(f"Staff account {username!r} created ({options['role']}).")
        else:
            user = User.objects.filter(username__iexact=username, is_staff=True).first()
            if user is None:
                raise CommandError(f"No staff account named {username!r}.")
            token = services.enrolment_link_issue(user=user, actor=actor)
        hours = settings.BACKOFFICE_ENROLMENT_HOURS
        self.stdout.write(f"One-time enrolment link, valid {hours} hours:")
        self.stdout.write(enrolment_url(token))
