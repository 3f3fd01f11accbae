"""Each action's permission: advisors, supervisors and administrators see only their part."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from assure.backoffice import roles
from assure.identity.models import ProvisionalCode
from tests.backoffice.helpers import open_file, signed_in, staff_user
from tests.identity.helpers import active_account

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (roles.ADVISOR, "/backoffice/membres/", True),
        (roles.ADVISOR, "/backoffice/personnel/", False),
        (roles.ADVISOR, "/backoffice/tableau-de-bord/", False),
        (roles.ADVISOR, "/backoffice/journal/", False),
        (roles.ADVISOR, "/backoffice/messagerie/", True),
        (roles.SUPERVISOR, "/backoffice/tableau-de-bord/", True),
        (roles.SUPERVISOR, "/backoffice/journal/", True),
        (roles.SUPERVISOR, "/backoffice/personnel/", False),
        (roles.ADMIN, "/backoffice/personnel/", True),
        (roles.ADMIN, "/backoffice/membres/", False),
        (roles.ADMIN, "/backoffice/messagerie/", False),
    ],
)
def test_pages_by_role(role, path, allowed):
    client = signed_in(staff_user(role=role))
    assert client.get(path).status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_the_staff_sign_in(client):
    response = client.get("/backoffice/membres/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/connexion/")


def test_an_administrator_cannot_open_a_members_file():
    account = active_account()
    client = signed_in(staff_user(role=roles.ADMIN))
    response = client.post(f"/backoffice/membres/{account.member_id}/", {"reason": "phone"})
    assert response.status_code == 403


def test_a_supervisor_cannot_send_a_code_without_a_passed_check():
    account = active_account()
    client = signed_in(staff_user(role=roles.SUPERVISOR))
    open_file(client, account.member_id)
    response = client.post(f"/backoffice/membres/{account.member_id}/code/", {"channel": "post"})
    assert response.status_code == 200
    assert "identité de votre interlocuteur" in response.content.decode()
    assert not ProvisionalCode.objects.exists()


def test_an_administrator_creates_and_deactivates_staff():
    admin = staff_user("root", role=roles.ADMIN)
    client = signed_in(admin)
    response = client.post("/backoffice/personnel/", {"username": "nadia", "role": roles.ADVISOR})
    assert response.status_code == 200
    assert "/backoffice/inscription/" in response.content.decode()
    nadia = User.objects.get(username="nadia")
    assert roles.role_of(nadia) == roles.ADVISOR
    client.post(f"/backoffice/personnel/{nadia.pk}/desactiver/")
    nadia.refresh_from_db()
    assert not nadia.is_active


def test_an_advisor_cannot_create_staff():
    client = signed_in(staff_user(role=roles.ADVISOR))
    response = client.post("/backoffice/personnel/", {"username": "eve", "role": roles.ADMIN})
    assert response.status_code == 403
