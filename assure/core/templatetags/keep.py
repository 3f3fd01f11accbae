"""`{% keep %}`: a part of the page layout rendered once per language and kept in the process.

The header, the service navigation and the footer are the same on every page for everyone who
reads the site in one language, yet Django's template engine renders them again on each page
(about a millisecond, a tenth of a page of "Mes paiements" on the machine of docs/performance.md)::

    {% load keep %}
    {% keep %}<footer>… {% translate "Mentions légales" %} … {{ fund_name }}</footer>{% endkeep %}
    {% keep links %}… the links of the navigation …{% endkeep %}

The content is rendered the first time for a language (and escaping mode) and for the values
named after `keep`, then given back as it was. So it may only depend on the language, the
settings and those values: never wrap anything personal to a member, a CSRF token or a form.
Values named must be hashable and few (a handful of navigations, not one per member). Each block
keeps at most `KEEP_MAX` variants, and every kept variant is dropped when a setting changes (the
tests change the fund's name or theme).
"""

from __future__ import annotations

import weakref
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library, Node, NodeList, TemplateSyntaxError
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = Library()

KEEP_MAX = 64
# Every block compiled, to forget what they keep when a setting changes.
_KEPT_NODES: weakref.WeakSet[KeepNode] = weakref.WeakSet()


class KeepNode(Node):
    def __init__(self, nodelist: NodeList, vary_on: list[Any]) -> None:
        self.nodelist = nodelist
        self.vary_on = vary_on
        self.kept: dict[tuple[Any, ...], SafeString] = {}
        _KEPT_NODES.add(self)

    def render(self, context: Any) -> SafeString:
        key = (
            get_language(),
            context.autoescape,
            *(value.resolve(context) for value in self.vary_on),
        )
        found = self.kept.get(key)
        if found is None:
            found = self.nodelist.render(context)
            if len(self.kept) >= KEEP_MAX:
                self.kept.clear()
            self.kept[key] = found
        return found


@register.tag
def keep(parser: Any, token: Any) -> KeepNode:
    nodelist = parser.parse(("endkeep",))
    parser.delete_first_token()
    bits = token.split_contents()[1:]
    if any("=" in bit for bit in bits):
        raise TemplateSyntaxError("{% keep %} takes values to vary on, not keyword arguments")
    return KeepNode(nodelist, [parser.compile_filter(bit) for bit in bits])


@receiver(setting_changed)
def _forget_kept(**kwargs: Any) -> None:
    for node in list(_KEPT_NODES):
        node.kept.clear()
