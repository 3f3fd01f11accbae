"""The service navigation: each app declares its entries; the header shows those that apply.

An app adds entries on its AppConfig, so the navigation only ever lists what is built::

    from assure.core.navigation import NavItem, for_members

    class PaymentsConfig(AppConfig):
        name = "assure.payments"
        navigation = [NavItem("payments:list", _("Mes paiements"), order=20, show=for_members)]

`show` decides per request (by default: any signed-in person); `order` sorts the entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch
from django.utils.functional import Promise

from assure.core.fixed_urls import reverse_fixed


def for_members(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def for_everyone(request: HttpRequest) -> bool:
    return True


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    order: int = 100
    show: Callable[[HttpRequest], bool] = for_members


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str | Promise
    current: bool


def registered_items() -> list[NavItem]:
    items: list[NavItem] = []
    for config in apps.get_app_configs():
        items.extend(getattr(config, "navigation", ()))
    return sorted(items, key=lambda item: item.order)


def navigation_for(request: HttpRequest) -> tuple[NavLink, ...]:
    """The entries this person may follow, the one they are on marked as current: a tuple, so
    that the layout can keep the navigation's markup for each set of links (`{% keep %}`)."""
    links = []
    for item in registered_items():
        if not item.show(request):
            continue
        try:
            href = reverse_fixed(item.url_name)
        except NoReverseMatch:
            # An entry whose page is not wired (yet) is left out rather than breaking every page.
            continue
        current = request.path == href or (href != "/" and request.path.startswith(href))
        links.append(NavLink(href=href, label=item.label, current=current))
    return tuple(links)
