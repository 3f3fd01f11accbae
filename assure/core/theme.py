"""The fund's colours: checked, derived as the compiled stylesheet derives them, and measured.

`frontend/build.mjs` compiles GOV.UK Frontend with the default colours and writes each brand colour
of the stylesheet as a CSS custom property (`--assure-brand-tint-95`). `/theme.css` sets those
properties from settings.ASSURE_THEME, so a fund rebrands without Node.js; the tints and shades are
computed here exactly as Sass's `mix()` computes them.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
BLACK = "#000000"
# WCAG 2.1, 1.4.3: normal text needs 4.5:1 against its background.
AA_TEXT = 4.5


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def mix(first: str, second: str, weight: float) -> str:
    """Sass's mix() for opaque colours: `weight` of the first colour, rounded per channel."""
    channels = (
        # Sass rounds halves away from zero, as JavaScript's Math.round does for positives.
        int(a * weight + b * (1 - weight) + 0.5)
        for a, b in zip(_rgb(first), _rgb(second), strict=True)
    )
    return "#" + "".join(f"{c:02x}" for c in channels)


def tint(colour: str, percent: int) -> str:
    return mix(WHITE, colour, percent / 100)


def shade(colour: str, percent: int) -> str:
    return mix(BLACK, colour, percent / 100)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_colours(theme: dict[str, Any] | None = None) -> dict[str, str]:
    """Every colour /theme.css may name: the two brand colours and their tints and shades."""
    theme = settings.ASSURE_THEME if theme is None else theme
    return _colours(theme["brand"], theme["brand_dark"])


@cache
def _colours(brand: str, brand_dark: str) -> dict[str, str]:
    colours = {"brand": brand, "brand_dark": brand_dark}
    for name, value in colours.items():
        if not _HEX.match(value):
            raise ImproperlyConfigured(
                f"ASSURE_THEME[{name!r}] must be a colour written #rrggbb, not {value!r}."
            )
    derived = {}
    for name, value in colours.items():
        for percent in range(1, 100):
            derived[f"{name}_tint_{percent}"] = tint(value.lower(), percent)
            derived[f"{name}_shade_{percent}"] = shade(value.lower(), percent)
    return {name: value.lower() for name, value in colours.items()} | derived


def theme_version(theme: dict[str, Any] | None = None) -> str:
    """Changes when the colours change, so /theme.css can be cached for long."""
    colours = theme_colours(theme)
    return hashlib.sha256(f"{colours['brand']}{colours['brand_dark']}".encode()).hexdigest()[:12]


def contrast_problems(theme: dict[str, Any] | None = None) -> list[str]:
    """The pairs of the theme that fall below WCAG AA for text, described for a person."""
    c = theme_colours(theme)
    pairs = [
        ("links", c["brand"], WHITE),
        ("links on hover", c["brand_dark"], WHITE),
        ("header text", WHITE, c["brand"]),
        ("links in the footer and navigation", c["brand"], c["brand_tint_95"]),
        ("navigation links", c["brand_shade_10"], c["brand_tint_95"]),
        ("hovered links in the footer and navigation", c["brand_dark"], c["brand_tint_95"]),
        ("notification banner title", WHITE, c["brand"]),
    ]
    return [
        f"{label}: {fg} on {bg} is {contrast(fg, bg):.2f}:1, below {AA_TEXT}:1"
        for label, fg, bg in pairs
        if contrast(fg, bg) < AA_TEXT
    ]
