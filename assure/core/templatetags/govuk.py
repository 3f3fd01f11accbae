"""Template helpers for the GOV.UK form markup (see `assure.core.forms`)."""

from __future__ import annotations

from django import forms
from django.template import Library

from assure.core.forms import error_anchor as _error_anchor

register = Library()


@register.filter
def error_anchor(field: forms.BoundField) -> str:
    return _error_anchor(field)


@register.filter
def govuk_kind(field: forms.BoundField) -> str:
    """The GOV.UK pattern for the field: choices in a fieldset, a lone checkbox, or a field."""
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "field"
