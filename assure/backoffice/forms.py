"""Back-office forms: labels above fields, errors that say how to fix (GOV.UK patterns)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assure.backoffice import roles
from assure.members.nir import InvalidNir, normalize_nir

REASONS = [
    ("phone", _("Appel téléphonique")),
    ("desk", _("Accueil physique")),
    ("message", _("Message du membre")),
    ("other", _("Autre motif")),
]


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        error_messages={"required": _("Saisissez votre identifiant")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        max_length=256,
        strip=False,
        error_messages={"required": _("Saisissez votre mot de passe")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("Code de l'application d'authentification"),
        help_text=_("Les 6 chiffres affichés par l'application"),
        max_length=10,
        error_messages={"required": _("Saisissez le code à 6 chiffres")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class EnrolmentForm(TotpForm):
    password = forms.CharField(
        label=_("Mot de passe"),
        help_text=_("Au moins 12 caractères ; une phrase facile à retenir convient bien."),
        max_length=256,
        strip=False,
        error_messages={"required": _("Choisissez un mot de passe")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Confirmez le mot de passe"),
        max_length=256,
        strip=False,
        error_messages={"required": _("Confirmez le mot de passe")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["password", "password_confirm", "code"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_confirm") != data.get("password"):
            self.add_error("password_confirm", _("Les deux mots de passe sont différents"))
        return data


class MemberSearchForm(forms.Form):
    nir = forms.CharField(
        label=_("Numéro de sécurité sociale"),
        help_text=_("Avec ou sans espaces"),
        max_length=25,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=_("Nom ou prénom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        error_messages={"invalid": _("Saisissez une date réelle, au format jour/mois/année")},
    )

    def clean_nir(self) -> str:
        value = self.cleaned_data.get("nir", "")
        if not value:
            return ""
        try:
            return normalize_nir(value)
        except InvalidNir as exc:
            raise forms.ValidationError(
                _("Saisissez un numéro de sécurité sociale valide : 15 caractères, clé comprise")
            ) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if not data.get("nir") and not (data.get("name") and data.get("birth_date")):
            raise forms.ValidationError(
                _("Saisissez un numéro de sécurité sociale, ou un nom et une date de naissance")
            )
        return data


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Pourquoi ouvrez-vous ce dossier ?"),
        choices=REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le motif de la consultation")},
    )
    detail = forms.CharField(
        label=_("Précisez le motif (si « Autre motif »)"),
        max_length=150,
        required=False,
    )
    # Fixed labels and choices: their empty markup is kept (assure.core.forms.GovukBoundField).
    kept_field_groups = ("reason", "detail")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == "other" and not data.get("detail", "").strip():
            self.add_error("detail", _("Précisez le motif de la consultation"))
        return data

    def reason_text(self) -> str:
        label = str(dict(REASONS)[self.cleaned_data["reason"]])
        detail = self.cleaned_data.get("detail", "").strip()
        return f"{label} : {detail}" if self.cleaned_data["reason"] == "other" else label


class IdentityCheckForm(forms.Form):
    """One field per question the register can answer for this member."""

    def __init__(self, *args: Any, questions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, forms.Field] = {
            "birth_date": forms.DateField(
                label=_("Date de naissance donnée par l'appelant"), required=False
            ),
            "postal_code": forms.CharField(
                label=_("Code postal de l'adresse"), max_length=10, required=False
            ),
            "iban_end": forms.CharField(
                label=_("Les 4 derniers caractères de l'IBAN"), max_length=8, required=False
            ),
            "beneficiaries": forms.CharField(
                label=_("Le prénom d'un ayant droit"),
                help_text=_("Un ou plusieurs prénoms, séparés par des espaces"),
                max_length=200,
                required=False,
            ),
        }
        for key in questions:
            self.fields[key] = fields[key]
            self.fields[key].widget.attrs.setdefault("autocomplete", "off")


class SendCodeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Comment envoyer le code provisoire ?"),
        choices=[
            ("email", _("Par courriel, à l'adresse connue de la caisse")),
            ("post", _("Par courrier, à l'adresse connue de la caisse")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez comment envoyer le code")},
    )


class ActionReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=200,
        error_messages={"required": _("Saisissez le motif")},
    )


class StaffCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("Identifiant"),
        regex=r"^[\w.@+-]+$",
        max_length=150,
        error_messages={
            "required": _("Saisissez un identifiant"),
            "invalid": _("Lettres, chiffres et . @ + - _ seulement"),
        },
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=_("Rôle"),
        choices=[
            (roles.ADVISOR, _("Conseiller")),
            (roles.SUPERVISOR, _("Superviseur")),
            (roles.ADMIN, _("Administrateur")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez un rôle")},
    )


class AuditSearchForm(forms.Form):
    member = forms.CharField(
        label=_("Membre (numéro interne ou NIR)"), max_length=25, required=False
    )
    staff = forms.CharField(label=_("Identifiant du personnel"), max_length=150, required=False)
    action = forms.CharField(label=_("Action (début du nom)"), max_length=64, required=False)
    since = forms.DateField(label=_("Depuis le"), required=False)
    until = forms.DateField(label=_("Jusqu'au"), required=False)
