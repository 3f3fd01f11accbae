from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assure.core.navigation import NavItem


def signed_in_member(request: HttpRequest) -> bool:
    return getattr(request, "member", None) is not None


class PaymentsConfig(AppConfig):
    name = "assure.payments"
    label = "payments"
    navigation = [
        NavItem("payments:home", _("Accueil"), order=10, show=signed_in_member),
        NavItem("payments:list", _("Mes paiements"), order=20, show=signed_in_member),
        NavItem("payments:allowances", _("Mes indemnités"), order=25, show=signed_in_member),
    ]

    def ready(self) -> None:
        from assure.core.feeds import feed_register
        from assure.payments.feed import AllowancesFeed, StatementsFeed

        feed_register(StatementsFeed())
        feed_register(AllowancesFeed())
