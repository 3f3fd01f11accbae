"""Roles as Django groups: the permissions each holds. Synchronised by `roles_sync()`."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

ADVISOR = "advisor"
SUPERVISOR = "supervisor"
ADMIN = "admin"

GROUP_NAMES = {ADVISOR: "Conseillers", SUPERVISOR: "Superviseurs", ADMIN: "Administrateurs"}

_ADVISOR_PERMISSIONS = [
    "backoffice.view_member",
    "backoffice.check_identity",
    "backoffice.send_code",
    "backoffice.unlock_account",
    "backoffice.terminate_account",
    "backoffice.process_cards",
    "messaging.answer_thread",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADVISOR: _ADVISOR_PERMISSIONS,
    SUPERVISOR: [
        *_ADVISOR_PERMISSIONS,
        "backoffice.view_dashboard",
        "backoffice.view_audit",
        "messaging.view_team_figures",
        "messaging.change_answertemplate",
        "messaging.add_answertemplate",
    ],
    # Administrators manage people, not members' files.
    ADMIN: ["backoffice.manage_staff", "backoffice.view_audit", "backoffice.view_dashboard"],
}


def _permissions(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def roles_sync() -> dict[str, Group]:
    """Creates the three groups and sets exactly their permissions (idempotent)."""
    groups = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.set(_permissions(names))
        groups[role] = group
    return groups


def role_of(user: object) -> str:
    names = {group.name for group in user.groups.all()}  # type: ignore[attr-defined]
    for role in (ADMIN, SUPERVISOR, ADVISOR):
        if GROUP_NAMES[role] in names:
            return role
    return ""
