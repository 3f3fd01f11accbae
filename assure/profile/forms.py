"""The profile's forms: the fields the member types; the rules live in members.changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assure.members.feed import COUNTRIES
from assure.notifications.postal import country_name


def _country_choices() -> list[tuple[str, str]]:
    names = [(code, country_name(code)) for code in COUNTRIES if code != "FR"]
    return [("FR", "France"), *sorted(names, key=lambda item: item[1])]


class AddressForm(forms.Form):
    line1 = forms.CharField(
        label=_("Numéro et voie"),
        max_length=100,
        help_text=_("Par exemple, 12 rue des Lilas. 38 caractères au plus."),
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label=_("Complément d'adresse (facultatif)"),
        max_length=100,
        required=False,
        help_text=_("Bâtiment, étage, lieu-dit. 38 caractères au plus."),
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label=_("Code postal"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label=_("Commune"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    country = forms.ChoiceField(
        label=_("Pays"), choices=(), widget=forms.Select(attrs={"autocomplete": "country"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices()  # type: ignore[attr-defined]


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Numéro de téléphone"),
        max_length=32,
        help_text=_("Par exemple, 06 12 34 56 78 ou +33 6 12 34 56 78."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )


class EmailForm(forms.Form):
    email = forms.CharField(
        label=_("Nouvelle adresse électronique"),
        max_length=254,
        help_text=_("Nous y enverrons un lien : votre adresse changera quand vous l'aurez ouvert."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class BankAccountForm(forms.Form):
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=50,
        help_text=_("Sur votre RIB, par exemple FR76 3000 6000 0112 3456 7890 189."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label=_("BIC"),
        max_length=20,
        help_text=_("8 ou 11 caractères, par exemple AGRIFRPP."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    holder = forms.CharField(
        label=_("Titulaire du compte"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class SecurityCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de sécurité"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
            }
        ),
    )
