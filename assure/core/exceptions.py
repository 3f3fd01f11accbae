"""Domain errors: one class per thing that can go wrong, each with a stable `code`.

The API turns them into RFC 9457 problem documents, the web into form errors (STYLE.md, 4).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    title: Any = _("La demande n'a pas pu être traitée.")

    def __init__(
        self,
        title: Any | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if title is not None:
            self.title = title
        self.errors = errors or {}
        self.extra = extra or {}
        super().__init__(str(self.title))


class NotFound(DomainError):
    """Missing, or not the caller's: the two must look exactly alike."""

    code = "not_found"
    status = 404
    title = _("Cette ressource n'existe pas.")


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 400
    title = _("Certaines informations sont invalides.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    title = _("Vous n'avez pas accès à cette action.")


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    title = _("Vous devez être connecté.")


class Throttled(DomainError):
    code = "throttled"
    status = 429
    title = _("Trop de demandes : merci de réessayer dans quelques minutes.")
