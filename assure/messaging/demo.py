"""Demo step: two conversations for the demo member, a demo advisor and an answer template.

One thread holds an advisor's answer not yet read (Ma messagerie shows it as new, and its e-mail
notice waits at /dev/outbox/), the other waits for an advisor. Written through the services, so
that the audit trail and the outbox look as they would for real.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.db import transaction

from assure.members.models import Member
from assure.members.nir import is_temporary_nir
from assure.messaging import services
from assure.messaging.models import AnswerTemplate, Thread

DEMO_ADVISOR = "conseiller.demo"
DEMO_ADVISOR_PASSWORD = "Demo-conseil-2026"  # noqa: S105 - printed to whoever runs the demo
_PERMISSIONS = ["answer_thread", "view_team_figures", "change_answertemplate"]


def _first_member() -> Member | None:
    # The member the demo account belongs to (assure.identity.demo picks the same one).
    for member in Member.objects.order_by("id")[:20]:
        if not is_temporary_nir(member.nir):
            return member
    return None


def _advisor() -> User:
    user, created = User.objects.get_or_create(
        username=DEMO_ADVISOR,
        defaults={"first_name": "Claire", "last_name": "Conseil", "is_staff": True},
    )
    if created:
        user.set_password(DEMO_ADVISOR_PASSWORD)
        user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="messaging", codename__in=_PERMISSIONS)
    )
    return user


def demo_messaging(load: bool) -> list[str]:
    member = _first_member()
    if member is None:
        return ["Messaging: no member in the register, nothing to do."]
    if load and not Thread.objects.filter(member=member).exists():
        with transaction.atomic():
            advisor = _advisor()
            staff = services.staff_actor(advisor)
            AnswerTemplate.objects.get_or_create(
                title="Accusé de réception",
                defaults={
                    "body": "Bonjour,\n\nNous avons bien reçu votre message et le traitons. "
                    "Vous aurez notre réponse dans votre messagerie.\n\nCordialement,"
                },
            )
            answered = services.thread_create(
                actor=services.member_actor(member),
                member=member,
                subject_code="remboursements",
                body="Bonjour,\nj'ai envoyé une feuille de soins il y a trois semaines et je ne "
                "vois pas encore le remboursement. Pouvez-vous vérifier ?\nMerci.",
            )
            services.thread_take(actor=staff, user=advisor, thread=answered)
            services.thread_answer(
                actor=staff,
                user=advisor,
                thread=answered,
                body="Bonjour,\nvotre feuille de soins a bien été reçue le 12 et sera payée "
                "dans les prochains jours.\nCordialement,\nClaire, votre conseillère",
            )
            services.thread_create(
                actor=services.member_actor(member),
                member=member,
                subject_code="carte-vitale",
                body="Ma carte Vitale est abîmée : la puce ne fonctionne plus chez le pharmacien.",
            )
    elif load:
        _advisor()
    return [
        f"Messaging: 2 conversations for {member.display_name}, answered by the demo advisor "
        "in the back office's inbox at /backoffice/messagerie/."
    ]
