"""Advisor work on a member: search, the reason prompt and its audit event, the identity check,
a code sent only to the contact on record, unlock, terminate and reactivate; the member's view
of who consulted the file; the supervisor's dashboard and audit search."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assure.backoffice import roles
from assure.backoffice.models import IdentityCheck
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.identity import throttling
from assure.identity.access_log import access_log_list_for_member
from assure.identity.models import Account, ProvisionalCode
from assure.identity.services import app_tokens_issue, provisional_code_issue
from assure.notifications.models import OutboxMessage
from tests.backoffice.helpers import open_file, signed_in, staff_user
from tests.identity.helpers import active_account
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import SickLeaveFactory, StatementFactory

pytestmark = pytest.mark.django_db
RESULT = re.compile(r'href="/backoffice/membres/\d+/"')


@pytest.fixture
def advisor():
    return staff_user()


@pytest.fixture
def advisor_client(advisor):
    return signed_in(advisor)


def _spaced(nir: str) -> str:
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def test_search_by_nir_with_or_without_spaces(advisor_client):
    member = MemberFactory()
    MemberFactory()
    for typed in (member.nir, _spaced(member.nir)):
        page = advisor_client.get("/backoffice/membres/", {"nir": typed}).content.decode()
        assert f"/backoffice/membres/{member.pk}/" in page
        assert len(RESULT.findall(page)) == 1
        # Only what is needed to choose: no NIR, no IBAN, no e-mail in the results.
        assert member.email not in page
        assert member.iban not in page


def test_search_by_name_and_birth_date(advisor_client):
    member = MemberFactory()
    MemberFactory(birth_name=member.birth_name, birth_date=member.birth_date + dt.timedelta(1))
    page = advisor_client.get(
        "/backoffice/membres/",
        {"name": member.family_name.lower(), "birth_date": member.birth_date.strftime("%d/%m/%Y")},
    ).content.decode()
    assert f"/backoffice/membres/{member.pk}/" in page
    assert len(RESULT.findall(page)) == 1


def test_a_name_without_a_birth_date_is_not_a_search(advisor_client):
    MemberFactory()
    page = advisor_client.get("/backoffice/membres/", {"name": "MARTIN"}).content.decode()
    assert "govuk-error-summary" in page


def test_opening_a_file_asks_for_a_reason_and_records_it(advisor_client, advisor):
    account = active_account()
    url = f"/backoffice/membres/{account.member_id}/"
    page = advisor_client.get(url).content.decode()
    assert "Pourquoi ouvrez-vous ce dossier" in page
    assert account.member.nir not in page
    assert not AuditEvent.objects.filter(action="backoffice.member_viewed").exists()

    missing = advisor_client.post(url, {"reason": "other"})
    assert missing.status_code == 200  # "other" needs a detail
    assert not AuditEvent.objects.filter(action="backoffice.member_viewed").exists()

    open_file(advisor_client, account.member_id, "desk")
    event = AuditEvent.objects.get(action="backoffice.member_viewed")
    assert event.member_id == account.member_id
    assert event.actor_id == str(advisor.pk)
    assert event.reason == "Accueil physique"
    file = advisor_client.get(url).content.decode()
    assert account.member.nir in file
    assert "Actif." in file


def test_another_file_needs_its_own_reason(advisor_client):
    first, second = active_account(), active_account()
    open_file(advisor_client, first.member_id)
    page = advisor_client.get(f"/backoffice/membres/{second.member_id}/").content.decode()
    assert "Pourquoi ouvrez-vous ce dossier" in page
    open_file(advisor_client, second.member_id)
    assert AuditEvent.objects.filter(action="backoffice.member_viewed").count() == 2
    # Back to the first: a new consultation, a new reason.
    page = advisor_client.get(f"/backoffice/membres/{first.member_id}/").content.decode()
    assert "Pourquoi ouvrez-vous ce dossier" in page


def test_the_member_sees_who_consulted_the_file(advisor_client, client):
    account = active_account()
    open_file(advisor_client, account.member_id, "phone")
    tokens = app_tokens_issue(account=account, device_label="test")
    response = client.get(
        "/api/v1/me/access-log", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["staff"], i["reason"]) for i in items] == [("Claire Conseil", "Appel téléphonique")]
    assert set(items[0]) == {"at", "staff", "reason"}


def test_the_access_log_belongs_to_its_member(advisor_client, client):
    mine, other = active_account(), active_account()
    open_file(advisor_client, other.member_id)
    assert access_log_list_for_member(member=mine.member) == []
    assert len(access_log_list_for_member(member=other.member)) == 1


def _check(client, member, **answers):
    return client.post(f"/backoffice/membres/{member.pk}/verification/", answers)


def _right_answers(member):
    answers = {
        "birth_date": member.birth_date.strftime("%d/%m/%Y"),
        "postal_code": member.postal_code,
        "iban_end": member.iban[-4:],
    }
    first = member.beneficiaries.filter(active=True).first()
    if first is not None:
        answers["beneficiaries"] = first.given_names
    return answers


def test_a_failed_check_allows_no_code(advisor_client):
    account = active_account()
    member = account.member
    open_file(advisor_client, member.pk)
    answers = _right_answers(member) | {"postal_code": "13001"}
    _check(advisor_client, member, **answers)
    assert AuditEvent.objects.filter(action="backoffice.identity_check_failed").exists()
    response = advisor_client.post(f"/backoffice/membres/{member.pk}/code/", {"channel": "post"})
    assert "identité de votre interlocuteur" in response.content.decode()
    assert not ProvisionalCode.objects.exists()


def test_questions_include_beneficiaries_first_names(advisor_client):
    account = active_account()
    member = account.member
    BeneficiaryFactory(member=member, given_names="Léa Marie")
    open_file(advisor_client, member.pk)
    page = advisor_client.get(f"/backoffice/membres/{member.pk}/verification/").content.decode()
    assert "ayant droit" in page
    _check(advisor_client, member, **(_right_answers(member) | {"beneficiaries": "Paul"}))
    assert not IdentityCheck.objects.get().passed
    _check(advisor_client, member, **(_right_answers(member) | {"beneficiaries": "lea"}))
    assert IdentityCheck.objects.filter(passed=True).exists()


def test_after_a_passed_check_a_code_goes_by_post_to_the_address_on_record(advisor_client):
    account = active_account()
    member = account.member
    open_file(advisor_client, member.pk)
    _check(advisor_client, member, **_right_answers(member))
    assert AuditEvent.objects.filter(action="backoffice.identity_check_passed").exists()
    response = advisor_client.post(
        f"/backoffice/membres/{member.pk}/code/",
        # A dictated address is not a field: it is ignored.
        {"channel": "post", "email": "pirate@example.net", "address_line1": "1 rue du Vol"},
    )
    assert response.status_code == 302
    code = ProvisionalCode.objects.get()
    assert code.channel == "post"
    letter = OutboxMessage.objects.get(template="identity_provisional_code")
    assert letter.channel == OutboxMessage.Channel.LETTER
    assert member.address_line1 in str(letter.recipient)
    assert "rue du Vol" not in str(letter.recipient)
    event = AuditEvent.objects.get(action="identity.provisional_code_issued")
    assert event.actor_kind == "staff"
    # The check is spent: a second code needs a second check.
    again = advisor_client.post(f"/backoffice/membres/{member.pk}/code/", {"channel": "post"})
    assert "identité de votre interlocuteur" in again.content.decode()
    assert ProvisionalCode.objects.count() == 1


def test_a_code_by_email_goes_to_the_registers_address_only(advisor_client):
    account = active_account()
    member = account.member
    open_file(advisor_client, member.pk)
    _check(advisor_client, member, **_right_answers(member))
    advisor_client.post(
        f"/backoffice/membres/{member.pk}/code/", {"channel": "email", "email": "x@evil.test"}
    )
    message = OutboxMessage.objects.get(template="identity_provisional_code")
    assert message.channel == OutboxMessage.Channel.EMAIL
    assert member.email in str(message.recipient)
    assert "evil" not in str(message.recipient)


def test_a_check_by_another_advisor_does_not_count(advisor_client):
    account = active_account()
    member = account.member
    other = signed_in(staff_user("marc"))
    open_file(other, member.pk)
    _check(other, member, **_right_answers(member))
    open_file(advisor_client, member.pk)
    response = advisor_client.post(f"/backoffice/membres/{member.pk}/code/", {"channel": "post"})
    assert "identité de votre interlocuteur" in response.content.decode()


def test_a_member_without_an_account_gets_one_with_the_code(advisor_client):
    member = MemberFactory()
    open_file(advisor_client, member.pk)
    page = advisor_client.get(f"/backoffice/membres/{member.pk}/").content.decode()
    assert "Aucun compte créé." in page
    _check(advisor_client, member, **_right_answers(member))
    advisor_client.post(f"/backoffice/membres/{member.pk}/code/", {"channel": "post"})
    assert Account.objects.filter(member=member).exists()
    assert ProvisionalCode.objects.count() == 1


def test_unlock_with_a_reason(advisor_client):
    account = active_account()
    for _ in range(5):
        throttling.login_failure(account.member.nir)
    open_file(advisor_client, account.member_id)
    page = advisor_client.get(f"/backoffice/membres/{account.member_id}/").content.decode()
    assert "Bloqué jusqu'au" in page
    response = advisor_client.post(
        f"/backoffice/membres/{account.member_id}/debloquer/", {"reason": "Appel du membre"}
    )
    assert response.status_code == 302
    assert throttling.login_lock(account.member.nir) is None
    event = AuditEvent.objects.get(action="identity.account_unlocked")
    assert event.reason == "Appel du membre"
    notice = OutboxMessage.objects.get(template="backoffice_account_unlocked")
    assert notice.member_id == account.member_id
    assert notice.channel == OutboxMessage.Channel.EMAIL
    assert "débloqué" in notice.subject


def test_terminate_then_reactivate(advisor_client):
    account = active_account()
    member = account.member
    open_file(advisor_client, member.pk)
    missing = advisor_client.post(f"/backoffice/membres/{member.pk}/cloturer/", {})
    assert missing.status_code == 200  # a reason is required
    advisor_client.post(f"/backoffice/membres/{member.pk}/cloturer/", {"reason": "Demande"})
    account.refresh_from_db()
    assert account.status == Account.Status.TERMINATED
    assert OutboxMessage.objects.filter(template="identity_terminated").exists()
    assert AuditEvent.objects.get(action="identity.account_terminated").reason == "Demande"
    page = advisor_client.get(f"/backoffice/membres/{member.pk}/").content.decode()
    assert "Réactiver le compte" in page
    _check(advisor_client, member, **_right_answers(member))
    advisor_client.post(f"/backoffice/membres/{member.pk}/code/", {"channel": "post"})
    # The code is what reactivates the account, at the member's next login (identity's rule).
    assert ProvisionalCode.objects.filter(account=account, channel="post").count() == 1


def test_actions_need_an_open_consultation(advisor_client):
    account = active_account()
    response = advisor_client.post(
        f"/backoffice/membres/{account.member_id}/debloquer/", {"reason": "x"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/membres/{account.member_id}/"
    assert not AuditEvent.objects.filter(action="identity.account_unlocked").exists()


def test_dashboard_counts(advisor):
    supervisor = signed_in(staff_user("sophie", role=roles.SUPERVISOR))
    account = active_account()
    for _ in range(5):
        throttling.login_failure(account.member.nir)
    provisional_code_issue(account=account, channel="post", actor=Actor.system())
    page = supervisor.get("/backoffice/tableau-de-bord/").content.decode()
    assert 'id="codes-post">1<' in page
    assert 'id="codes-email">0<' in page


def test_audit_search_by_member_staff_and_action(advisor_client, advisor):
    first, second = active_account(), active_account()
    open_file(advisor_client, first.member_id)
    open_file(advisor_client, second.member_id)
    supervisor = signed_in(staff_user("sophie", role=roles.SUPERVISOR))
    page = supervisor.get(
        "/backoffice/journal/",
        {"member": str(first.member_id), "staff": advisor.username, "action": "backoffice."},
    ).content.decode()
    assert page.count("backoffice.member_viewed") == 1
    by_nir = supervisor.get("/backoffice/journal/", {"member": second.member.nir}).content.decode()
    assert by_nir.count("backoffice.member_viewed") == 1


def test_the_file_costs_the_same_queries_however_long_the_history(advisor_client):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert advisor_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    account = active_account()
    member = account.member
    url = f"/backoffice/membres/{member.pk}/"
    open_file(advisor_client, member.pk)
    StatementFactory(member=member, status="paid")
    SickLeaveFactory(member=member)
    few = count()
    for _ in range(6):
        StatementFactory(member=member, status="paid")
        StatementFactory(member=member, status="processing")
        SickLeaveFactory(member=member)
        BeneficiaryFactory(member=member)
    assert count() == few


def test_an_unlock_notice_goes_by_post_without_an_email_on_record(advisor_client):
    account = active_account(MemberFactory(email=None))
    for _ in range(5):
        throttling.login_failure(account.member.nir)
    open_file(advisor_client, account.member_id)
    advisor_client.post(
        f"/backoffice/membres/{account.member_id}/debloquer/", {"reason": "Accueil"}
    )
    notice = OutboxMessage.objects.get(template="backoffice_account_unlocked")
    assert notice.channel == OutboxMessage.Channel.LETTER
    assert "débloqué" in notice.body


def test_every_part_of_the_file_shows_what_the_member_has(advisor_client):
    from assure.backoffice import selectors
    from assure.cards import selectors as cards
    from assure.documents import selectors as documents
    from assure.messaging import selectors as messaging
    from tests.security.test_access_matrix import objects_of

    account = active_account()
    member = account.member
    objects_of(member, "Zéphyrine", "0612345678")
    BeneficiaryFactory(member=member, given_names="Ancien", active=False)
    open_file(advisor_client, member.pk)
    page = advisor_client.get(f"/backoffice/membres/{member.pk}/").content.decode()
    assert "Enfant Zéphyrine" in page  # beneficiaries: the active ones only
    assert "Ancien" not in page
    assert "Aucune conversation." not in page
    assert "Aucune attestation." not in page
    assert "Aucune commande." not in page
    assert "members.phone_changed" in page  # the member's own changes are in the history
    assert "Actif." in page
    # Each part was read through its statement compiled once, not through the ORM's fallback.
    for read in (
        selectors._member,
        selectors._account,
        selectors._history,
        selectors._beneficiaries,
        messaging._latest,
        documents._newest(10),
        cards._orders(10),
    ):
        assert all(read._plans.values()), read
        assert read._plans
