"""Staff accounts for the back-office tests, signed in through the real two-step sign-in."""

from __future__ import annotations

import pyotp
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from assure.backoffice import roles
from assure.backoffice.models import StaffProfile

PASSWORD = "le phare veille sur la baie"


def staff_user(username: str = "claire", role: str = roles.ADVISOR, *, totp: bool = True) -> User:
    groups = roles.roles_sync()
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name="Claire",
        last_name="Conseil",
        is_staff=True,
    )
    user.groups.add(groups[role])
    StaffProfile.objects.create(
        user=user,
        totp_secret=pyotp.random_base32() if totp else "",
        totp_enabled_at=timezone.now() if totp else None,
    )
    return user


def totp_now(user: User) -> str:
    return pyotp.TOTP(StaffProfile.objects.get(user=user).totp_secret).now()


def signed_in(user: User, client: Client | None = None) -> Client:
    client = client or Client()
    response = client.post(
        "/backoffice/connexion/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/backoffice/connexion/code/"
    response = client.post("/backoffice/connexion/code/", {"code": totp_now(user)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def open_file(client: Client, member_id: int, reason: str = "phone") -> None:
    response = client.post(f"/backoffice/membres/{member_id}/", {"reason": reason})
    assert response.status_code == 302, response.content.decode()[:2000]
