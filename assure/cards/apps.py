from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assure.core.navigation import NavItem


def signed_in_member(request: HttpRequest) -> bool:
    return getattr(request, "member", None) is not None


class CardsConfig(AppConfig):
    name = "assure.cards"
    label = "cards"
    navigation = [
        NavItem("cards:list", _("Carte européenne"), order=50, show=signed_in_member),
    ]
