"""What can go wrong with a card order, each with its stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError, ValidationFailed


class CoverageInactive(DomainError):
    code = "coverage_inactive"
    status = 409
    title = _("Vos droits à l'assurance maladie ne sont pas ouverts à ce jour.")


class OrderAlreadyOpen(DomainError):
    code = "order_already_open"
    status = 409
    title = _("Une carte est déjà en cours pour cette personne : suivez sa commande ci-dessous.")


class UnknownPerson(ValidationFailed):
    code = "unknown_beneficiary"
    title = _("Cette personne n'est pas rattachée à votre compte.")


class InvalidDeparture(ValidationFailed):
    code = "invalid_departure_date"
    title = _("La date de départ ne peut pas être passée.")


class InvalidTransition(DomainError):
    code = "invalid_status_change"
    status = 409
    title = _("Ce changement d'état n'est pas possible pour cette commande.")
