from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "fund_name": settings.ASSURE_FUND_NAME,
        "fund_short_name": settings.ASSURE_FUND_SHORT_NAME,
        "fund_phone": settings.ASSURE_FUND_PHONE,
        "theme": settings.ASSURE_THEME,
        "demo_mode": settings.DEMO,
    }
