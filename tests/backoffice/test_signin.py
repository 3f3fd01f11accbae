"""Staff sign-in: password then a mandatory authenticator code, throttling, idle sessions,
and the one-time enrolment link."""

from __future__ import annotations

import datetime as dt
import io
import re

import pyotp
import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from assure.backoffice.models import StaffEnrolment, StaffProfile
from assure.core.models import AuditEvent
from tests.backoffice.helpers import PASSWORD, signed_in, staff_user, totp_now

pytestmark = pytest.mark.django_db


def test_a_right_password_alone_signs_no_one_in(client):
    user = staff_user()
    response = client.post(
        "/backoffice/connexion/", {"username": user.username, "password": PASSWORD}
    )
    assert response["Location"] == "/backoffice/connexion/code/"
    home = client.get("/backoffice/")
    assert home.status_code == 302
    assert home["Location"].startswith("/backoffice/connexion/")


def test_the_authenticator_code_completes_the_sign_in(client):
    user = staff_user()
    signed_in(user, client)
    assert client.get("/backoffice/").status_code == 200
    assert AuditEvent.objects.filter(action="backoffice.staff_signed_in", actor_id=str(user.pk))


def test_a_wrong_authenticator_code_is_refused(client):
    user = staff_user()
    client.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    right = totp_now(user)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = client.post("/backoffice/connexion/code/", {"code": wrong})
    assert response.status_code == 200
    assert "incorrect" in response.content.decode()
    assert client.get("/backoffice/").status_code == 302


def test_a_code_is_not_accepted_twice(client):
    user = staff_user()
    signed_in(user, client)
    code = totp_now(user)  # the one just used
    other = Client()
    other.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    response = other.post("/backoffice/connexion/code/", {"code": code})
    assert response.status_code == 200
    assert other.get("/backoffice/").status_code == 302


def test_without_an_enrolled_app_there_is_no_sign_in(client):
    user = staff_user(totp=False)
    client.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    profile = StaffProfile.objects.get(user=user)
    profile.totp_secret = pyotp.random_base32()  # a secret never confirmed by a code
    profile.save()
    response = client.post(
        "/backoffice/connexion/code/", {"code": pyotp.TOTP(profile.totp_secret).now()}
    )
    assert response.status_code == 200
    assert client.get("/backoffice/").status_code == 302


def test_wrong_passwords_lock_the_username_like_members_logins(client):
    user = staff_user()
    for _ in range(5):
        response = client.post(
            "/backoffice/connexion/", {"username": user.username, "password": "pas le bon mot"}
        )
    assert "bloquée" in response.content.decode()
    response = client.post(
        "/backoffice/connexion/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # still locked: the right password does not pass
    assert "bloquée" in response.content.decode()


def test_unknown_and_known_usernames_get_the_same_answer(client):
    staff_user()
    one = client.post("/backoffice/connexion/", {"username": "claire", "password": "faux faux"})
    two = client.post("/backoffice/connexion/", {"username": "nobody", "password": "faux faux"})
    assert "incorrect" in one.content.decode()
    assert one.content.decode().count("incorrect") == two.content.decode().count("incorrect")


def test_a_staff_session_ends_after_15_idle_minutes():
    user = staff_user()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(user)
        traveller.shift(dt.timedelta(minutes=14))
        assert client.get("/backoffice/").status_code == 200
        traveller.shift(dt.timedelta(minutes=14))  # 14 idle minutes again: still in
        assert client.get("/backoffice/").status_code == 200
        traveller.shift(dt.timedelta(minutes=16))
        assert client.get("/backoffice/").status_code == 302
        assert client.get("/backoffice/").status_code == 302


def test_the_last_seen_time_is_written_at_most_every_30_seconds():
    user = staff_user()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(user)
        client.get("/backoffice/")
        first = client.session["backoffice_seen"]
        traveller.shift(dt.timedelta(seconds=20))
        client.get("/backoffice/")
        assert client.session["backoffice_seen"] == first  # no session write for this page
        traveller.shift(dt.timedelta(seconds=15))
        client.get("/backoffice/")
        assert client.session["backoffice_seen"] == first + 35


def _link_from(output: str) -> str:
    match = re.search(r"(/backoffice/inscription/[^/\s]+/)", output)
    assert match, output
    return match.group(1)


def test_staff_create_prints_a_single_use_enrolment_link(client):
    out = io.StringIO()
    call_command("staff", "create", "marc", "--role", "advisor", stdout=out)
    link = _link_from(out.getvalue())
    page = client.get(link)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code, inline
    secret = StaffProfile.objects.get(user__username="marc").totp_secret

    weak = client.post(
        link,
        {"password": "password1234", "password_confirm": "password1234", "code": "000000"},
    )
    assert weak.status_code == 200
    assert "dérobés" in weak.content.decode()  # the members' code policy

    done = client.post(
        link,
        {"password": PASSWORD, "password_confirm": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 302
    assert client.get(link).status_code == 404  # single use
    assert StaffEnrolment.objects.get(user__username="marc").used_at is not None


def test_an_enrolment_link_expires(client):
    out = io.StringIO()
    with time_machine.travel(timezone.now() - dt.timedelta(hours=73)):
        call_command("staff", "create", "luc", "--role", "supervisor", stdout=out)
    assert client.get(_link_from(out.getvalue())).status_code == 404


def test_after_sign_in_the_advisor_lands_on_the_page_asked_for(client):
    user = staff_user()
    first = client.get("/backoffice/messagerie/")
    assert first.status_code == 302
    client.get(first["Location"])
    client.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    done = client.post("/backoffice/connexion/code/", {"code": totp_now(user)})
    assert done["Location"] == "/backoffice/messagerie/"


def test_an_outside_address_is_never_a_landing_page(client):
    user = staff_user()
    client.get("/backoffice/connexion/?suite=https://evil.example/")
    client.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    done = client.post("/backoffice/connexion/code/", {"code": totp_now(user)})
    assert done["Location"] == "/backoffice/"


def test_a_search_asked_for_before_sign_in_is_kept_whole(client):
    user = staff_user()
    first = client.get("/backoffice/membres/?nir=1&name=a")
    client.get(first["Location"])
    client.post("/backoffice/connexion/", {"username": user.username, "password": PASSWORD})
    done = client.post("/backoffice/connexion/code/", {"code": totp_now(user)})
    assert done["Location"] == "/backoffice/membres/?nir=1&name=a"
