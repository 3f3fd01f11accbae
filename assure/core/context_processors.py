from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static

from assure.core.navigation import navigation_for
from assure.core.theme import theme_version


def fund_context() -> dict[str, Any]:
    """What every page shows of the fund; needs no request, so error pages can have it too."""
    logo = settings.ASSURE_THEME.get("logo", "")
    return {
        "fund_name": settings.ASSURE_FUND_NAME,
        "fund_short_name": settings.ASSURE_FUND_SHORT_NAME,
        "fund_phone": settings.ASSURE_FUND_PHONE,
        "fund_address": settings.ASSURE_FUND_ADDRESS,
        "theme": settings.ASSURE_THEME,
        # The logo is a static file of the fund's, or a path on this site: the CSP allows no other.
        "theme_logo_url": (logo if logo.startswith("/") else static(logo)) if logo else "",
        "theme_version": theme_version(),
        "demo_mode": settings.DEMO,
    }


def site(request: HttpRequest) -> dict[str, Any]:
    # A callable, which templates call when they show it: no page pays for a navigation it hides.
    return fund_context() | {"navigation": partial(navigation_for, request)}
