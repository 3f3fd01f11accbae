"""The advisors' pages: permissions, queues, answers, notes, transfer, figures, templates."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from assure.core.models import AuditEvent
from assure.messaging import services
from assure.messaging.models import AnswerTemplate, Team, Thread
from assure.notifications.models import OutboxMessage
from tests.messaging import files
from tests.messaging.helpers import account_for, advisor, sign_in, upload, write

pytestmark = pytest.mark.django_db

INBOX = reverse("backoffice:messaging:inbox")


def _thread_url(thread: Thread) -> str:
    return reverse("backoffice:messaging:thread", args=[thread.pk])


def test_anonymous_is_sent_to_the_back_office_sign_in(client, member, settings):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.BACKOFFICE_LOGIN_URL)


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: advisor("noperm", "figures"),  # staff, but not allowed to answer
        lambda: advisor("notstaff", "answer", staff=False),  # the permission without staff status
    ],
)
def test_staff_without_the_permission_see_nothing(client, member, make_user):
    thread = write(member, files=[("a.png", files.png())])
    attachment = thread.messages.get().attachments.get()
    client.force_login(make_user())
    for url in [
        INBOX,
        _thread_url(thread),
        reverse("backoffice:messaging:attachment", args=[attachment.pk]),
    ]:
        assert client.get(url).status_code == 403
    assert client.post(_thread_url(thread), {"action": "close"}).status_code == 403
    assert not AuditEvent.objects.filter(action="messaging.thread_viewed").exists()
    thread.refresh_from_db()
    assert thread.status == Thread.Status.WAITING_ADVISOR


def test_a_signed_in_member_is_not_staff(client, member):
    thread = write(member)
    sign_in(client, member)
    assert client.get(_thread_url(thread)).status_code == 302  # to the back office's sign-in


def test_queues(client, member, other_member):
    me, colleague = advisor("moi"), advisor("collegue")
    new = write(member)
    mine = write(member, subject="indemnites")
    services.thread_take(actor=services.staff_actor(me), user=me, thread=mine)
    answered = write(other_member)
    services.thread_answer(
        actor=services.staff_actor(colleague), user=colleague, thread=answered, body="R"
    )
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        late = write(other_member)
    client.force_login(me)

    def listed(query: str) -> set[int]:
        response = client.get(INBOX + query)
        return {t.pk for t in response.context["threads"]}

    assert listed("") == {new.pk, late.pk}
    assert listed("?file=mine") == {mine.pk}
    assert listed("?file=overdue") == {late.pk}
    assert listed("?file=waiting_member") == {answered.pk}
    assert listed("?equipe=indemnites&file=mine") == {mine.pk}
    assert listed("?equipe=cartes&file=unassigned") == set()
    counts = {code: n for code, _label, n in client.get(INBOX).context["queues"]}
    assert counts == {"unassigned": 2, "mine": 1, "overdue": 1, "waiting_member": 1}


def test_queues_read_through_statements_compiled_once(member, other_member):
    """Every queue, with and without a team, lists what the ORM's query of the queue lists."""
    from assure.messaging import selectors

    me = advisor("moi")
    taken = write(member, subject="indemnites")
    services.thread_take(actor=services.staff_actor(me), user=me, thread=taken)
    write(member)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        write(other_member)
    answered = write(other_member, subject="indemnites")
    services.thread_answer(actor=services.staff_actor(me), user=me, thread=answered, body="R")
    for team in (None, *Team.objects.all()):
        for queue in selectors.QUEUES:
            expected = [
                pk
                for pk, *_rest in selectors.thread_queue(
                    team=team, queue=queue, user=me
                ).values_list(*selectors.QUEUE_COLUMNS)[: selectors.QUEUE_PAGE]
            ]
            rows = selectors.queue_rows(team=team, queue=queue, user=me)
            assert [row.pk for row in rows] == expected, (team, queue)
            read = selectors._queue_read(queue, team is not None)
            assert read._plans, (team, queue)
            assert all(read._plans.values()), (team, queue)
    assert selectors.queue_rows(team=None, queue="mine", user=None) == []
    colleague = advisor("collegue")
    for closed in (False, True):
        if closed:
            services.thread_close(actor=services.staff_actor(me), thread=answered)
        for team in (None, *Team.objects.all()):
            for user in (me, colleague):
                counts = selectors.queue_counts(team=team, user=user)
                assert counts == selectors.queue_counts_orm(team=team, user=user), (team, user)
    assert selectors.queue_counts(team=None, user=me) == {
        "unassigned": 2,
        "mine": 1,
        "overdue": 1,
        "waiting_member": 0,
    }


def test_a_queue_line_shows_what_the_thread_page_shows(client, member):
    me = advisor("moi")
    me.first_name, me.last_name = "Lucie", "Martin"
    me.save()
    thread = write(member, subject="indemnites")
    services.thread_take(actor=services.staff_actor(me), user=me, thread=thread)
    thread.refresh_from_db()
    client.force_login(me)
    page = client.get(INBOX + "?file=mine").content.decode()
    row = page[page.index(f'href="{_thread_url(thread)}"') :].split("</tr>")[0]
    assert thread.subject.display_label in row
    assert member.display_name.replace("'", "&#x27;") in row
    assert thread.team.display_name in row
    assert thread.answer_expected_by.strftime("%d/%m/%Y") in row
    assert "Lucie Martin" in row
    me.first_name = me.last_name = ""
    me.save()
    row = client.get(INBOX + "?file=mine").content.decode().split(_thread_url(thread))[1]
    assert "moi" in row.split("</tr>")[0]  # no full name: the user name


def test_inbox_queries_do_not_grow(client, member, django_assert_max_num_queries):
    client.force_login(advisor())
    write(member)
    with django_assert_max_num_queries(15) as few:
        client.get(INBOX)
    for _ in range(10):
        write(member)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(INBOX)


def test_each_look_at_a_thread_is_recorded(client, member):
    user = advisor()
    thread = write(member)
    client.force_login(user)
    page = client.get(_thread_url(thread)).content.decode()
    client.get(_thread_url(thread))
    events = AuditEvent.objects.filter(action="messaging.thread_viewed", member_id=member.pk)
    assert events.count() == 2
    assert events.first().actor_kind == "staff"
    assert events.first().actor_id == str(user.pk)
    assert "N&#x27;DIAYE" in page  # the member's identity beside the thread
    assert member.nir not in page  # the NIR masked


def test_take_answer_with_a_template_note_and_close(client, member):
    account_for(member, email="zoe@example.org")
    user = advisor()
    AnswerTemplate.objects.create(
        title="Délai", body="Votre dossier est en cours de traitement.", team=None
    )
    thread = write(member)
    client.force_login(user)
    url = _thread_url(thread)
    assert client.post(url, {"action": "take"}).status_code == 302
    thread.refresh_from_db()
    assert thread.assigned_to == user

    template = AnswerTemplate.objects.get()
    page = client.post(url, {"action": "use_template", "template": template.pk, "body": ""})
    assert "Votre dossier est en cours de traitement.</textarea>" in page.content.decode()

    response = client.post(
        url,
        {
            "action": "answer",
            "body": "Votre dossier est en cours de traitement.",
            "attachments": [upload("courrier.pdf", files.pdf())],
        },
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == Thread.Status.WAITING_MEMBER
    assert OutboxMessage.objects.filter(template="messaging_answer").count() == 1
    assert thread.messages.get(author="advisor").attachments.count() == 1

    client.post(url, {"action": "note", "note": "Membre rappelé par téléphone"})
    assert thread.notes.get().body == "Membre rappelé par téléphone"
    client.post(url, {"action": "close"})
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED


def test_refused_advisor_attachment_is_shown(client, member):
    thread = write(member)
    client.force_login(advisor())
    response = client.post(
        _thread_url(thread),
        {"action": "answer", "body": "R", "attachments": [upload("x.pdf", files.pdf_encrypted())]},
    )
    assert response.status_code == 400
    assert "protégé par un mot de passe" in response.content.decode()
    assert not thread.messages.filter(author="advisor").exists()


def test_internal_notes_never_reach_the_member(client, member):
    user = advisor()
    thread = write(member)
    services.thread_note_add(
        actor=services.staff_actor(user), user=user, thread=thread, body="NOTE-SECRETE"
    )
    sign_in(client, member)
    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert "NOTE-SECRETE" not in page


def test_transfer(client, member):
    thread = write(member)
    client.force_login(advisor())
    cards = Team.objects.get(code="cartes")
    response = client.post(
        _thread_url(thread), {"action": "transfer", "team": cards.pk, "reason": "Carte"}
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.team == cards


def test_figures_need_their_permission(client, member):
    client.force_login(advisor("a", "answer"))
    assert client.get(reverse("backoffice:messaging:figures")).status_code == 403


def test_figures(client, member):
    user = advisor("chef", "answer", "figures")
    # Three threads of the reimbursements team answered after 2, 4 and 30 hours.
    for hours in (2, 4, 30):
        with time_machine.travel(dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC), tick=False):
            thread = write(member)
        answered_at = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC) + dt.timedelta(hours=hours)
        with time_machine.travel(answered_at, tick=False):
            services.thread_answer(
                actor=services.staff_actor(user), user=user, thread=thread, body="R"
            )
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        write(member)  # overdue since 9 November
    client.force_login(user)
    response = client.get(reverse("backoffice:messaging:figures"))
    figures = {f.team.code: f for f in response.context["figures"]}
    refunds = figures["remboursements"]
    assert refunds.answered == 3
    assert refunds.median_hours == 4
    assert refunds.p90_hours == pytest.approx(24.8)  # 4 + 0.8 * (30 - 4), inclusive method
    assert refunds.open == 1
    assert refunds.overdue == 1
    assert figures["cartes"].answered == 0
    assert figures["cartes"].median_hours is None


def test_answer_templates_are_edited_by_the_fund(client):
    user = advisor("redac", "answer", "templates")
    client.force_login(user)
    response = client.post(
        reverse("backoffice:messaging:template_new"),
        {"title": "Accusé", "body": "Nous avons bien reçu votre message.", "active": "on"},
    )
    assert response.status_code == 302
    template = AnswerTemplate.objects.get()
    assert template.team is None
    assert template.active
    client.post(
        reverse("backoffice:messaging:template_edit", args=[template.pk]),
        {"title": "Accusé de réception", "body": "Bien reçu.", "active": ""},
    )
    template.refresh_from_db()
    assert (template.title, template.active) == ("Accusé de réception", False)
    assert AuditEvent.objects.filter(action="messaging.answer_template_saved").count() == 2
    client.force_login(advisor("sans", "answer"))
    assert client.get(reverse("backoffice:messaging:templates")).status_code == 403


def test_the_members_latest_payments_stand_beside_the_thread(client, member):
    from tests.payments.factories import StatementFactory

    mine = StatementFactory(member=member, label="Consultation du Dr Roux")
    StatementFactory(label="Pharmacie d'un autre assuré")
    thread = write(member)
    client.force_login(advisor())
    page = client.get(_thread_url(thread)).content.decode()
    assert "Derniers paiements" in page
    assert mine.label in page
    assert "Pharmacie d&#x27;un autre assuré" not in page


def test_queue_rows_tag_writes_the_included_template_markup():
    from django.template.loader import get_template

    from assure.messaging.selectors import QueueRow
    from assure.messaging.templatetags.messaging import queue_rows

    rows = [
        QueueRow(7, 'Remboursement <"urgent">', "Léa d'Arc & co", "Équipe <b>", None, ""),
        QueueRow(12, "Carte européenne", "Jean DUPONT", "Cartes", dt.date(2026, 12, 3), "Ana B"),
    ]
    template = get_template("messaging/staff/includes/queue_rows.html")
    for shown in (rows, rows[:1], []):
        assert str(queue_rows(shown)) == template.render({"threads": shown})
    whole = str(queue_rows(rows))
    assert "Léa d&#x27;Arc &amp; co" in whole
    assert "&lt;&quot;urgent&quot;&gt;" in whole
    assert "03/12/2026" in whole


def test_subjects_and_teams_read_through_statements_compiled_once(db):
    from assure.messaging import selectors
    from assure.messaging.models import Subject

    listed = selectors.subject_list()
    assert [s.pk for s in listed] == [s.pk for s in Subject.objects.filter(active=True)]
    assert all(s.team.name for s in listed)  # the team came with it
    assert selectors.subject_get(listed[0].code) == listed[0]
    Subject.objects.filter(pk=listed[0].pk).update(active=False)
    assert selectors.subject_get(listed[0].code) is None
    assert selectors.subject_get("nul\x00") is None
    assert [t.pk for t in selectors.team_list()] == [t.pk for t in Team.objects.all()]
    for read in (selectors._subjects, selectors._subject_by_code, selectors._teams):
        assert read._plans, read
        assert all(read._plans.values()), read
