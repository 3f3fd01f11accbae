"""Django's `i18n` template library, with fixed texts translated once per language.

Most `{% translate %}` and `{% blocktranslate %}` tags of the pages hold a fixed text: a heading,
a label, a sentence of the footer. Django looks each up again on every page (the active
language, the catalogue, the escaping of the result), which was about a third of the template
engine's time on a page such as the accessibility statement (docs/performance.md). Here a tag
whose text is fixed keeps what it rendered, per language and escaping mode, and gives it back the
next time; a tag with a variable, a plural or a filter renders exactly as Django's does.

Settings register this module under the label `i18n` (TEMPLATES' `libraries`), so `{% load i18n %}`
loads it; every other tag of Django's library is the same object. The engine's backend is
`DjangoTemplates` below, whose system check knows that this label is replaced on purpose. The
catalogues are read once per process: after a change of a `.mo` file, restart the server.
"""

from __future__ import annotations

from typing import Any

from django.template import Library
from django.template.backends import django as django_backend
from django.template.base import TokenType
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language

register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


def _is_literal(expression: Any) -> bool:
    """A filter expression that is a quoted string, without filters."""
    if expression is None:
        return True
    variable = getattr(expression, "var", None)
    return (
        not expression.filters
        and getattr(variable, "lookups", "unset") is None
        and isinstance(getattr(variable, "literal", None), str)
    )


class _Kept:
    """What a fixed-text node rendered, by (language, autoescape): a dict read without a lock
    (two threads rendering the same text at once both store the same value)."""

    kept: dict[tuple[str | None, bool], Any]

    def _kept_render(self, context: Any, render: Any) -> Any:
        asvar = getattr(self, "asvar", None)
        key = (get_language(), context.autoescape)
        try:
            value = self.kept[key]
        except KeyError:
            output = render(context)
            value = self.kept[key] = context[asvar] if asvar else output
        if asvar:
            context[asvar] = value
            return ""
        return value


class KeptTranslateNode(_Kept, django_i18n.TranslateNode):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept = {}

    def render(self, context: Any) -> Any:
        return self._kept_render(context, super().render)


class KeptBlockTranslateNode(_Kept, django_i18n.BlockTranslateNode):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept = {}

    def render(self, context: Any, nested: bool = False) -> Any:
        return self._kept_render(context, super().render)


def translate(parser: Any, token: Any) -> Any:
    node = django_i18n.do_translate(parser, token)
    if not (_is_literal(node.filter_expression) and _is_literal(node.message_context)):
        return node
    return KeptTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)


def block_translate(parser: Any, token: Any) -> Any:
    node = django_i18n.do_block_translate(parser, token)
    fixed = (
        not node.extra_context
        and not node.plural
        and node.counter is None
        and _is_literal(node.message_context)
        and all(piece.token_type == TokenType.TEXT for piece in node.singular)
    )
    if not fixed:
        return node
    return KeptBlockTranslateNode(
        node.extra_context,
        node.singular,
        message_context=node.message_context,
        trimmed=node.trimmed,
        asvar=node.asvar,
        tag_name=node.tag_name,  # type: ignore[attr-defined]  # Django's, absent from its stubs
    )


for _name in ("translate", "trans"):
    register.tag(_name, translate)
for _name in ("blocktranslate", "blocktrans"):
    register.tag(_name, block_translate)


class DjangoTemplates(django_backend.DjangoTemplates):
    """Django's template backend; its check of libraries sharing a label (templates.W003) leaves
    out `i18n`, replaced here on purpose, and still reports any other."""

    def _check_for_template_tags_with_the_same_name(self) -> list[Any]:
        found = super()._check_for_template_tags_with_the_same_name()  # type: ignore[misc]
        return [warning for warning in found if not warning.msg.startswith("'i18n' ")]
