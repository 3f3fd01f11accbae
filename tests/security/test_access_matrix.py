"""The cross-account matrix: member A tries every route that takes an object with B's objects.

The routes are not listed by hand: they are walked from the URL resolver and the OpenAPI
document. What is listed by hand is how to obtain B's object for each parameter (`OBJECT_ROUTES`)
or why a parameterised route holds no member's object (`NOT_MEMBER_OWNED`); a new route with a
parameter in neither table fails `test_every_parameterised_route_is_in_the_matrix`, so the matrix
cannot silently skip it.

For each route and method, B's object must get exactly the answer of an object that does not
exist: same status, same body (apart from the address asked for and the CSRF mask), same headers.
A's own objects go through the same routes first, so that a route answering "not found" to
everyone (a matrix that proves nothing) is caught too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.test import Client

from assure.cards.services import card_order_create
from assure.core.services import Actor
from assure.documents.models import Certificate
from assure.documents.services import CertificateRequest, certificate_issue
from assure.fhir.selectors import BENEFICIARY_PREFIX
from assure.franceconnect.models import FranceConnectLink
from assure.identity.models import Account, MemberSession
from assure.members.changes import member_phone_change
from assure.members.models import Member, ProfileChange
from assure.messaging.models import AnswerTemplate, Attachment, Thread
from assure.notifications.models import OutboxMessage
from assure.payments.models import Statement
from tests.backoffice.helpers import staff_user
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.messaging import files
from tests.messaging.helpers import write
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory, StatementFactory
from tests.security.helpers import (
    API_PREFIX,
    Route,
    all_routes,
    api_token,
    headers,
    openapi_operations,
    shape,
    web_client,
)

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
MISSING = 987_654_321  # an id no object has


@dataclass(frozen=True)
class Target:
    """How to fill a route's parameters with B's objects, and what a member may expect."""

    kinds: dict[str, str]  # parameter -> kind of object (a key of `objects_of`)
    own: str | None = None  # the method with which A reaches A's own object, None if A cannot
    data: dict[str, Any] = field(default_factory=dict)  # a valid body, so refusal is not a 400
    staff: bool = False  # a back-office route: a member gets the staff sign-in, for any id


OBJECT_ROUTES: dict[str, Target] = {
    # statements
    "payments:detail": Target({"statement_id": "statement"}, own="GET"),
    "api-v1:statements_get": Target({"statement_id": "statement"}, own="GET"),
    # threads, messages and attachments
    "messaging:thread": Target({"thread_id": "thread"}, own="GET", data={"body": "Bonjour"}),
    "messaging:close": Target({"thread_id": "thread"}),  # A closing their own: last, below
    "messaging:attachment": Target({"attachment_id": "attachment"}, own="GET"),
    "api-v1:threads_get": Target({"thread_id": "thread"}, own="GET"),
    "api-v1:threads_reply": Target({"thread_id": "thread"}, own="POST", data={"body": "Bonjour"}),
    "api-v1:attachments_get": Target({"attachment_id": "attachment"}, own="GET"),
    # certificates and their PDFs
    "documents:download": Target({"certificate_id": "certificate"}, own="GET"),
    "api-v1:certificates_pdf": Target({"certificate_id": "certificate"}, own="GET"),
    # European Health Insurance Card orders
    "cards:detail": Target({"order_id": "ehic_order"}, own="GET"),
    # sessions (web and app) and FranceConnect links
    "identity:session_end": Target({"session_id": "session"}, own="POST"),
    "api-v1:session_delete": Target({"session_id": "app_session"}, own="DELETE"),
    "franceconnect:link_remove": Target({"link_id": "franceconnect_link"}, own="POST"),
    # FHIR R4 resources (read with the API's token): Patient, Coverage, ExplanationOfBenefit
    "fhir:patient": Target({"patient_id": "member"}, own="GET"),
    "fhir:coverage": Target({"coverage_id": "coverage"}, own="GET"),
    "fhir:eob": Target({"eob_id": "statement"}, own="GET"),
    # the development outbox: B's e-mails and letters (answers 404 to all outside the demo)
    "notifications:outbox_email": Target({"message_id": "outbox_email"}),
    "notifications:outbox_letter_pdf": Target({"message_id": "outbox_letter"}),
    # back office: a member's session gives no staff access, whatever the id
    "backoffice:messaging:thread": Target({"thread_id": "thread"}, staff=True),
    "backoffice:messaging:attachment": Target({"attachment_id": "attachment"}, staff=True),
    "backoffice:messaging:template_edit": Target({"template_id": "answer_template"}, staff=True),
    "backoffice:member": Target({"member_id": "member"}, staff=True),
    "backoffice:check": Target({"member_id": "member"}, staff=True),
    "backoffice:send_code": Target({"member_id": "member"}, staff=True),
    "backoffice:unlock": Target({"member_id": "member"}, staff=True),
    "backoffice:terminate": Target({"member_id": "member"}, staff=True),
    "backoffice:staff_deactivate": Target({"user_id": "staff_user"}, staff=True),
    "backoffice:staff_new_link": Target({"user_id": "staff_user"}, staff=True),
}

NOT_MEMBER_OWNED: dict[str, str] = {
    "documents:new": "`kind` is a kind of certificate (a fixed list), not an object",
    "documents:verify": "public check of a certificate by its printed reference, throttled per "
    "address (tests/documents/test_verification.py); it shows only what the paper shows",
    "api-v1:verify_get": "the API twin of documents:verify",
    "profile:email_confirm": "a capability: the 256-bit token e-mailed to the new address; no "
    "session is used or given (tests/profile/test_changes.py)",
    "fhir:unknown": "any other path under /fhir/r4/: an OperationOutcome 404 that holds nothing",
    "backoffice:enrol": "a capability: the staff enrolment link, 256-bit token, expires "
    "(tests/backoffice/test_signin.py)",
}

# How an object's id is written in a URL, when not as its bare primary key.
ID_FORMAT = {"coverage": "amo-{}", "beneficiary_patient": BENEFICIARY_PREFIX + "{}"}


def _value(kind: str, pk: int) -> str:
    return ID_FORMAT.get(kind, "{}").format(pk)


# Kinds without a route of their own: their leak is looked for on every list page instead.
LISTED_ONLY = {"allowance", "profile_change", "access_log"}


def _actor(member: Member) -> Actor:
    return Actor(kind="member", id=str(member.pk), display="test")


def objects_of(member: Member, marker: str, phone: str) -> dict[str, int]:
    """One object of every kind for `member`, each carrying `marker` where it shows text."""
    actor = _actor(member)
    account = Account.objects.filter(member=member).first() or Account.objects.create(
        member=member, secret_code_hash="x", must_change_code=False
    )
    statement = StatementFactory(member=member, provider=f"Dr {marker}", label=f"Soin {marker}")
    leave = SickLeaveFactory(member=member)
    AllowancePaymentFactory(sick_leave=leave, external_id=f"A-{marker}")
    thread = write(member, body=f"Message {marker}", files=[(f"{marker}.pdf", files.pdf())])
    attachment = thread.messages.get().attachments.get()
    certificate = certificate_issue(
        actor=actor, member=member, request=CertificateRequest(kind="entitlement")
    )
    order = card_order_create(actor=actor, member=member, person="self")
    change = member_phone_change(member=member, phone=phone, actor=actor)
    child = BeneficiaryFactory(member=member, given_names=f"Enfant {marker}")
    session = MemberSession.objects.create(
        account=account, kind=MemberSession.Kind.WEB, device_label=f"Navigateur {marker}"
    )
    app_session = MemberSession.objects.create(
        account=account, kind=MemberSession.Kind.APP, device_label=f"Appli {marker}"
    )
    link = FranceConnectLink.objects.create(
        account=account, issuer="https://fc.example", sub=f"sub-{marker}", given_name=marker
    )
    email = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL,
        idempotency_key=f"security:{marker}:email",
        template="security_test",
        member_id=member.pk,
        subject=f"Sujet {marker}",
        body=f"Corps {marker}",
    )
    letter = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.LETTER,
        idempotency_key=f"security:{marker}:letter",
        template="security_test",
        member_id=member.pk,
        subject=f"Sujet {marker}",
        body=f"Corps {marker}",
    )
    return {
        "statement": statement.pk,
        "thread": thread.pk,
        "attachment": attachment.pk,
        "certificate": certificate.pk,
        "ehic_order": order.pk,
        "profile_change": change.pk,
        "session": session.pk,
        "app_session": app_session.pk,
        "franceconnect_link": link.pk,
        "outbox_email": email.pk,
        "outbox_letter": letter.pk,
        "member": member.pk,
        "coverage": member.pk,
        "beneficiary_patient": child.pk,
    }


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """A and B, each with one object of every kind, plus the staff's own objects."""
    alice = MemberFactory(given_names="Alice", birth_name="ALPHAQX", email="alice@example.org")
    bruno = MemberFactory(
        given_names="Bruno",
        birth_name="BRAVOQX",
        email="bravoqx@example.org",
        iban="FR7610107001011234567890129",
        phone="0699887766",
    )
    ids_a = objects_of(alice, "Alphaqx", phone="0611223344")
    ids_b = objects_of(bruno, "Bravoqx", phone="0622334455")
    staff = staff_user("bravoqx-staff")
    template = AnswerTemplate.objects.create(title="Modèle", body="Bonjour")
    ids_b |= {"staff_user": staff.pk, "answer_template": template.pk}
    ids_a |= {"staff_user": staff.pk, "answer_template": template.pk}
    return alice, bruno, ids_a, ids_b


def _call(client: Client, method: str, path: str, data: dict[str, Any], token: str | None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(path, **extra)
    if method == "POST":
        return client.post(path, data, **extra)  # multipart, as forms and the API's uploads
    return client.generic(method, path, **extra)


def _methods(route: Route, operations: dict[str, dict[str, Any]]) -> list[str]:
    if route.is_api:
        return sorted(operations[route.openapi_path])
    return ["GET", "POST"]


def _parameterised() -> list[Route]:
    return [r for r in all_routes() if r.params]


def test_every_parameterised_route_is_in_the_matrix():
    """A new route with an object parameter must be added to one table or the other."""
    unknown = [
        (r.name, r.pattern)
        for r in _parameterised()
        if r.name not in OBJECT_ROUTES and r.name not in NOT_MEMBER_OWNED
    ]
    assert not unknown, f"routes with parameters the matrix cannot fill: {unknown}"
    names = {r.name for r in all_routes()}
    stale = sorted((set(OBJECT_ROUTES) | set(NOT_MEMBER_OWNED)) - names)
    assert not stale, f"the matrix names routes that no longer exist: {stale}"
    for route in _parameterised():
        target = OBJECT_ROUTES.get(route.name)
        if target is not None:
            assert set(target.kinds) == set(route.params), route.name


def test_the_openapi_document_and_the_resolver_list_the_same_api_routes():
    operations = openapi_operations()
    api_paths = {r.openapi_path for r in all_routes() if r.is_api}
    documented = {p for p in operations if p.startswith(API_PREFIX)}
    assert documented <= api_paths
    for path, ops in operations.items():
        if "{" in path:
            assert path in api_paths, path
            assert ops, path


def test_member_a_gets_not_found_for_every_object_of_b(world):
    alice, bruno, _, ids_b = world
    operations = openapi_operations()
    web = web_client(alice)
    token = api_token(alice)
    staff_routes_seen = member_routes_seen = 0
    routes = {r.name: r for r in _parameterised()}
    for name, target in OBJECT_ROUTES.items():
        route = routes[name]
        bearer = token if route.bearer else None
        not_found_seen = False
        for method in _methods(route, operations):
            theirs_path = route.path(**{p: _value(k, ids_b[k]) for p, k in target.kinds.items()})
            missing_path = route.path(**{p: _value(k, MISSING) for p, k in target.kinds.items()})
            theirs = _call(web, method, theirs_path, target.data, bearer)
            missing = _call(web, method, missing_path, target.data, bearer)
            where = f"{method} {theirs_path} ({name})"
            assert theirs.status_code == missing.status_code, where
            if target.staff:
                assert theirs.status_code in {302, 403, 404, 405}, where
                if theirs.status_code == 302:
                    assert theirs["Location"].startswith("/backoffice/connexion/"), where
            else:
                assert theirs.status_code in {404, 405}, where
                not_found_seen |= theirs.status_code == 404
            assert shape(theirs, theirs_path) == shape(missing, missing_path), where
            assert headers(theirs, theirs_path) == headers(missing, missing_path), where
        if target.staff:
            staff_routes_seen += 1
        else:
            member_routes_seen += 1
            assert not_found_seen or name.startswith("notifications:"), name
    assert staff_routes_seen >= 10
    assert member_routes_seen >= 15

    # Nothing of B's moved.
    assert Statement.objects.filter(pk=ids_b["statement"], member=bruno).exists()
    thread = Thread.objects.get(pk=ids_b["thread"])
    assert thread.member_id == bruno.pk
    assert thread.messages.count() == 1
    assert thread.closed_at is None
    assert Attachment.objects.filter(pk=ids_b["attachment"]).exists()
    assert Certificate.objects.filter(pk=ids_b["certificate"], member=bruno).exists()
    assert MemberSession.objects.get(pk=ids_b["session"]).ended_at is None
    assert MemberSession.objects.get(pk=ids_b["app_session"]).ended_at is None
    assert FranceConnectLink.objects.filter(pk=ids_b["franceconnect_link"]).exists()
    assert ProfileChange.objects.filter(member=bruno).count() == 1
    assert Account.objects.get(member=bruno).is_active


def test_member_a_reaches_their_own_objects_through_the_same_routes(world):
    """The matrix's control: the same routes do serve objects to their owner."""
    alice, _, ids_a, _ = world
    web = web_client(alice)
    token = api_token(alice)
    routes = {r.name: r for r in _parameterised()}
    for name, target in OBJECT_ROUTES.items():
        if target.own is None:
            continue
        route = routes[name]
        path = route.path(**{p: _value(k, ids_a[k]) for p, k in target.kinds.items()})
        response = _call(web, target.own, path, target.data, token if route.bearer else None)
        assert 200 <= response.status_code < 400, f"{target.own} {path} ({name})"
    closed = _call(web, "POST", f"/ma-messagerie/{ids_a['thread']}/cloturer/", {}, None)
    assert closed.status_code == 302
    assert Thread.objects.get(pk=ids_a["thread"]).closed_at is not None
    assert MemberSession.objects.get(pk=ids_a["session"]).ended_at is not None
    assert MemberSession.objects.get(pk=ids_a["app_session"]).ended_at is not None
    assert not FranceConnectLink.objects.filter(pk=ids_a["franceconnect_link"]).exists()


# --- Lists, exports and pages without parameters: nothing of B's shows -------------------------

# GET routes not swept, each with its reason.
NOT_SWEPT = {
    "identity:logout": "ends the session the sweep runs in",
    "franceconnect:logout": "ends the session the sweep runs in",
    "franceconnect:login": "redirects to the identity provider",
    "set_language": "a redirect that sets a cookie, shows no data",
}

# Where A's own data must show: proves the sweep looks at pages that do list members' data.
SHOWN_ON = {
    "Soin Alphaqx": ["payments:list", "api-v1:statements_list"],
    "Message Alphaqx": ["api-v1:threads_get"],
    "Navigateur Alphaqx": ["identity:security", "api-v1:session_list"],
    "Alphaqx": ["franceconnect:links"],
}

B_MARKERS = ["bravoqx", "0699887766", "1234567890129", "0622334455"]


def test_no_page_or_list_shows_anything_of_b(world):
    alice, bruno, ids_a, _ = world
    # B's login and session activity, so that the access log has B's events to leak.
    token_b = api_token(bruno)
    Client().get(f"{API_PREFIX}/me", HTTP_AUTHORIZATION=f"Bearer {token_b}")
    web = web_client(alice)
    token = api_token(alice)
    operations = openapi_operations()
    seen: dict[str, bytes] = {}
    for route in all_routes():
        if route.params or route.name in NOT_SWEPT or route.name.startswith("backoffice:"):
            continue
        if route.is_api and "GET" not in operations.get(route.openapi_path, {}):
            continue
        path = route.path()
        response = web.get(path, HTTP_AUTHORIZATION=f"Bearer {token}" if route.bearer else "")
        assert response.status_code < 500, path
        body = shape(response).lower()
        for marker in B_MARKERS:
            assert marker.encode() not in body, (route.name, marker)
        assert bruno.nir.encode() not in body, route.name
        seen[route.name] = body
    thread_path = f"{API_PREFIX}/threads/{ids_a['thread']}"
    seen["api-v1:threads_get"] = web.get(
        thread_path, HTTP_AUTHORIZATION=f"Bearer {token}"
    ).content.lower()
    for marker, names in SHOWN_ON.items():
        for name in names:
            assert marker.lower().encode() in seen[name], (name, marker)
    assert len(seen) >= 40


# Object ids that travel in the query string or as a beneficiary's Patient id: the same rule.
QUERY_PROBES = [
    ("/fhir/r4/Patient/{}", "beneficiary_patient"),
    ("/fhir/r4/Coverage/amo-{}", "beneficiary_patient"),
    ("/fhir/r4/Coverage?beneficiary=Patient/{}", "member"),
    ("/fhir/r4/Coverage?beneficiary=Patient/{}", "beneficiary_patient"),
    ("/fhir/r4/ExplanationOfBenefit?patient=Patient/{}", "member"),
    ("/fhir/r4/ExplanationOfBenefit?patient={}", "beneficiary_patient"),
]


def test_fhir_beneficiaries_and_searches_of_b_answer_not_found(world):
    alice, _, ids_a, ids_b = world
    web = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token(alice)}"}
    for template, kind in QUERY_PROBES:
        theirs_path = template.format(_value(kind, ids_b[kind]))
        missing_path = template.format(_value(kind, MISSING))
        theirs, missing = web.get(theirs_path, **auth), web.get(missing_path, **auth)
        assert theirs.status_code == missing.status_code == 404, theirs_path
        assert shape(theirs, theirs_path) == shape(missing, missing_path), theirs_path
        assert headers(theirs, theirs_path) == headers(missing, missing_path), theirs_path
        own = web.get(template.format(_value(kind, ids_a[kind])), **auth)
        assert own.status_code == 200, template
