from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assure.core.navigation import NavItem


def signed_in_member(request: HttpRequest) -> bool:
    return getattr(request, "member", None) is not None


class DocumentsConfig(AppConfig):
    name = "assure.documents"
    label = "documents"
    navigation = [
        NavItem("documents:list", _("Mes attestations"), order=40, show=signed_in_member),
    ]
