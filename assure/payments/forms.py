"""The filters of "Mes paiements": read from the query string, so a filtered page can be shared
between tabs, bookmarked and exported with the same period."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assure.members.models import Beneficiary, Member
from assure.payments.models import Category
from assure.payments.selectors import SELF, StatementFilters

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class StatementFilterForm(forms.Form):
    start = forms.DateField(
        label=_("Soins reçus depuis le"), required=False, input_formats=DATE_FORMATS
    )
    end = forms.DateField(
        label=_("Soins reçus jusqu'au"), required=False, input_formats=DATE_FORMATS
    )
    beneficiary = forms.ChoiceField(label=_("Personne soignée"), required=False)
    category = forms.ChoiceField(
        label=_("Type de soins"),
        required=False,
        choices=[("", _("Tous")), *Category.choices],
    )
    status = forms.ChoiceField(
        label=_("État"),
        required=False,
        choices=[
            ("", _("Tous")),
            ("pending", _("En attente")),
            ("paid", _("Payé")),
            ("rejected", _("Refusé")),
        ],
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people: list[tuple[str, Any]] = [("", _("Toutes")), (SELF, _("Vous-même"))]
        people += [
            (str(b.pk), f"{b.given_names} {b.birth_name}")
            for b in Beneficiary.objects.filter(member_id=member.pk).order_by("birth_date", "pk")
        ]
        self.fields["beneficiary"].choices = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("La date de fin doit être après la date de début."))
        return data

    def filters(self) -> StatementFilters:
        """The chosen filters; none when the form is invalid (the errors are shown instead)."""
        if not self.is_valid():
            return StatementFilters()
        data = self.cleaned_data
        return StatementFilters(
            status=data.get("status") or None,
            start=data.get("start"),
            end=data.get("end"),
            beneficiary=data.get("beneficiary") or None,
            category=data.get("category") or None,
        )
