"""Ma messagerie: teams, subjects, threads between a member and the fund's advisors, their messages,
attachments, internal notes and the fund's reusable answers.

Subjects and teams are data the fund configures (a data migration loads the defaults); internal
notes live in a table of their own so that no member-facing read can ever reach them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assure.members.models import Member


def english_wanted() -> bool:
    return (get_language() or "fr").split("-")[0] == "en"


def in_language(french: str, english: str, *, wanted_english: bool | None = None) -> str:
    """The English text when English is wanted (the active language unless said) and written."""
    if wanted_english is None:
        wanted_english = english_wanted()
    return english if wanted_english and english else french


class Team(models.Model):
    """A group of advisors; each subject routes its threads to one team."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)


class Subject(models.Model):
    """What a member writes about, as the fund lists it, with a short help text."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    label_en = models.CharField(max_length=100, blank=True, default="")
    help_text = models.CharField(max_length=300, blank=True, default="")
    help_text_en = models.CharField(max_length=300, blank=True, default="")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="subjects")
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return in_language(self.label, self.label_en)

    @property
    def display_help(self) -> str:
        return in_language(self.help_text, self.help_text_en)


class Thread(models.Model):
    class Status(models.TextChoices):
        WAITING_ADVISOR = "waiting_advisor", _("En attente de réponse")
        WAITING_MEMBER = "waiting_member", _("Répondu")
        CLOSED = "closed", _("Clôturé")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="threads")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="threads")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="threads")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_threads",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.WAITING_ADVISOR, db_index=True
    )
    # A payment reference the member asked about ("ask about this payment"), checked for shape only.
    reference = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    answer_expected_by = models.DateField(null=True, blank=True)
    # When the member's latest question was asked: the clock the response-time figures measure.
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    unread_by_member = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-last_message_at", "-id"]),
            models.Index(fields=["team", "status", "answer_expected_by"]),
            # The default queue, in its order: a page of it reads a hundred entries of this index
            # instead of sorting every unassigned thread.
            models.Index(
                fields=["answer_expected_by", "waiting_since", "id"],
                condition=models.Q(status="waiting_advisor", assigned_to__isnull=True),
                name="messaging_thread_unassigned",
            ),
        ]
        permissions = [
            ("answer_thread", "Can read and answer members' threads"),
            ("view_team_figures", "Can see the teams' response-time figures"),
        ]

    def __str__(self) -> str:
        return f"Thread {self.pk}"


class Message(models.Model):
    class Author(models.TextChoices):
        MEMBER = "member", _("Vous")
        ADVISOR = "advisor", _("Conseiller")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=8, choices=Author.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message {self.pk}"


class Attachment(models.Model):
    """A checked file. `storage_name` is random; the member's file name is only ever shown."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    storage_name = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Attachment {self.pk}"


class InternalNote(models.Model):
    """Advisors' notes on a thread; the member never sees them."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="notes")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class AnswerTemplate(models.Model):
    """A reusable answer the fund writes; for one team, or for all when `team` is empty."""

    title = models.CharField(max_length=100)
    body = models.TextField(max_length=5000)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title
