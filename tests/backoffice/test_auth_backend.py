"""The staff backend answers exactly as Django's ModelBackend, with fewer statements per page."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assure.backoffice import auth, roles
from assure.backoffice.auth import StaffBackend
from tests.backoffice.helpers import open_file, signed_in, staff_user
from tests.identity.helpers import active_account

pytestmark = pytest.mark.django_db


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _people() -> list[User]:
    """Every way a user may hold permissions: none, their own, a group's, both, overlapping."""
    groups = roles.roles_sync()
    extra = Group.objects.create(name="Équipe « spéciale » & co")
    extra.permissions.add(_permission("backoffice.view_audit"), _permission("auth.view_user"))
    nobody = User.objects.create_user("personne", is_staff=True)
    own = User.objects.create_user("directe", is_staff=True)
    own.user_permissions.add(_permission("backoffice.view_member"))
    advisor = User.objects.create_user("conseil", is_staff=True)
    advisor.groups.add(groups[roles.ADVISOR])
    both = User.objects.create_user("cumul", is_staff=True)
    both.groups.add(groups[roles.ADVISOR], groups[roles.SUPERVISOR], extra)
    both.user_permissions.add(
        _permission("backoffice.view_member"), _permission("backoffice.manage_staff")
    )
    inactive = User.objects.create_user("partie", is_staff=True, is_active=False)
    inactive.groups.add(groups[roles.SUPERVISOR])
    boss = User.objects.create_superuser("racine", password="une phrase de passe longue")
    return [nobody, own, advisor, both, inactive, boss]


def _fresh(user: User) -> User:
    """The user as a new request loads it: no permission read yet."""
    return User.objects.get(pk=user.pk)


def test_every_permission_set_is_django_s():
    candidates = [p.split(".") for roles_ in roles.ROLE_PERMISSIONS.values() for p in roles_]
    candidates += [["auth", "view_user"], ["auth", "delete_user"]]
    for user in _people():
        expected = ModelBackend().get_all_permissions(_fresh(user))
        assert StaffBackend().get_all_permissions(_fresh(user)) == expected, user.username
        for app_label, codename in candidates:
            name = f"{app_label}.{codename}"
            assert StaffBackend().has_perm(_fresh(user), name) == ModelBackend().has_perm(
                _fresh(user), name
            ), (user.username, name)
        assert StaffBackend().has_module_perms(_fresh(user), "backoffice") == (
            ModelBackend().has_module_perms(_fresh(user), "backoffice")
        )
        # Permissions on one object are not Django's model backend's business, nor this one's.
        assert StaffBackend().get_all_permissions(_fresh(user), obj=user) == set()
    assert StaffBackend().get_all_permissions(AnonymousUser()) == set()


def test_the_permissions_of_a_page_take_one_statement_and_are_read_once_per_request():
    user = staff_user()
    fresh = StaffBackend().get_user(user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert StaffBackend().has_perm(fresh, "backoffice.view_member")
        assert StaffBackend().has_perm(fresh, "messaging.answer_thread")
        assert not StaffBackend().has_perm(fresh, "backoffice.manage_staff")
    assert len(queries) == 1
    # Read through the statements compiled once, not through the ORM's fallback.
    assert all(auth._user._plans.values())
    assert all(auth._permissions._plans.values())


def test_the_user_of_a_session_is_django_s():
    people = {user.username: user for user in _people()}
    for user in people.values():
        expected = ModelBackend().get_user(user.pk)
        found = StaffBackend().get_user(user.pk)
        assert (found.pk if found else None) == (expected.pk if expected else None), user.username
        if found:
            assert found.password == expected.password
            assert found.is_superuser == expected.is_superuser
    assert StaffBackend().get_user(people["partie"].pk) is None  # deactivated: signed out
    for missing in (0, -1, 10**9, 2**63, -(2**63) - 1):
        assert StaffBackend().get_user(missing) is None


def test_a_role_taken_away_applies_on_the_next_page():
    member = active_account().member
    advisor = staff_user()
    client = signed_in(advisor)
    open_file(client, member.pk)
    assert client.get(f"/backoffice/membres/{member.pk}/").status_code == 200
    advisor.groups.clear()
    assert client.get(f"/backoffice/membres/{member.pk}/").status_code == 403
    assert client.get("/backoffice/messagerie/").status_code == 403


def test_a_deactivated_advisor_is_signed_out_on_the_next_page():
    advisor = staff_user()
    client = signed_in(advisor)
    assert client.get("/backoffice/messagerie/").status_code == 200
    User.objects.filter(pk=advisor.pk).update(is_active=False)
    response = client.get("/backoffice/messagerie/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/connexion/")
