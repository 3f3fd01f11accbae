"""The member's identity forms: labels and hints in plain French, errors that say how to fix."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assure.identity.rules import MAX_LENGTH
from assure.members.nir import InvalidNir, normalize_nir

CHANNEL_CHOICES = [
    ("email", _("Par courriel (quelques minutes)")),
    ("post", _("Par courrier postal (plusieurs jours)")),
]


class NirField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Numéro de sécurité sociale"))
        kwargs.setdefault(
            "help_text",
            _("15 chiffres, inscrits sur votre carte Vitale. Par exemple, 1 85 05 75 056 123 45"),
        )
        kwargs.setdefault("max_length", 25)
        kwargs.setdefault(
            "error_messages", {"required": _("Saisissez votre numéro de sécurité sociale")}
        )
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"autocomplete": "username", "spellcheck": "false", "inputmode": "text"}
        )

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        try:
            return normalize_nir(value)
        except InvalidNir as exc:
            raise forms.ValidationError(
                _("Saisissez un numéro de sécurité sociale valide : 15 caractères, clé comprise"),
                code="invalid_nir",
            ) from exc


def _birth_date() -> forms.DateField:
    return forms.DateField(
        label=_("Date de naissance"),
        error_messages={
            "required": _("Saisissez votre date de naissance"),
            "invalid": _("Saisissez une date de naissance réelle, au format jour/mois/année"),
        },
        widget=forms.DateInput(attrs={"autocomplete": "bday"}),
    )


def _channel() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Comment voulez-vous recevoir votre code ?"),
        choices=CHANNEL_CHOICES,
        initial="email",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez comment recevoir votre code")},
    )


def _vitale() -> forms.CharField:
    return forms.CharField(
        label=_("Numéro de série de votre carte Vitale"),
        help_text=_("Au dos de la carte, sous la puce ou en bas à droite."),
        max_length=32,
        error_messages={"required": _("Saisissez le numéro de série de votre carte Vitale")},
    )


class SignupForm(forms.Form):
    nir = NirField()
    birth_date = _birth_date()
    vitale_serial = _vitale()
    iban_end = forms.CharField(
        label=_("Les 7 derniers caractères de votre IBAN"),
        help_text=_(
            "Ceux du compte sur lequel nous vous remboursons, inscrits sur votre RIB. "
            "Laissez vide si nous ne vous avons jamais remboursé."
        ),
        max_length=7,
        required=False,
    )
    email = forms.EmailField(
        label=_("Adresse électronique"),
        help_text=_(
            "Utilisée seulement si nous n'avons pas encore votre adresse. "
            "Sinon, le code part à l'adresse que nous connaissons."
        ),
        required=False,
        error_messages={"invalid": _("Saisissez une adresse électronique valide")},
    )
    channel = _channel()


class ForgotCodeForm(forms.Form):
    nir = NirField()
    birth_date = _birth_date()
    channel = _channel()


class AccountCheckForm(forms.Form):
    nir = NirField()
    birth_date = _birth_date()
    vitale_serial = _vitale()


class LoginForm(forms.Form):
    nir = NirField()
    secret_code = forms.CharField(
        label=_("Code secret"),
        help_text=_("Votre code définitif, ou le code provisoire reçu par courriel ou courrier."),
        max_length=MAX_LENGTH * 2,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre code secret")},
    )
    remember_nir = forms.BooleanField(
        label=_(
            "Se souvenir de mon numéro sur cet appareil (déconseillé sur un ordinateur partagé)"
        ),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, remembered_nir: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remembered_nir = remembered_nir
        if remembered_nir:
            del self.fields["nir"]
            del self.fields["remember_nir"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.remembered_nir:
            data["nir"] = self.remembered_nir
            data["remember_nir"] = True
        return data


class NewSecretCodeForm(forms.Form):
    new_secret_code = forms.CharField(
        label=_("Nouveau code secret"),
        help_text=_(
            "De 12 à 128 caractères, tous permis (espaces et accents compris). Une phrase facile à "
            "retenir convient très bien. Il ne doit pas contenir votre numéro de sécurité sociale, "
            "votre date de naissance ou vos noms, ni être un mot de passe connu des pirates."
        ),
        max_length=MAX_LENGTH * 2,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choisissez votre nouveau code secret")},
    )
    confirm = forms.CharField(
        label=_("Confirmez le nouveau code secret"),
        max_length=MAX_LENGTH * 2,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Tapez une seconde fois votre nouveau code secret")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_secret_code") and data.get("confirm") != data.get("new_secret_code"):
            self.add_error("confirm", _("Les deux codes ne sont pas identiques"))
        return data


class SecurityCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de sécurité"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": _("Saisissez le code de sécurité")},
    )


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de secours"),
        help_text=_("Un des codes de secours notés lors de l'activation de l'application."),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Saisissez un code de secours")},
    )


class ConfirmSecretCodeForm(forms.Form):
    secret_code = forms.CharField(
        label=_("Votre code secret"),
        max_length=MAX_LENGTH * 2,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre code secret")},
    )
