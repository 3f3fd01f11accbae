"""What can go wrong when a member asks for a certificate, each with its stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError, ValidationFailed


class CoverageInactive(DomainError):
    code = "coverage_inactive"
    status = 409
    title = _("Vos droits à l'assurance maladie ne sont pas ouverts à ce jour.")


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"
    title = _("La période demandée est invalide.")


class TooManyPayments(ValidationFailed):
    code = "too_many_payments"
    title = _("Trop de paiements pour une seule page : choisissez une période plus courte.")


class InvalidYear(ValidationFailed):
    code = "invalid_year"
    title = _("L'année demandée est invalide.")


class UnknownBeneficiary(ValidationFailed):
    code = "unknown_beneficiary"
    title = _("Cette personne n'est pas rattachée à votre compte.")


class SigningUnavailable(DomainError):
    code = "signing_unavailable"
    status = 503
    title = _("Les attestations ne peuvent pas être délivrées pour le moment.")
