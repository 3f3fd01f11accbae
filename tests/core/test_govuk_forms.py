"""Every form renders in GOV.UK Frontend's tested markup through Django's field templates."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from assure.core.forms import GovukBoundField, GovukFormRenderer


class ExampleForm(forms.Form):
    name = forms.CharField(label="Nom", help_text="Comme sur votre carte Vitale", max_length=5)
    born = forms.DateField(label="Date de naissance")
    kind = forms.ChoiceField(
        label="Vous écrivez pour",
        choices=[("me", "Moi"), ("child", "Mon enfant")],
        widget=forms.RadioSelect,
        help_text="Une seule réponse",
    )
    topics = forms.MultipleChoiceField(
        label="Sujets",
        choices=[("a", "Remboursement"), ("b", "Carte")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    agree = forms.BooleanField(label="J'ai lu les conditions")
    note = forms.CharField(label="Message", widget=forms.Textarea, required=False)
    region = forms.ChoiceField(label="Région", choices=[("", "Choisir"), ("idf", "Île-de-France")])
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("note") == "refus":
            raise forms.ValidationError("Votre demande ne peut pas être enregistrée.")
        return cleaned


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


def _invalid_form() -> ExampleForm:
    form = ExampleForm(data={"name": "Dupont-Martin", "born": "31/02/1985", "note": "refus"})
    assert not form.is_valid()
    return form


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_the_project_renderer_and_bound_field_are_used_by_default():
    form = ExampleForm()
    assert isinstance(form.renderer, GovukFormRenderer)
    assert isinstance(form["name"], GovukBoundField)


def test_text_field_has_label_above_hint_and_no_error_when_unbound():
    html = _squash(ExampleForm()["name"].as_field_group())
    assert '<div class="govuk-form-group">' in html
    assert '<label class="govuk-label" for="id_name">Nom</label>' in html
    assert (
        '<div id="id_name_helptext" class="govuk-hint">Comme sur votre carte Vitale</div>' in html
    )
    assert 'aria-describedby="id_name_helptext"' in html
    assert 'class="govuk-input"' in html
    assert html.index("<label") < html.index("govuk-hint") < html.index("<input")
    assert "govuk-error-message" not in html


def test_field_in_error_shows_its_message_and_keeps_the_value():
    html = _squash(_invalid_form()["name"].as_field_group())
    assert "govuk-form-group govuk-form-group--error" in html
    assert (
        '<p id="id_name_error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Erreur :</span> Assurez-vous'
    ) in html
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert 'class="govuk-input govuk-input--error"' in html
    assert 'value="Dupont-Martin"' in html
    assert 'aria-invalid="true"' in html


def test_date_is_a_text_input_with_an_example_hint():
    html = _squash(_invalid_form()["born"].as_field_group())
    assert 'type="text"' in html
    assert '<div id="id_born_helptext" class="govuk-hint">Par exemple, 26/11/1985</div>' in html
    assert "govuk-input govuk-input--width-10 govuk-input--error" in html
    assert 'value="31/02/1985"' in html


def test_date_hint_follows_the_language():
    with translation.override("en"):
        html = ExampleForm()["born"].as_field_group()
    assert "For example, 1985-11-26" in html


def test_radios_are_a_fieldset_with_legend_hint_and_error():
    html = _squash(_invalid_form()["kind"].as_field_group())
    assert (
        '<fieldset class="govuk-fieldset" aria-describedby="id_kind_helptext id_kind_error">'
        in html
    )
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">'
        "Vous écrivez pour</legend>" in html
    )
    assert '<div class="govuk-radios" data-module="govuk-radios">' in html
    assert 'class="govuk-radios__input"' in html
    assert (
        '<label class="govuk-label govuk-radios__label" for="id_kind_1">Mon enfant</label>' in html
    )
    assert 'id="id_kind_error"' in html


def test_radios_keep_the_choice_made():
    form = ExampleForm(data={"kind": "child"})
    form.is_valid()
    html = _squash(form["kind"].as_field_group())
    assert re.search(
        r'<input type="radio" name="kind" value="child" id="id_kind_1"[^>]* checked', html
    )


def test_optional_checkboxes_are_a_fieldset_marked_optional():
    html = _squash(ExampleForm()["topics"].as_field_group())
    assert "Sujets (facultatif)</legend>" in html
    assert '<div class="govuk-checkboxes" data-module="govuk-checkboxes">' in html
    assert (
        'type="checkbox" name="topics" value="b" id="id_topics_1" class="govuk-checkboxes__input"'
        in html
    )


def test_single_checkbox_has_its_label_beside_it():
    html = _squash(_invalid_form()["agree"].as_field_group())
    assert "govuk-checkboxes__item" in html
    assert '<label class="govuk-label govuk-checkboxes__label" for="id_agree">' in html
    assert 'aria-describedby="id_agree_error"' in html
    assert "(facultatif)" not in html


def test_select_and_textarea_get_their_classes():
    form = _invalid_form()
    assert 'class="govuk-select govuk-select--error"' in form["region"].as_field_group()
    assert 'class="govuk-textarea"' in form["note"].as_field_group()
    assert ">\nrefus</textarea>" in form["note"].as_field_group()


def test_widget_classes_given_by_a_form_are_kept():
    class WideForm(forms.Form):
        postcode = forms.CharField(widget=forms.TextInput(attrs={"class": "govuk-input--width-5"}))

    html = WideForm()["postcode"].as_field_group()
    assert 'class="govuk-input govuk-input--width-5"' in html


def test_whole_form_renders_hidden_fields_and_every_group():
    html = str(ExampleForm())
    assert '<input type="hidden" name="token" id="id_token">' in html
    assert html.count('class="govuk-form-group') == 7


def test_error_summary_links_each_field_in_error_and_lists_form_errors():
    html = _squash(render_to_string("includes/error_summary.html", {"form": _invalid_form()}))
    assert 'class="govuk-error-summary" data-module="govuk-error-summary" tabindex="-1"' in html
    assert '<div role="alert">' in html
    assert '<h2 class="govuk-error-summary__title">Il y a un problème</h2>' in html
    assert "<li>Votre demande ne peut pas être enregistrée.</li>" in html
    hrefs = re.findall(r'<a href="#([^"]+)">', html)
    assert hrefs == ["id_name", "id_born", "id_kind_0", "id_agree", "id_region"]
    ids = set(re.findall(r'id="([^"]+)"', str(_invalid_form())))
    assert set(hrefs) <= ids, "every link of the summary leads to a field of the page"


def test_error_summary_is_absent_when_there_is_no_error():
    assert render_to_string("includes/error_summary.html", {"form": ExampleForm()}).strip() == ""


def test_page_title_says_there_is_an_error():
    template = Template('{% extends "base.html" %}{% block title %}Écrire{% endblock %}')
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = template.render(Context({"form": _invalid_form(), "request": request}))
    assert "<title>Erreur : Écrire \N{EN DASH} " in html


class KeptForm(ExampleForm):
    kept_field_groups = ("name", "kind", "note")


def test_kept_field_groups_are_the_markup_django_renders():
    """A form's kept fields, empty and unsubmitted, render as Django renders them, in each
    language; submitted or holding a value, they are rendered again each time."""
    with translation.override("fr"):
        plain, kept = ExampleForm(), KeptForm()
        for name in KeptForm.kept_field_groups:
            for _ in range(2):  # rendered, then given back
                assert kept[name].as_field_group() == plain[name].as_field_group()
        french = str(KeptForm()["name"].as_field_group())
    with translation.override("en"):
        assert KeptForm()["kind"].as_field_group() == ExampleForm()["kind"].as_field_group()
        assert str(KeptForm()["name"].as_field_group()) == french  # no translation for "Nom"
    submitted = KeptForm(data={"name": "Beaucoup trop long"})
    assert "govuk-error-message" in submitted["name"].as_field_group()
    assert "Beaucoup trop long" in submitted["name"].as_field_group()
    assert 'value="Ada"' in KeptForm(initial={"name": "Ada"})["name"].as_field_group()
    assert 'value="Ada"' not in KeptForm()["name"].as_field_group()
    prefixed = KeptForm(prefix="autre")["name"].as_field_group()
    assert 'name="autre-name"' in prefixed
    assert 'id="id_autre-name"' in prefixed


def test_a_changed_setting_forgets_the_kept_markup(settings):
    KeptForm()["name"].as_field_group()
    from assure.core import forms as core_forms

    assert core_forms._KEPT_FIELD_GROUPS
    settings.LANGUAGE_CODE = settings.LANGUAGE_CODE  # any change of setting
    assert not core_forms._KEPT_FIELD_GROUPS


def test_kept_field_groups_follow_the_language():
    from assure.backoffice.forms import ReasonForm

    class Plain(ReasonForm):
        kept_field_groups = ()

    rendered = {}
    for language in ("fr", "en", "fr"):
        with translation.override(language):
            kept = ReasonForm()["reason"].as_field_group()
            assert kept == Plain()["reason"].as_field_group()
            rendered[language] = kept
    assert "Pourquoi ouvrez-vous ce dossier" in rendered["fr"]
    assert rendered["en"] != rendered["fr"]
