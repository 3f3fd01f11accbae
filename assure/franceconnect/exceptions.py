"""FranceConnect's domain errors: neutral messages; the reason goes to the audit trail."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError


class FranceConnectError(DomainError):
    code = "franceconnect_error"
    status = 400
    title = _("La connexion avec FranceConnect n'a pas abouti. Merci de réessayer.")


class FranceConnectUnavailable(FranceConnectError):
    """The provider could not be reached, or answered the token call with an error."""

    code = "franceconnect_unavailable"
    status = 502


class InvalidIdToken(FranceConnectError):
    code = "franceconnect_invalid_id_token"


class InvalidUserinfo(FranceConnectError):
    code = "franceconnect_invalid_userinfo"


class AccountClosed(FranceConnectError):
    """The matched or linked account is terminated: reopening goes through a forgotten code."""

    code = "franceconnect_account_closed"
    status = 403
    title = _(
        "Votre compte est clôturé. Pour le rouvrir, demandez un nouveau code secret "
        "avec « J'ai oublié mon code secret »."
    )
