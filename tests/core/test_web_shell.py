"""The web shell: language, navigation, the fund's theme, public pages and error pages."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import INFO, SUCCESS, WARNING
from django.contrib.messages.storage.base import Message
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import include, path
from django.utils import translation
from django.utils.translation.template import templatize

from assure.core import theme
from assure.core.navigation import NavItem, for_everyone, for_members, navigation_for
from assure.core.views import service_unavailable
from tests.e2e.conftest import SHELL_CATALOGUE, compile_shell_catalogue

ASSURE = Path(settings.BASE_DIR)
STYLESHEET = ASSURE / "static/assure/css/assure.css"


def _boom(request):
    raise RuntimeError("a bug")


# This module doubles as a URLconf with a view that fails, for the 500 page.
urlpatterns = [path("boom/", _boom), path("", include("assure.urls"))]
handler404 = "assure.core.views.not_found"
handler500 = "assure.core.views.server_error"


@pytest.fixture(autouse=True, scope="module")
def _catalogue():
    compile_shell_catalogue()


@pytest.fixture(autouse=True)
def _language_restored():
    """LocaleMiddleware leaves the request's language active in this thread: an English request
    must not make the next test English."""
    yield
    translation.deactivate()


@pytest.fixture
def english_client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no lang attribute on <html>"
    return match.group(1)


# --- Language ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_french_by_default(client):
    response = client.get("/")
    assert _html_lang(response) == "fr"
    assert "Aller au contenu" in response.content.decode()
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_french_browser_gets_french(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert _html_lang(response) == "fr"


@pytest.mark.django_db
def test_english_is_chosen_by_cookie(english_client):
    response = english_client.get("/")
    assert _html_lang(response) == "en"
    body = response.content.decode()
    assert "Skip to main content" in body
    assert "Your member account" in body
    assert "Accessibility: not compliant" in body


@pytest.mark.django_db
def test_language_switcher_is_a_post_form_with_csrf_to_the_other_language(client):
    body = client.get("/mentions-legales/?x=1").content.decode()
    form = re.search(r'<form class="assure-language-switcher"(.*?)</form>', body, re.S)
    assert form
    assert 'action="/i18n/setlang/" method="post"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert '<input type="hidden" name="next" value="/mentions-legales/?x=1">' in form.group(0)
    assert 'name="language" value="en" lang="en">English</button>' in form.group(0)
    assert 'value="fr"' not in form.group(0)


@pytest.mark.django_db
def test_switching_language_through_the_form_and_back():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accessibilite/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/accessibilite/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accessibilite/"
    english = client.get("/accessibilite/").content.decode()
    assert '<html lang="en"' in english
    assert '<h1 class="govuk-heading-xl">Accessibility statement</h1>' in english
    assert 'value="fr" lang="fr">Français</button>' in english

    client.post("/i18n/setlang/", {"language": "fr", "next": "/", "csrfmiddlewaretoken": token})
    assert '<html lang="fr"' in client.get("/").content.decode()


def test_every_text_of_the_shell_has_an_english_translation():
    with SHELL_CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    templates = [
        *(ASSURE / "templates/includes").glob("*.html"),
        *(ASSURE / "templates/core").glob("*.html"),
        *(ASSURE / "templates/django/forms").glob("*.html"),
        ASSURE / "templates/base.html",
    ]
    missing, checked = [], 0
    for template in templates:
        python = templatize(template.read_text(encoding="utf-8"), origin=str(template))
        for _line, msgid, _comments, _context in extract("python", io.BytesIO(python.encode())):
            checked += 1
            message = catalogue.get(msgid)
            if message is None or not message.string:
                missing.append(f"{template.name}: {msgid}")
    assert checked > 50, "the templates' texts were not found"
    assert not missing, "\n".join(missing)


# --- Navigation --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_see_no_navigation_entries(client):
    body = client.get("/").content.decode()
    assert "govuk-service-navigation__service-name" in body
    assert "govuk-service-navigation__list" not in body


def _request(path: str, *, signed_in: bool):
    request = RequestFactory().get(path)
    request.user = SimpleNamespace(is_authenticated=True) if signed_in else AnonymousUser()
    return request


@pytest.fixture
def nav_entries(monkeypatch):
    """Entries as apps declare them on their AppConfig: one built page, one not wired yet."""
    monkeypatch.setattr(
        apps.get_app_config("payments"),
        "navigation",
        [
            NavItem("core:legal_notice", "Mes paiements", order=20),
            NavItem("payments:not-built", "Pas encore", order=30),
        ],
        raising=False,
    )
    monkeypatch.setattr(
        apps.get_app_config("core"),
        "navigation",
        [NavItem("core:home", "Accueil", order=10)],
        raising=False,
    )


@pytest.mark.usefixtures("nav_entries")
def test_navigation_lists_built_entries_in_order_for_members():
    links = navigation_for(_request("/mentions-legales/", signed_in=True))
    assert [(link.href, str(link.label), link.current) for link in links] == [
        ("/", "Accueil", False),
        ("/mentions-legales/", "Mes paiements", True),
    ]


@pytest.mark.usefixtures("nav_entries")
def test_navigation_hides_member_entries_from_anonymous_visitors():
    assert navigation_for(_request("/", signed_in=False)) == ()


def test_visibility_rules():
    assert for_members(_request("/", signed_in=True))
    assert not for_members(_request("/", signed_in=False))
    assert for_everyone(_request("/", signed_in=False))


@pytest.mark.django_db
def test_navigation_is_rendered_with_the_current_page_marked(client, monkeypatch):
    monkeypatch.setattr(
        apps.get_app_config("core"),
        "navigation",
        [
            NavItem("core:home", "Accueil", order=10, show=for_everyone),
            NavItem("core:accessibility", "Accessibilité", order=20, show=for_everyone),
        ],
        raising=False,
    )
    body = client.get("/accessibilite/").content.decode()
    nav = re.search(r'<ul class="govuk-service-navigation__list".*?</ul>', body, re.S).group(0)
    assert '<a class="govuk-service-navigation__link" href="/">Accueil</a>' in nav
    assert (
        '<a class="govuk-service-navigation__link" href="/accessibilite/" aria-current="page">'
        '<strong class="govuk-service-navigation__active-fallback">Accessibilité</strong></a>'
    ) in nav
    assert "govuk-service-navigation__toggle" in body


# --- Theme -------------------------------------------------------------------------------------


def _stylesheet_properties() -> dict[str, str]:
    """The brand properties of the compiled stylesheet, with the default each falls back to."""
    found = re.findall(r"var\(--assure-([a-z0-9-]+),\s*(#[0-9a-f]{6})\)", STYLESHEET.read_text())
    assert found, "the compiled stylesheet names no brand colour"
    return {name.replace("-", "_"): colour for name, colour in found}


@pytest.mark.django_db
def test_theme_css_sets_every_brand_property_from_settings(client, settings):
    settings.ASSURE_THEME = {"brand": "#7A1F5C", "brand_dark": "#4d1339", "logo": ""}
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "public" in response["Cache-Control"]
    assert "max-age=86400" in response["Cache-Control"]
    declared = dict(re.findall(r"--assure-([a-z0-9-]+):\s*(#[0-9a-f]{6});", response.text))
    declared = {name.replace("-", "_"): colour for name, colour in declared.items()}
    assert set(declared) == set(_stylesheet_properties())
    assert declared["brand"] == "#7a1f5c"
    assert declared["brand_dark"] == "#4d1339"
    assert declared["brand_tint_95"] == theme.tint("#7a1f5c", 95)


def test_theme_defaults_compute_what_sass_compiled():
    computed = theme.theme_colours({"brand": "#1d5c8c", "brand_dark": "#123a59"})
    assert settings.ASSURE_THEME["brand"] == "#1d5c8c"
    for name, colour in _stylesheet_properties().items():
        assert computed[name] == colour, name


def test_theme_rejects_a_colour_that_is_not_hex():
    with pytest.raises(ImproperlyConfigured, match="brand"):
        theme.theme_colours({"brand": "red;}body{display:none", "brand_dark": "#000000"})


def test_default_theme_meets_aa_contrast():
    assert theme.contrast_problems() == []
    assert theme.contrast("#1d5c8c", "#ffffff") >= 4.5


def test_contrast_problems_are_reported_for_a_pale_brand():
    problems = theme.contrast_problems({"brand": "#ffd700", "brand_dark": "#123a59"})
    assert any(problem.startswith("links:") for problem in problems)
    assert any(problem.startswith("header text:") for problem in problems)


def test_contrast_ratio_matches_wcag_reference_values():
    assert theme.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert theme.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.django_db
def test_pages_link_the_theme_with_a_version_that_follows_the_colours(client, settings):
    first = re.search(r'href="/theme.css\?v=(\w+)"', client.get("/").content.decode()).group(1)
    settings.ASSURE_THEME = {"brand": "#7a1f5c", "brand_dark": "#4d1339", "logo": ""}
    second = re.search(r'href="/theme.css\?v=(\w+)"', client.get("/").content.decode()).group(1)
    assert first != second


@pytest.mark.django_db
def test_header_shows_the_fund_name_and_logo(client, settings):
    settings.ASSURE_FUND_NAME = "Caisse primaire de l'Artois"
    settings.ASSURE_THEME = {**settings.ASSURE_THEME, "logo": "fund/logo.svg"}
    body = client.get("/").content.decode()
    header = re.search(r"<header.*?</header>", body, re.S).group(0)
    assert "Caisse primaire de l&#x27;Artois" in header
    assert '<img class="assure-header__logo" src="/static/fund/logo.svg" alt="">' in header
    assert "GOV.UK" not in body


@pytest.mark.django_db
def test_pages_load_only_local_stylesheets_and_a_module_script(client):
    body = client.get("/").content.decode()
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', body) == [
        "/static/assure/css/assure.css",
        re.search(r'href="(/theme.css\?v=\w+)"', body).group(1),
    ]
    assert re.findall(r"<script[^>]*>", body) == [
        '<script type="module" src="/static/assure/js/assure.js">'
    ]


def test_compiled_stylesheet_has_no_govuk_typeface_or_crown():
    css = STYLESHEET.read_text()
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "system-ui" in css


# --- Public pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_footer_links_the_statement_and_the_legal_notice(client):
    footer = re.search(r"<footer.*?</footer>", client.get("/").content.decode(), re.S).group(0)
    assert (
        '<a class="govuk-footer__link" href="/accessibilite/">Accessibilité : non conforme</a>'
        in footer
    )
    assert '<a class="govuk-footer__link" href="/mentions-legales/">Mentions légales</a>' in footer


@pytest.mark.django_db
def test_accessibility_statement_gives_status_contact_and_recourse(client):
    body = client.get("/accessibilite/").content.decode()
    assert "<strong>non conforme</strong>" in body
    assert "RGAA" in body
    assert settings.ASSURE_FUND_PHONE in body
    assert "Défenseur des droits" in body
    assert "Libre réponse 71120" in body


@pytest.mark.django_db
def test_legal_notice_names_the_publisher(client):
    body = client.get("/mentions-legales/").content.decode()
    for line in settings.ASSURE_FUND_ADDRESS:
        assert line in body
    assert "CNIL" in body


# --- Error pages -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"), [("fr", "Page introuvable"), ("en", "Page not found")]
)
def test_not_found_page(client, language, text):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert f'<h1 class="govuk-heading-l">{text}</h1>' in response.content.decode()
    assert _html_lang(response) == language


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("language", "text"), [("fr", "Une erreur est survenue"), ("en", "Something went wrong")]
)
def test_server_error_page_needs_no_database(language, text, django_assert_num_queries):
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with django_assert_num_queries(0):
        response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert text in body
    assert _html_lang(response) == language
    assert "assure-language-switcher" not in body


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "Service momentanément indisponible"), ("en", "Service temporarily unavailable")],
)
def test_service_unavailable_page(language, text):
    with translation.override(language):
        response = service_unavailable(RequestFactory().get("/"))
    assert response.status_code == 503
    assert text in response.content.decode()
    assert f'<html lang="{language}"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"), [("fr", "Votre session a expiré"), ("en", "Your session has expired")]
)
def test_csrf_failure_page(language, text):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 403
    assert text in response.content.decode()


# --- Messages after an action ------------------------------------------------------------------


def _render_messages(*messages: tuple[int, str]) -> str:
    return render_to_string(
        "includes/messages.html", {"messages": [Message(level, text) for level, text in messages]}
    )


def test_success_message_is_an_announced_green_banner():
    html = _render_messages((SUCCESS, "Votre adresse est enregistrée."))
    assert "govuk-notification-banner govuk-notification-banner--success" in html
    assert 'role="alert" aria-labelledby="message-1-title"' in html
    assert '<h2 class="govuk-notification-banner__title" id="message-1-title">' in html
    assert (
        '<p class="govuk-notification-banner__heading">Votre adresse est enregistrée.</p>' in html
    )


def test_other_messages_are_important_regions():
    html = _render_messages((INFO, "Premier"), (WARNING, "Second"))
    assert html.count('role="region"') == 2
    assert "--success" not in html
    assert 'id="message-2-title">Important</h2>' in html
