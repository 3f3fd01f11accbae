"""Addresses without arguments, reversed once per process rather than on every page.

Every page links to a dozen fixed addresses (header, navigation, footer, forms), and Django's
`reverse` walks the URL patterns each time: about a tenth of a small page's time. A fixed address
depends only on its name, the URL configuration in use, the script prefix the site is mounted
under and, for namespaced apps, the current application; all four are in the key, so a test or a
deployment that changes any of them gets its own entry. An address whose only argument is an
object's id (a line of a long list links to its object) is reversed once with a marker in the id's
place, and each id then put where the marker was (`reverse_with_id`). Other addresses with
arguments are reversed as usual.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.template import Library, Node, defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape


def reverse_fixed(view_name: str, current_app: str | None = None) -> str:
    """`reverse(view_name)` for an address without arguments, kept once computed."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reversed(view_name, urlconf, get_script_prefix(), current_app)


@lru_cache(maxsize=512)
def _reversed(view_name: str, urlconf: str, script_prefix: str, current_app: str | None) -> str:
    # `script_prefix` is part of the key only: reverse() reads the thread's prefix itself.
    return reverse(view_name, urlconf=urlconf, current_app=current_app)


# Stands for the id while the address is reversed: digits, so that `<int:…>` accepts it, and long
# enough never to be part of a script prefix or of the rest of a path.
_ID_MARK = "7305718294613"


def reverse_with_id(view_name: str, object_id: int) -> str:
    """`reverse(view_name, args=[object_id])` for an address whose one argument is an integer id."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    head, tail = _around_id(view_name, urlconf, get_script_prefix())
    return f"{head}{int(object_id)}{tail}"


@lru_cache(maxsize=256)
def _around_id(view_name: str, urlconf: str, script_prefix: str) -> tuple[str, str]:
    url = reverse(view_name, urlconf=urlconf, args=[int(_ID_MARK)])
    head, mark, tail = url.partition(_ID_MARK)
    if not mark or _ID_MARK in tail:
        raise NoReverseMatch(f"{view_name!r} does not take one integer id")
    return head, tail


register = Library()


class FixedURLNode(defaulttags.URLNode):
    """`{% url %}` that keeps the addresses without arguments (see the module's docstring)."""

    def render(self, context):  # type: ignore[no-untyped-def]
        if self.args or self.kwargs:
            return super().render(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        try:
            url = reverse_fixed(self.view_name.resolve(context), current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
            url = ""  # as Django's tag: `as name` leaves the name empty instead of failing
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token) -> Node:  # type: ignore[no-untyped-def]
    """Django's `{% url %}`, same syntax and output; a builtin, so every template has it."""
    node = defaulttags.url(parser, token)
    return FixedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
