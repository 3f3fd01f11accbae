"""The card order form: for whom, and when they leave (optional)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
SELF = "self"


class CardOrderForm(forms.Form):
    person = forms.ChoiceField(label=_("Pour qui ?"), widget=forms.RadioSelect)
    departure_date = forms.DateField(
        label=_("Date de départ (facultatif)"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_(
            "Si vous partez avant l'arrivée de la carte, nous vous proposons aussitôt un "
            "certificat provisoire."
        ),
    )

    def __init__(self, *args: Any, beneficiaries: list[Beneficiary], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [(SELF, _("Vous-même"))]
        choices += [(str(b.pk), f"{b.given_names} {b.birth_name}") for b in beneficiaries]
        self.fields["person"].choices = choices  # type: ignore[attr-defined]
        self.fields["person"].initial = SELF

    def clean_departure_date(self) -> Any:
        value = self.cleaned_data.get("departure_date")
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError(_("La date de départ ne peut pas être passée."))
        return value
