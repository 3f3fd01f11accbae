"""Messaging's domain errors, each with a stable code (API.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError, ValidationFailed

MAX_BODY = 5000


class UnknownSubject(ValidationFailed):
    code = "unknown_subject"
    title = _("Choisissez le sujet de votre message dans la liste.")


class InvalidBody(ValidationFailed):
    code = "invalid_body"
    title = _("Écrivez votre message (5 000 caractères au plus).")


class InvalidReference(ValidationFailed):
    code = "invalid_reference"
    title = _("La référence de paiement n'est pas valide.")


class TooManyFiles(ValidationFailed):
    code = "too_many_files"
    title = _("Vous pouvez joindre 3 fichiers au plus.")


class ThreadClosed(DomainError):
    code = "thread_closed"
    status = 409
    title = _("Cette conversation est clôturée : écrivez un nouveau message.")


class AlreadyTaken(DomainError):
    code = "already_taken"
    status = 409
    title = _("Un autre conseiller a déjà pris cette conversation.")
