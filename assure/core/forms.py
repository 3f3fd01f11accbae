"""Form rendering in the GOV.UK Frontend markup, for every form of the project.

`settings.FORM_RENDERER` points at `GovukFormRenderer`, so `{{ form.field.as_field_group }}` and
`{{ form }}` give the tested patterns (label above, hint, error next to the field, radios and
checkboxes in a fieldset) without each page writing them out. The widgets get their GOV.UK classes
from `GovukBoundField`; the markup around them lives in `templates/django/forms/`.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import django.forms
from django import forms
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Input
from django.utils.formats import get_format
from django.utils.functional import cached_property, lazy
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

# GOV.UK's class for each Django widget family; widgets not listed keep Django's own markup.
_WIDGET_CLASSES: dict[type[forms.Widget], tuple[str, str]] = {
    forms.CheckboxSelectMultiple: ("govuk-checkboxes__input", ""),
    forms.RadioSelect: ("govuk-radios__input", ""),
    forms.CheckboxInput: ("govuk-checkboxes__input", ""),
    forms.Textarea: ("govuk-textarea", "govuk-textarea--error"),
    forms.Select: ("govuk-select", "govuk-select--error"),
    forms.ClearableFileInput: ("govuk-file-upload", "govuk-file-upload--error"),
    forms.FileInput: ("govuk-file-upload", "govuk-file-upload--error"),
    Input: ("govuk-input", "govuk-input--error"),
}

# An example date that reads as one whatever the order of day and month (26 > 12).
_EXAMPLE_DATE = datetime.date(1985, 11, 26)


def _date_hint() -> str:
    example = _EXAMPLE_DATE.strftime(get_format("DATE_INPUT_FORMATS")[0])
    return gettext("Par exemple, %(example)s") % {"example": example}


date_hint = lazy(_date_hint, str)


def widget_classes(widget: forms.Widget) -> tuple[str, str]:
    """The GOV.UK class of a widget, and the one added when its field is in error."""
    # CheckboxSelectMultiple is a RadioSelect, DateInput an Input: the first match in order wins.
    for widget_class, classes in _WIDGET_CLASSES.items():
        if isinstance(widget, widget_class):
            return classes
    return ("", "")


# (language, form class, field's name and id) → the markup of an empty field; bounded.
_KEPT_FIELD_GROUPS: dict[tuple[str | None, type, str, str], SafeString] = {}
_KEPT_FIELD_GROUPS_MAX = 256


@receiver(setting_changed)
def _forget_field_groups(**kwargs: Any) -> None:
    _KEPT_FIELD_GROUPS.clear()


class GovukBoundField(forms.BoundField):
    """A bound field whose widget carries GOV.UK classes, and whose date fields have a hint.

    A form may name in `kept_field_groups` the fields whose markup, while the form is not
    submitted and the field is empty, depends only on the language and the settings (a fixed
    label, hint and choices): that markup is rendered once per language and kept, as the form
    renderer's templates cost more than the rest of such a page (docs/performance.md). A field
    whose label or choices come from the database or the member must not be named there.
    """

    def __init__(self, form: forms.BaseForm, field: forms.Field, name: str) -> None:
        super().__init__(form, field, name)
        if not self.help_text and isinstance(field.widget, forms.DateInput):
            self.help_text = date_hint()

    def as_field_group(self) -> SafeString:
        if (
            self.name not in getattr(self.form, "kept_field_groups", ())
            or self.form.is_bound
            or self.value() not in (None, "", [])
        ):
            return super().as_field_group()  # type: ignore[no-any-return]
        key = (get_language(), type(self.form), self.html_name, str(self.auto_id))
        found = _KEPT_FIELD_GROUPS.get(key)
        if found is None:
            if len(_KEPT_FIELD_GROUPS) >= _KEPT_FIELD_GROUPS_MAX:
                _KEPT_FIELD_GROUPS.clear()
            found = _KEPT_FIELD_GROUPS[key] = super().as_field_group()
        return found

    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if widget.is_hidden:
            return attrs
        base, error = widget_classes(widget)
        classes = [base, widget.attrs.get("class", ""), attrs.get("class", "")]
        if isinstance(widget, forms.DateInput) and "govuk-input--width" not in " ".join(classes):
            classes.append("govuk-input--width-10")
        if self.errors:
            classes.append(error)
        joined = " ".join(c for c in classes if c)
        if joined:
            attrs["class"] = joined
        return attrs


def error_anchor(field: forms.BoundField) -> str:
    """The id the error summary links to: the field itself, or the first of its options."""
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id or field.html_name


class GovukFormRenderer(DjangoTemplates):
    """Django's form renderer, reading the project's `templates/django/forms/` overrides first."""

    bound_field_class = GovukBoundField

    @cached_property
    def engine(self) -> Any:
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(settings.BASE_DIR) / "templates",
                    Path(django.forms.__file__).parent / "templates",
                ],
                "NAME": "assureforms",
                "OPTIONS": {"libraries": {"i18n": "assure.core.template_i18n"}},
            }
        )
