"""The browser harness itself fails when it should: a check that cannot fail proves nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INACCESSIBLE = """<!DOCTYPE html><html><head><title>x</title></head><body>
<main><img src="/static/assure/images/favicon.svg"><input type="text"></main></body></html>"""


def test_assert_accessible_lists_every_violation(page):
    page.goto("/")
    page.set_content(INACCESSIBLE)
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page)
    message = str(failure.value)
    for rule in ("html-has-lang", "image-alt", "label"):
        assert f"- {rule} " in message


def test_assert_no_horizontal_overflow_catches_a_wide_page(mobile_page):
    mobile_page.goto("/")
    mobile_page.set_content(
        "<!DOCTYPE html><html lang='fr'><body><table><tr><td>"
        + "x" * 400
        + "</td></tr></table></body></html>"
    )
    with pytest.raises(AssertionError, match="wide in 375px"):
        assert_no_horizontal_overflow(mobile_page)


def test_pages_are_french_desktop_and_phone_sized(page, mobile_page):
    page.goto("/")
    assert page.evaluate("() => navigator.language") == "fr-FR"
    assert page.evaluate("() => window.innerWidth") == 1280
    mobile_page.goto("/")
    assert mobile_page.evaluate("() => window.innerWidth") == 375
