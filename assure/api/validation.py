"""Field messages of request validation in the request's language (pydantic writes English)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def field_message(error: dict[str, Any]) -> str:
    """A short message for one pydantic error, by its stable `type`."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("Ce champ est obligatoire.")
    if kind in {"literal_error", "enum"}:
        return _("Valeur non reconnue : les valeurs possibles sont %(expected)s.") % {
            "expected": ctx.get("expected", "")
        }
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Un nombre entier est attendu.")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Vrai ou faux est attendu.")
    if kind.startswith("date") and "time" not in kind:
        return _("Une date au format AAAA-MM-JJ est attendue.")
    if kind.startswith("datetime"):
        return _("Une date et une heure ISO 8601 sont attendues.")
    if kind in {"string_type", "string_unicode"}:
        return _("Une chaîne de caractères est attendue.")
    if kind in {"list_type", "tuple_type", "set_type"}:
        return _("Une liste est attendue.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Un objet JSON est attendu.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("La valeur doit être au moins %(limit)s.") % {
            "limit": ctx.get("ge", ctx.get("gt", ""))
        }
    if kind in {"less_than_equal", "less_than"}:
        return _("La valeur doit être au plus %(limit)s.") % {
            "limit": ctx.get("le", ctx.get("lt", ""))
        }
    if kind in {"too_long", "string_too_long"}:
        return _("Trop d'éléments ou de caractères.")
    if kind in {"too_short", "string_too_short"}:
        return _("Pas assez d'éléments ou de caractères.")
    if kind in {"json_invalid", "json_type"}:
        return _("Le corps de la demande n'est pas un JSON valide.")
    return _("Valeur invalide.")
