"""Hostile text in every field: SQL, HTML, JavaScript, template syntax, control characters, NUL
bytes and very long strings.

The forms are not listed by hand: every page a member, an advisor or a visitor can open is fetched
and each form found in it is filled, every text field with the payload, every other field with a
value the page itself offers. The JSON API's bodies are built from the OpenAPI document. Rules:
no answer is a 5xx; nothing is ever rendered unescaped; a value is either stored as typed or
refused with a clear error.
"""

from __future__ import annotations

import datetime as dt
import itertools
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.test import Client

from assure.backoffice import roles
from assure.members.models import Member
from assure.messaging.models import AnswerTemplate, Message
from tests.backoffice.helpers import open_file, signed_in, staff_user
from tests.members.factories import MemberFactory
from tests.security.helpers import all_routes, api_token, openapi_operations, web_client
from tests.security.test_access_matrix import objects_of

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)

PAYLOADS = [
    "'; DROP TABLE members_member; --",
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    # Template syntax whose output, if a template ever evaluated it, is text the payload does not
    # hold: "tpl-evaluated" and "tag-evaluated" ("cut" removes the x's). Digits would not do: a
    # random CSRF token or a number on the page can hold any four digits.
    '{{ "tpl"|add:"-evaluated" }}{% filter cut:"x" %}txagx-evaluated{% endfilter %}${7*7}',
    "a\u202eb\u200bc\u0007d\u001be",  # right-to-left override, zero width, bell, escape
    "nul\x00byte",
    "é" * 5000 + "<b>long</b>",
]
# What must never reach a page as markup: any of these raw in an HTML body is an escaping failure.
RAW_MARKERS = ["<script>alert('xss')", "<img src=x onerror", "<b>long</b>"]
# What the template payload prints if it is evaluated.
EVALUATED = ["tpl-evaluated", "tag-evaluated"]

# Forms not submitted, each with its reason: they end the session the crawl runs in, or remove
# the advisor or member the rest of the crawl needs.
SKIPPED_ACTIONS = {
    "/deconnexion/": "logs the member out",
    "/franceconnect/deconnexion/": "logs the member out",
    "/backoffice/deconnexion/": "signs the advisor out",
}
SKIPPED_ACTION_PARTS = ("/cloturer/", "/desactiver/", "/fermer/", "/supprimer/")

TEXT_TYPES = {"text", "email", "tel", "password", "search", "url", "number", "date", ""}


class Forms(HTMLParser):
    """Every <form> of a page: action, method and fields with the values the page offers."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "text": [],
                "fixed": {},
                "choices": {},
                "multipart": "multipart" in a.get("enctype", ""),
            }
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "name" not in a:
            if tag == "option" and form is not None and self._select:
                form["choices"].setdefault(self._select, []).append(a.get("value", ""))
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "").lower()
            if kind in TEXT_TYPES:
                form["text"].append(name)
            elif kind == "hidden":
                form["fixed"][name] = a.get("value", "")
            elif kind in {"radio", "checkbox"}:
                form["choices"].setdefault(name, []).append(a.get("value", "on"))
            elif kind == "submit" and name not in form["fixed"]:
                form["fixed"][name] = a.get("value", "")
        elif tag == "textarea":
            form["text"].append(name)
        elif tag == "select":
            self._select = name
        elif tag == "button" and a.get("type", "submit") == "submit":
            form["fixed"].setdefault(name, a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def assert_escaped(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code)
    if "html" not in response.get("Content-Type", ""):
        return
    body = response.content.decode(errors="replace")
    for marker in RAW_MARKERS:
        assert marker not in body, (where, marker)
    for evaluated in EVALUATED:
        assert evaluated not in body, (where, evaluated)


_addresses = (f"10.{n // 65025 % 255}.{n // 255 % 255}.{n % 255}" for n in itertools.count(1))


def submit(client: Client, page: str, form: dict[str, Any], payload: str) -> list[str]:
    """Fills and sends one form; returns the field names that received the payload."""
    action = urljoin(page, form["action"] or page)
    if urlsplit(action).netloc not in {"", "testserver"}:
        return []
    path = urlsplit(action).path
    if path in SKIPPED_ACTIONS or any(part in path for part in SKIPPED_ACTION_PARTS):
        return []
    data: dict[str, Any] = dict(form["fixed"])
    for name, values in form["choices"].items():
        offered = [v for v in values if v]
        data[name] = offered[0] if offered else ""
    for name in form["text"]:
        data[name] = payload
    extra = {"REMOTE_ADDR": next(_addresses)}  # under every per-address budget
    if form["method"] == "post":
        response = client.post(action, data, **extra)
    else:
        response = client.get(action, data, **extra)
    assert_escaped(response, f"{form['method']} {action}")
    if response.status_code in {301, 302, 303} and response["Location"].startswith("/"):
        assert_escaped(client.get(response["Location"]), f"after {action}")
    return form["text"]


def crawl(client: Client, pages: list[str]) -> set[tuple[str, str]]:
    """Submits every form of every page with every payload; (action, field) pairs filled."""
    filled: set[tuple[str, str]] = set()
    for page in pages:
        response = client.get(page)
        assert_escaped(response, page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in forms_of(response.content.decode()):
            for payload in PAYLOADS:
                for name in submit(client, page, form, payload):
                    filled.add((form["action"] or page, name))
    return filled


def _pages(prefix_ok, own: dict[str, str]) -> list[str]:
    pages = []
    for route in all_routes():
        if route.is_api or route.name.startswith("fhir:") or not prefix_ok(route.name):
            continue
        if route.params:
            if route.name in own:
                pages.append(own[route.name])
            continue
        pages.append(route.path())
    return pages


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _is_public_or_member(name: str) -> bool:
    return not name.startswith(("backoffice:", "api-v1:", "notifications:"))


def test_every_member_and_public_form_takes_hostile_text(client):
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    ids = objects_of(member, "Injection", phone="0611223344")
    own = {
        "payments:detail": f"/mes-paiements/{ids['statement']}/",
        "messaging:thread": f"/ma-messagerie/{ids['thread']}/",
        "cards:detail": f"/carte-europeenne/{ids['ehic_order']}/",
        "documents:new": "/mes-attestations/nouvelle/entitlement/",
    }
    pages = _pages(_is_public_or_member, own)
    filled = crawl(web_client(member), pages) | crawl(Client(), pages)
    fields = {name for _action, name in filled}
    # The crawl reached the forms that store members' text, and the public ones.
    for expected in ("body", "line1", "city", "phone", "email", "nir", "secret_code"):
        assert expected in fields, (expected, sorted(fields))
    assert len(filled) >= 25, sorted(filled)

    # Stored as typed, or refused: a reply holds the payload exactly or was not saved.
    bodies = set(Message.objects.filter(thread_id=ids["thread"]).values_list("body", flat=True))
    stored = [p for p in PAYLOADS if p.strip() in bodies]
    assert "<script>alert('xss')</script>" in stored
    assert "'; DROP TABLE members_member; --" in stored
    assert not any("\x00" in b for b in bodies)
    assert Member.objects.filter(pk=member.pk).exists()

    # Every page again, now that the payloads are stored: still escaped everywhere.
    signed = web_client(member)
    for page in pages:
        assert_escaped(signed.get(page), f"again {page}")


def test_every_back_office_form_takes_hostile_text():
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    ids = objects_of(member, "Injection", phone="0611223344")
    template = AnswerTemplate.objects.create(title="Modèle", body="Bonjour")
    advisor = signed_in(staff_user("advisor-injection", role=roles.ADVISOR))
    admin = signed_in(staff_user("admin-injection", role=roles.ADMIN))
    open_file(advisor, member.pk)
    own = {
        "backoffice:member": f"/backoffice/membres/{member.pk}/",
        "backoffice:check": f"/backoffice/membres/{member.pk}/verification/",
        "backoffice:send_code": f"/backoffice/membres/{member.pk}/code/",
        "backoffice:unlock": f"/backoffice/membres/{member.pk}/debloquer/",
        "backoffice:messaging:thread": f"/backoffice/messagerie/{ids['thread']}/",
        "backoffice:messaging:template_edit": f"/backoffice/messagerie/modeles/{template.pk}/",
    }
    pages = _pages(lambda name: name.startswith("backoffice:"), own)
    filled = crawl(advisor, pages) | crawl(admin, pages)
    fields = {name for _action, name in filled}
    for expected in ("nir", "name", "member", "body", "reason", "first_name", "iban_end"):
        assert expected in fields, (expected, sorted(fields))
    titles = set(AnswerTemplate.objects.values_list("title", flat=True))
    assert not any("\x00" in t for t in titles)
    for page in pages:
        assert_escaped(advisor.get(page), f"again {page}")
        assert_escaped(admin.get(page), f"again {page}")


# --- The JSON API, bodies built from the OpenAPI document ----------------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0], components)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return _resolve(options[0], components) if options else {}
    return schema


def body_for(schema: dict[str, Any], components: dict[str, Any], payload: str) -> Any:
    schema = _resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: body_for(prop, components, payload)
            for name, prop in schema.get("properties", {}).items()
        }
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return "2026-12-24"
    if schema.get("format") == "binary":
        return None
    return payload


def test_every_api_body_takes_hostile_text(client):
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    ids = objects_of(member, "Injection", phone="0611223344")
    token = api_token(member)
    from assure.api.api import api

    components = api.get_openapi_schema()["components"]["schemas"]
    sent = 0
    for path, ops in openapi_operations().items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if method not in {"POST", "PATCH", "PUT"} or not content:
                continue
            if any("FeedTokenAuth" in s for s in op.get("security", [])):
                continue  # the fund's feeds: tokens of the fund's systems, tested in tests/api
            if path.endswith(("/logout", "/account/terminate")):
                continue  # end the token the sweep runs with
            url = path.replace("{thread_id}", str(ids["thread"]))
            for payload in PAYLOADS:
                auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": next(_addresses)}
                if "application/json" in content:
                    data = body_for(content["application/json"]["schema"], components, payload)
                    response = client.generic(
                        method, url, _json(data), content_type="application/json", **auth
                    )
                else:
                    (form_schema,) = [c["schema"] for c in content.values()]
                    data = body_for(form_schema, components, payload)
                    data = {k: v for k, v in data.items() if v is not None}
                    response = client.post(url, data, **auth)
                sent += 1
                where = f"{method} {url} {payload[:20]!r}"
                assert response.status_code < 500, (where, response.content[:300])
                if response.status_code >= 400:
                    problem = response.json()
                    assert problem["code"], where
                    assert problem["title"], where
    assert sent >= 10 * len(PAYLOADS)


def _printable(text: str) -> str:
    """messaging's documented rule (services.clean_body): control characters other than line
    ends and tabs are dropped, NUL included; everything else is kept as typed."""
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()


def test_api_text_round_trips_exactly_or_is_refused(client):
    member = MemberFactory()
    token = api_token(member)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    outcomes = {}
    for payload in PAYLOADS:
        created = client.post(
            "/api/v1/threads", {"subject": "remboursements", "body": payload}, **auth
        )
        outcomes[payload[:12]] = created.status_code
        if created.status_code == 201:
            thread = client.get(f"/api/v1/threads/{created.json()['id']}", **auth).json()
            assert thread["messages"][0]["body"] == _printable(payload), payload[:30]
        else:
            assert created.status_code == 400, (payload[:30], created.content[:300])
            problem = created.json()
            assert problem["code"]
            assert problem["title"]
    assert outcomes["<script>aler"] == 201
    assert outcomes["'; DROP TABL"] == 201
    assert outcomes["é" * 12] == 400  # longer than a message may be: refused, not cut


def _json(data: Any) -> str:
    import json

    return json.dumps(data)


# Query strings reach lookups without a form's validators; PostgreSQL refuses NUL in a query.
QUERY_PROBES = [
    "/ma-messagerie/nouveau/?sujet=a%00b&reference=a%00",
    "/ma-messagerie/?apres=a%00",
    "/mes-paiements/?apres=a%00&beneficiaire=a%00",
    "/mes-attestations/nouvelle/entitlement/?personne=a%00",
    "/verifier/a%00b/",
    "/connexion/?suite=a%00",
    "/api/v1/statements?cursor=a%00",
    "/api/v1/threads?cursor=a%00",
    "/api/v1/verify/a%00",
    "/fhir/r4/Patient/a%00",
    "/fhir/r4/Coverage?beneficiary=a%00",
    "/fhir/r4/ExplanationOfBenefit?patient=a%00",
]


def test_nul_bytes_in_query_strings_and_paths_are_a_miss_not_an_error():
    member = MemberFactory()
    client = web_client(member)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token(member)}"}
    for probe in QUERY_PROBES:
        response = client.get(probe, **auth)
        assert response.status_code < 500, probe
        assert_escaped(response, probe)
