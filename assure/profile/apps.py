from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assure.core.navigation import NavItem


def signed_in_member(request: HttpRequest) -> bool:
    return getattr(request, "member", None) is not None


class ProfileConfig(AppConfig):
    name = "assure.profile"
    label = "profile"
    navigation = [
        NavItem("profile:overview", _("Mon profil"), order=70, show=signed_in_member),
    ]
