"""The one form FranceConnect adds: NIR and secret code, asked once to make the link."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assure.identity.forms import NirField


class LinkProofForm(forms.Form):
    nir = NirField()
    secret_code = forms.CharField(
        label=_("Code secret"),
        strip=False,
        max_length=128,
        error_messages={"required": _("Saisissez votre code secret")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
