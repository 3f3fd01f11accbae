"""Ma messagerie in a real browser: a member writes with an attachment, an advisor answers, the
member reads the answer; on a desktop and on a 375 px phone, axe-core on every page."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User

from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.members.factories import MemberFactory
from tests.messaging import files
from tests.messaging.helpers import browser_session_cookie, ensure_default_subjects

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _member_page(page: Any, live_server: Any, member: Any) -> None:
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": browser_session_cookie(member),
                "url": live_server.url,
            }
        ]
    )


def _advisor_page(browser: Any, live_server: Any, client: Any) -> Any:
    user = User.objects.create_user(username="conseil", password="x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="answer_thread", content_type__app_label="messaging")
    )
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="fr-FR")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_write_answer_read(viewport, request, live_server, browser, client, tmp_path):
    page = request.getfixturevalue(viewport)
    ensure_default_subjects()
    member = MemberFactory(given_names="Zoé", birth_name="N'DIAYE")
    _member_page(page, live_server, member)
    scan = tmp_path / "feuille de soins.pdf"
    scan.write_bytes(files.pdf())

    page.goto("/ma-messagerie/")
    assert page.locator("h1").inner_text() == "Ma messagerie"
    assert_accessible(page)
    page.get_by_role("button", name="Écrire un nouveau message").click()
    assert_accessible(page)

    # An empty form: the error summary, then the message written with an attachment.
    page.get_by_role("button", name="Envoyer mon message").click()
    assert page.locator(".govuk-error-summary").is_visible()
    assert_accessible(page)
    page.get_by_label("Mes remboursements").check()
    page.get_by_label("Votre message").fill("Bonjour,\n<b>ma feuille</b> de soins est jointe.")
    page.get_by_label("Pièces jointes").set_input_files(str(scan))
    page.get_by_role("button", name="Envoyer mon message").click()
    assert page.get_by_text("Votre message a été envoyé.").is_visible()
    assert page.get_by_text("<b>ma feuille</b> de soins est jointe.").is_visible()
    assert page.get_by_role("link", name="feuille de soins.pdf").is_visible()
    assert page.get_by_text("Réponse attendue au plus tard le").is_visible()
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    assert_accessible(page)
    thread_url = page.url

    # The advisor answers from the unassigned queue.
    advisor = _advisor_page(browser, live_server, client).new_page()
    advisor.goto("/backoffice/messagerie/")
    assert_accessible(advisor)
    advisor.get_by_role("link", name="Mes remboursements").click()
    assert advisor.get_by_text("<b>ma feuille</b> de soins est jointe.").is_visible()
    assert_accessible(advisor)
    advisor.get_by_role("button", name="Prendre la conversation").click()
    advisor.get_by_label("Réponse au membre").fill("Bien reçu, le remboursement suit.")
    advisor.get_by_role("button", name="Envoyer la réponse").click()
    assert advisor.get_by_text("Votre réponse a été envoyée au membre.").is_visible()
    advisor.context.close()

    # The member sees the answer marked as new, then reads it.
    page.goto("/ma-messagerie/")
    assert page.get_by_text("Nouvelle réponse").is_visible()
    assert_accessible(page)
    page.goto(thread_url)
    assert page.get_by_text("Bien reçu, le remboursement suit.").is_visible()
    assert page.get_by_role("heading", name="Votre conseiller", exact=False).is_visible()
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    assert_accessible(page)
    page.goto("/ma-messagerie/")
    assert page.get_by_text("Nouvelle réponse").count() == 0
