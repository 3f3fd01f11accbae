"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Usage, in any module of `tests/e2e/` (every test here is marked `e2e` automatically as well)::

    import pytest

    from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow

    pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


    def test_statement_page(page, live_server):
        page.goto(live_server.url + "/accessibilite/")
        assert page.locator("h1").inner_text() == "Déclaration d'accessibilité"
        assert_accessible(page)


    def test_statement_on_a_phone(mobile_page, live_server):
        mobile_page.goto(live_server.url + "/accessibilite/")
        assert_no_horizontal_overflow(mobile_page)
        assert_accessible(mobile_page)

`page` is a French desktop browser tab (1280 by 800 pixels), `mobile_page` a 375 by 812 one; both
have the live server as base URL, so `page.goto("/accessibilite/")` works too.
Both contexts bypass the Content-Security-Policy so that axe-core can be injected (the real policy
is tested with `browser.new_context(bypass_csp=False)`). Data a test creates must be committed for
the live server's thread to see it: hence `django_db(transaction=True)`, which `page` also
requests. `assert_accessible(page)` runs axe-core (shipped by the `axe-playwright-python` package,
injected from the local file, never from a CDN) and fails listing every WCAG 2.1 A/AA violation;
`assert_no_horizontal_overflow(page)` fails when the page scrolls sideways.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service

CHROMIUM = Path("/usr/bin/chromium")
# Without the last flags chromium reaches for the internet at start-up and is refused (TESTING.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 812}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

E2E_DIR = Path(__file__).parent
SHELL_CATALOGUE = Path(__file__).parents[2] / "assure/core/locale/en/LC_MESSAGES/django.po"


def compile_shell_catalogue() -> None:
    """Compile the shell's English catalogue when stale, as `make messages` does (.mo files are
    not committed), so that a plain `pytest` sees the English pages too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from django.utils.translation import trans_real

    mo = SHELL_CATALOGUE.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= SHELL_CATALOGUE.stat().st_mtime:
        return
    with SHELL_CATALOGUE.open("rb") as po_file:
        catalog = read_po(po_file)
    with mo.open("wb") as mo_file:
        write_mo(mo_file, catalog, use_fuzzy=True)
    trans_real._translations = {}  # catalogues load once per process: forget the stale one
    trans_real._default = None


@pytest.fixture(scope="session", autouse=True)
def _shell_catalogue() -> None:
    compile_shell_catalogue()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module.

    Playwright's synchronous API keeps an event loop running in this thread while it is started,
    which Django takes for an async context; the tests' ORM calls are plain synchronous code, so
    Django's guard steps aside while the browser is up, and only then. A module scope (rather than
    the whole session) keeps that window short: pytest-django runs the other suites' tests after
    these, and neither they nor the processes they start should inherit the relaxed guard.
    """
    need_service("chromium", CHROMIUM.exists(), f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield launched
            launched.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser: Any, live_server: Any, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url,
        bypass_csp=True,
        locale="fr-FR",
        viewport=viewport,
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _new_page(browser, live_server, DESKTOP)


@pytest.fixture
def mobile_page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    yield from _new_page(browser, live_server, MOBILE)


@cache
def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def assert_accessible(page: Any) -> None:
    """Fail with every axe-core violation of WCAG 2.1 A and AA on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_source())
    results = page.evaluate(
        """async (tags) => await window.axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        AXE_TAGS,
    )
    violations = results["violations"]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"]:
                lines.append(f"    {', '.join(node['target'])}: {node['failureSummary']}")
        pytest.fail("\n".join(lines))


def assert_no_horizontal_overflow(page: Any) -> None:
    """Nothing wider than the viewport: a phone never scrolls sideways (WCAG 1.4.10, reflow)."""
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url}: {scroll_width}px wide in {inner_width}px"
