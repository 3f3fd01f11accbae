"""Register entries matching the test provider's identities (see provider.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.hashers import make_password

from assure.identity.models import Account
from tests.members.factories import MemberFactory

SECRET = "Tournesol-Velo-1984!"


def marie(**extra: Any):
    return MemberFactory(
        birth_name="Leger",
        given_names="Marie Helene",
        sex="F",
        birth_date=dt.date(1984, 3, 12),
        birth_place_insee="75056",
        birth_country_insee="99100",
        **extra,
    )


def jean(**extra: Any):
    return MemberFactory(
        birth_name="Casanova",
        given_names="Jean Pierre",
        sex="M",
        birth_date=dt.date(1979, 11, 2),
        birth_place_insee="2a004",
        birth_country_insee="99100",
        **extra,
    )


def paul(**extra: Any):
    return MemberFactory(
        birth_name="García",
        given_names="Paul",
        sex="M",
        birth_date=dt.date(1970, 7, 1),
        birth_place_insee="99134",
        birth_country_insee=None,
        **extra,
    )


def with_account(member, secret: str = SECRET) -> Account:
    return Account.objects.create(
        member=member, secret_code_hash=make_password(secret), must_change_code=False
    )
