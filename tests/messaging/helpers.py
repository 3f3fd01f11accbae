"""Signed-in members and advisors for the messaging tests."""

from __future__ import annotations

import io
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from assure.members.models import Member
from assure.messaging import services
from assure.messaging.models import Thread

PERMISSIONS = {
    "answer": "answer_thread",
    "figures": "view_team_figures",
    "templates": "change_answertemplate",
}


def account_for(member: Member, *, email: str = "") -> Account:
    account = Account.objects.filter(member=member).first() or Account.objects.create(
        member=member, secret_code_hash="x", must_change_code=False
    )
    if email:
        account.email = email
        account.email_verified = True
        account.save()
    return account


def sign_in(client: Any, member: Member) -> Account:
    account = account_for(member)
    web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    session = client.session
    session[SESSION_KEY] = web.pk
    session.save()
    return account


def browser_session_cookie(member: Member) -> str:
    account = account_for(member)
    web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = web.pk
    store.save()
    return str(store.session_key)


def advisor(username: str = "conseil", *perms: str, staff: bool = True) -> User:
    user = User.objects.create_user(
        username=username, password="unused-in-tests", is_staff=staff, first_name="Paul"
    )
    for perm in perms or ("answer",):
        user.user_permissions.add(
            Permission.objects.get(codename=PERMISSIONS[perm], content_type__app_label="messaging")
        )
    return User.objects.get(pk=user.pk)  # permissions are cached per instance


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def write(
    member: Member,
    *,
    subject: str = "remboursements",
    body: str = "Bonjour, où en est mon remboursement ?",
    files: list[tuple[str, bytes]] | None = None,
) -> Thread:
    return services.thread_create(
        actor=services.member_actor(member),
        member=member,
        subject_code=subject,
        body=body,
        uploads=[(name, io.BytesIO(data)) for name, data in files or []],
    )


def ensure_default_subjects() -> None:
    """Transactional tests (the browser's) empty every table after each test, the subjects the
    data migration loaded included: load them again."""
    from django.apps import apps

    migration = import_module("assure.messaging.migrations.0002_default_subjects")
    migration.load(apps, None)
