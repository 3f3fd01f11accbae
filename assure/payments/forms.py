"""The filters of "Mes paiements": read from the query string, so a filtered page can be shared
between tabs, bookmarked and exported with the same period."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assure.members.models import Member
from assure.payments.models import Category
from assure.payments.selectors import SELF, StatementFilters, beneficiaries_for_member

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
# The fields whose markup is the same for every member (only the language and the value change it).
SHARED_FIELDS = frozenset({"start", "end", "category", "status"})


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
        # Kept for the page, which names the person of each line from them without another read.
        self.beneficiaries = beneficiaries_for_member(member=member)
        people += [(str(b.pk), f"{b.given_names} {b.birth_name}") for b in self.beneficiaries]
        self.fields["beneficiary"].choices = people  # type: ignore[attr-defined]

    def field_groups(self) -> SafeString:
        """Every filter's label, hint, errors and input, one after the other.

        A field's markup depends only on the language, its value and, for the people, the names
        offered: it is rendered once for each of these and kept (the template engine took most of
        a filtered page's time on these five fields). A field with errors is rendered each time.
        """
        language = get_language()
        parts = []
        for name in self.fields:
            field = self[name]
            if self.is_bound and field.errors:
                parts.append(str(field.as_field_group()))
            else:
                parts.append(_kept_field_group(language, self, name))
        return mark_safe("\n      ".join(parts))  # noqa: S308 - the form's own rendering

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


def _kept_field_group(language: str | None, form: StatementFilterForm, name: str) -> str:
    field = form[name]
    value = field.value()
    choices: tuple[tuple[str, str], ...] = ()
    if name not in SHARED_FIELDS:  # the people: each member's own names
        choices = tuple(
            (str(choice), str(label))
            for choice, label in form.fields[name].choices  # type: ignore[attr-defined]
        )
    key = (language, name, None if value is None else str(value), choices)
    found = _KEPT_FIELD_GROUPS.get(key)
    if found is None:
        if len(_KEPT_FIELD_GROUPS) >= _KEPT_FIELD_GROUPS_MAX:
            _KEPT_FIELD_GROUPS.clear()
        found = _KEPT_FIELD_GROUPS[key] = str(field.as_field_group())
    return found


# (language, field name, value, people offered) → the field's markup without errors; bounded.
_KEPT_FIELD_GROUPS: dict[tuple[str | None, str, str | None, tuple[tuple[str, str], ...]], str] = {}
_KEPT_FIELD_GROUPS_MAX = 4096
