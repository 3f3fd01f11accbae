"""The choices a member makes before a certificate is drawn."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
SELF = "self"


def _people(beneficiaries: list[Beneficiary]) -> list[tuple[str, str]]:
    return [(str(b.pk), f"{b.given_names} {b.birth_name}") for b in beneficiaries]


class EntitlementForm(forms.Form):
    beneficiaries = forms.MultipleChoiceField(
        label=_("Ayants droit à faire figurer sur l'attestation"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cochez les personnes rattachées à votre compte que l'attestation doit citer."),
    )
    exemptions = forms.BooleanField(
        label=_("Faire figurer mes exonérations (par exemple une affection de longue durée)"),
        required=False,
        help_text=_(
            "Ces informations touchent à votre santé : ne les cochez que si la personne qui "
            "demande l'attestation en a besoin."
        ),
    )

    def __init__(self, *args: Any, beneficiaries: list[Beneficiary], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["beneficiaries"].choices = _people(beneficiaries)  # type: ignore[attr-defined]
        if not beneficiaries:
            del self.fields["beneficiaries"]


class AllowanceForm(forms.Form):
    start = forms.DateField(label=_("Paiements reçus depuis le"), input_formats=DATE_FORMATS)
    end = forms.DateField(label=_("Paiements reçus jusqu'au"), input_formats=DATE_FORMATS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("La date de fin doit être après la date de début."))
        elif end and end > timezone.localdate():
            self.add_error("end", _("La date de fin ne peut pas être dans le futur."))
        elif start and end and (end - start) > dt.timedelta(days=366):
            self.add_error("start", _("Choisissez une période d'un an au plus."))
        return data


class TaxForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Année des revenus"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        last = timezone.localdate().year - 1
        self.fields["year"].choices = [(y, str(y)) for y in range(last, last - 4, -1)]  # type: ignore[attr-defined]
        self.fields["year"].initial = last


class ProvisionalForm(forms.Form):
    person = forms.ChoiceField(label=_("Pour qui ?"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, beneficiaries: list[Beneficiary], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(SELF, _("Vous-même")), *_people(beneficiaries)]  # type: ignore[attr-defined]
        self.fields["person"].initial = SELF


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=_("Référence de l'attestation"),
        max_length=40,
        help_text=_("Elle figure sous le titre du document, par exemple 7K3Q-M2XD-91HA-ZC4T-8WEB."),
    )
