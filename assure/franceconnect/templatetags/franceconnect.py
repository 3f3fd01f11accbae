"""`{% franceconnect_enabled as on %}`: the button shows only when FranceConnect is configured."""

from __future__ import annotations

from django.template import Library

from assure.franceconnect.client import enabled

register = Library()


@register.simple_tag
def franceconnect_enabled() -> bool:
    return enabled()
