from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assure.core.navigation import NavItem


def signed_in_member(request: HttpRequest) -> bool:
    return getattr(request, "member", None) is not None


class MessagingConfig(AppConfig):
    name = "assure.messaging"
    label = "messaging"
    navigation = [NavItem("messaging:list", _("Ma messagerie"), order=30, show=signed_in_member)]
