"""The back office's domain errors, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError, PermissionDenied


class StaffInvalidCredentials(DomainError):
    """Same answer for an unknown user, a wrong password, a deactivated account."""

    code = "invalid_credentials"
    status = 401
    title = _("L'identifiant ou le mot de passe est incorrect.")


class StaffInvalidCode(DomainError):
    code = "invalid_code"
    status = 401
    title = _("Le code de l'application d'authentification est incorrect.")


class StaffLocked(DomainError):
    code = "locked"
    status = 423
    title = _("Trop d'essais infructueux : la connexion est bloquée temporairement.")


class InvalidEnrolment(DomainError):
    code = "invalid_enrolment"
    status = 404
    title = _("Ce lien d'inscription n'est pas valable : il a expiré ou a déjà servi.")


class WeakPassword(DomainError):
    code = "weak_password"
    status = 400
    title = _("Ce mot de passe ne respecte pas les règles.")


class CheckRequired(PermissionDenied):
    code = "identity_check_required"
    title = _("Vérifiez d'abord l'identité de votre interlocuteur.")


class NoAccount(DomainError):
    code = "no_account"
    status = 409
    title = _("Ce membre n'a pas de compte.")
