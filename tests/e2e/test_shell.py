"""The web shell in a real browser: accessible, fit for a phone, bilingual, held by its CSP."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = {
    "home": ("/", "Votre compte d'assuré"),
    "accessibility statement": ("/accessibilite/", "Déclaration d'accessibilité"),
    "not found": ("/cette-page-n-existe-pas/", "Page introuvable"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_on_a_computer(page, name):
    url, heading = PAGES[name]
    page.goto(url)
    assert page.locator("h1").inner_text() == heading
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_no_horizontal_overflow(page)
    assert_accessible(page)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_on_a_phone(mobile_page, name):
    url, heading = PAGES[name]
    mobile_page.goto(url)
    assert mobile_page.evaluate("() => window.innerWidth") == 375
    assert mobile_page.locator("h1").inner_text() == heading
    assert_no_horizontal_overflow(mobile_page)
    assert_accessible(mobile_page)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_at_320_pixels_does_not_scroll_sideways(mobile_page, name):
    # WCAG 1.4.10 (reflow) is defined at 320 CSS pixels.
    mobile_page.set_viewport_size({"width": 320, "height": 640})
    mobile_page.goto(PAGES[name][0])
    assert_no_horizontal_overflow(mobile_page)


def test_stylesheets_and_script_load(page):
    page.goto("/")
    # The stylesheet applies GOV.UK's layout, and the theme its brand colour to the header.
    assert (
        page.locator(".govuk-width-container").first.evaluate(
            "element => getComputedStyle(element).maxWidth"
        )
        == "960px"
    )
    assert (
        page.locator(".govuk-header").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        == "rgb(29, 92, 140)"
    )
    # The module script ran: GOV.UK Frontend's components are initialised.
    assert "govuk-frontend-supported" in page.locator("body").get_attribute("class")


def test_skip_link_is_the_first_thing_the_keyboard_reaches(page):
    page.goto("/accessibilite/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('href')")
    assert focused == "#contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#contenu"


def test_language_switch_to_english_and_back(page):
    page.goto("/accessibilite/")
    with page.expect_navigation(url="**/accessibilite/"):
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Accessibility statement"
    assert_accessible(page)

    with page.expect_navigation(url="**/accessibilite/"):
        page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Déclaration d'accessibilité"


def test_language_switch_works_without_javascript(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, locale="fr-FR"
    )
    try:
        page = context.new_page()
        page.goto("/mentions-legales/")
        with page.expect_navigation(url="**/mentions-legales/"):
            page.get_by_role("button", name="English").click()
        assert page.locator("h1").inner_text() == "Legal notice"
    finally:
        context.close()


def test_production_csp_blocks_an_injected_inline_script(browser, live_server):
    context = browser.new_context(base_url=live_server.url, bypass_csp=False, locale="fr-FR")
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text))
        page.goto("/")
        # Our own script is a static file: the policy lets it run.
        assert "govuk-frontend-supported" in page.locator("body").get_attribute("class")
        assert violations == [], "the page itself breaks its CSP"

        with pytest.raises(Exception, match="Content Security Policy"):
            page.add_script_tag(content="window.injectedScriptRan = true;")
        assert page.evaluate("() => window.injectedScriptRan === true") is False
        assert any("Content Security Policy" in text for text in violations)
    finally:
        context.close()
