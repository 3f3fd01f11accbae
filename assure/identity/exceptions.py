"""Identity's domain errors: stable codes from API.md's Authentication table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError


class InvalidCredentials(DomainError):
    """Same answer for an unknown NIR, a wrong code, a terminated account."""

    code = "invalid_credentials"
    status = 401
    title = _("Le numéro de sécurité sociale ou le code secret est incorrect.")


class SupersededCode(DomainError):
    code = "superseded_code"
    status = 401
    title = _("Ce code provisoire a été remplacé par un code plus récent.")


class AccountLocked(DomainError):
    code = "locked"
    status = 423
    title = _("Trop d'essais infructueux : la connexion est bloquée temporairement.")


class AddressBlocked(DomainError):
    code = "throttled"
    status = 429
    title = _("Trop d'essais depuis cette adresse : merci de réessayer plus tard.")


class InvalidCode(DomainError):
    code = "invalid_code"
    status = 401
    title = _("Le code est incorrect ou a expiré.")


class WeakSecretCode(DomainError):
    code = "weak_secret_code"
    status = 400
    title = _("Ce code secret ne respecte pas les règles.")


class InvalidToken(DomainError):
    code = "invalid_token"
    status = 401
    title = _("Ce jeton n'est pas valable : merci de vous reconnecter.")
