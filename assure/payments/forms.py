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
# The fields whose empty markup is the same for every member (only the language changes it).
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

        The first page of Mes paiements shows the form empty: the fields that do not depend on the
        member are then rendered once per language and kept, not rendered again on every request;
        the list of people is kept likewise for each list of names met (a member's usually stays
        the same from one visit to the next).
        """
        parts = []
        for name in self.fields:
            if not self.is_bound and name in SHARED_FIELDS:
                parts.append(_empty_field_group(get_language(), self, name))
            elif not self.is_bound and name == "beneficiary":
                parts.append(_empty_people_group(get_language(), self))
            else:
                parts.append(str(self[name].as_field_group()))
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


def _empty_field_group(language: str | None, form: StatementFilterForm, name: str) -> str:
    key = (language, name)
    found = _EMPTY_FIELD_GROUPS.get(key)
    if found is None:
        found = _EMPTY_FIELD_GROUPS[key] = str(form[name].as_field_group())
    return found


def _empty_people_group(language: str | None, form: StatementFilterForm) -> str:
    choices = tuple(
        (value, str(label))
        for value, label in form.fields["beneficiary"].choices  # type: ignore[attr-defined]
    )
    key = (language, choices)
    found = _EMPTY_PEOPLE_GROUPS.get(key)
    if found is None:
        if len(_EMPTY_PEOPLE_GROUPS) >= _EMPTY_PEOPLE_GROUPS_MAX:
            _EMPTY_PEOPLE_GROUPS.clear()
        found = _EMPTY_PEOPLE_GROUPS[key] = str(form["beneficiary"].as_field_group())
    return found


# (language, people offered) → the beneficiary field's markup in an empty form; bounded.
_EMPTY_PEOPLE_GROUPS: dict[tuple[str | None, tuple[tuple[str, str], ...]], str] = {}
_EMPTY_PEOPLE_GROUPS_MAX = 2048

# (language, field name) → the field's markup in an empty form.
_EMPTY_FIELD_GROUPS: dict[tuple[str | None, str], str] = {}
