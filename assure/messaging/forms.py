"""Forms of the messaging pages: they check shape only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assure.core.exceptions import DomainError
from assure.messaging.attachments import MAX_FILES
from assure.messaging.exceptions import MAX_BODY
from assure.messaging.models import AnswerTemplate, Subject, Team

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Up to three files from one input (Django's documented pattern for `multiple`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        items = [item for item in items if item]
        if len(items) > MAX_FILES:
            raise ValidationError(_("Vous pouvez joindre 3 fichiers au plus."))
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def _files_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Pièces jointes"),
        help_text=_(
            "3 fichiers au plus, PDF, JPEG ou PNG, 5 Mo chacun au plus. "
            "Les PDF protégés par un mot de passe ne sont pas acceptés."
        ),
    )


def _body_field(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": MAX_BODY}),
        error_messages={
            "required": _("Écrivez votre message."),
            "max_length": _("Votre message doit faire 5 000 caractères au plus."),
        },
    )


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Shows a service's refusal next to the field it is about (or at the top)."""
    placed = False
    for name, messages in error.errors.items():
        # The services speak of the API's `files`; the pages call the field `attachments`.
        field = "attachments" if name == "files" else name
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, str(error.title))


class NewMessageForm(forms.Form):
    subject = forms.ChoiceField(
        label=_("Sujet de votre message"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez le sujet de votre message."),
            "invalid_choice": _("Choisissez le sujet de votre message dans la liste."),
        },
    )
    reference = forms.CharField(required=False, widget=forms.HiddenInput)
    body = _body_field(
        _("Votre message"),
        _(
            "5 000 caractères au plus. N'indiquez pas votre code secret : "
            "la caisse ne le demande jamais."
        ),
    )
    attachments = _files_field()
    # Fixed labels and hints: their empty markup is kept (assure.core.forms.GovukBoundField).
    # Not the subjects, which the fund edits.
    kept_field_groups = ("body", "attachments")

    def __init__(self, *args: Any, subjects: list[Subject], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subjects = subjects
        subject_field = self.fields["subject"]
        assert isinstance(subject_field, forms.ChoiceField)  # noqa: S101 - declared above
        subject_field.choices = [(s.code, s.display_label) for s in subjects]

    def subject_options(self) -> list[tuple[Any, Subject]]:
        """Each radio with its subject, so that the page can show the subject's help text."""
        return list(zip(self["subject"].subwidgets, self.subjects, strict=True))


class ReplyForm(forms.Form):
    body = _body_field(_("Votre réponse"))
    attachments = _files_field()


class AnswerForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Modèle de réponse"),
        queryset=AnswerTemplate.objects.none(),
        required=False,
        empty_label=_("Aucun"),
    )
    body = _body_field(_("Réponse au membre"))
    attachments = _files_field()

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = AnswerTemplate.objects.filter(  # type: ignore[attr-defined]
            active=True
        ).filter(team__in=[team]) | AnswerTemplate.objects.filter(active=True, team__isnull=True)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note interne (jamais visible par le membre)"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_BODY}),
    )


class TransferForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Transférer à l'équipe"), queryset=Team.objects.all())
    reason = forms.CharField(label=_("Motif"), max_length=200, required=False)


class AnswerTemplateForm(forms.ModelForm):
    class Meta:
        model = AnswerTemplate
        fields = ["title", "team", "body", "active"]
        labels = {
            "title": _("Titre"),
            "team": _("Équipe (toutes si vide)"),
            "body": _("Texte"),
            "active": _("Proposé aux conseillers"),
        }
