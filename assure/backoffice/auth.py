"""Staff sign-in and permissions, read with SQL compiled once instead of on every page.

Each back-office page loads the signed-in user and checks a permission (`staff_required`).
Django's ModelBackend builds and compiles three querysets for that on every request: the user,
their own permissions and their groups' permissions (two statements with joins). In process,
that was about a fifth of the CPU of the advisors' queue page (bench/mix_cpu.py). This backend
gives the same answers with the user read through a compiled statement and both permission sets
in one compiled statement. Nothing is kept beyond the request, as with Django: a role taken away,
or an account deactivated, applies from the next page. Tests compare every answer with Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from assure.core.compiled import CompiledRead

User = get_user_model()


def _user_query(user_id: int) -> Any:
    # A slice rather than get(): the key is unique.
    return User._default_manager.filter(pk=user_id)[:1]


def _permissions_query(user_id: int, same_user_id: int) -> Any:
    """The user's own permissions and their groups', as (app label, codename) rows.

    Two arguments for one user: each stand-in must appear once among the compiled parameters."""
    own = User.user_permissions.through.objects.filter(user_id=user_id).values("permission_id")
    from_groups = Group.permissions.through.objects.filter(group__user=same_user_id).values(
        "permission_id"
    )
    return (
        Permission.objects.filter(Q(pk__in=own) | Q(pk__in=from_groups))
        .values_list("content_type__app_label", "codename")
        .order_by()
    )


_user = CompiledRead(User, _user_query, stand_ins=(-1,))
_permissions = CompiledRead(Permission, _permissions_query, stand_ins=(-1, -2))


class StaffBackend(ModelBackend):
    """ModelBackend with the per-request reads compiled once (same answers)."""

    def get_user(self, user_id: Any) -> Any:
        if type(user_id) is not int:  # the session's value, already converted by Django
            return super().get_user(user_id)
        user = _user.first(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:  # every permission: Django's own read
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            rows = _permissions.tuples(user_obj.pk, user_obj.pk)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache  # type: ignore[no-any-return]
