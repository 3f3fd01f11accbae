"""Reads of FranceConnect, scoped to the member."""

from __future__ import annotations

from django.db.models import QuerySet

from assure.franceconnect.models import FranceConnectLink
from assure.identity.models import Account


def link_list_for_member(*, account: Account) -> QuerySet[FranceConnectLink]:
    return FranceConnectLink.objects.filter(account=account)
