"""`{% url %}` keeps fixed addresses once reversed, and answers exactly as Django's tag."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from assure.core.fixed_urls import reverse_fixed, reverse_with_id


def _render(source: str, **context) -> str:
    return Template("{% load i18n %}" + source, engine=Engine.get_default()).render(
        Context(context)
    )


def test_fixed_addresses_match_django_reverse():
    for name in ("core:home", "payments:list", "core:legal_notice", "set_language"):
        assert _render(f"{{% url '{name}' %}}") == reverse(name)
        assert reverse_fixed(name) == reverse(name)


def test_addresses_with_arguments_are_reversed_each_time():
    assert _render("{% url 'payments:detail' 12 %}") == reverse("payments:detail", args=[12])
    assert _render("{% url 'payments:detail' n %}", n=34) == reverse("payments:detail", args=[34])
    assert _render("{% url 'payments:detail' statement_id=5 %}") == "/mes-paiements/5/"


def test_an_id_is_put_where_django_would_put_it():
    for name in ("payments:detail", "backoffice:messaging:thread"):
        for object_id in (1, 7, 70, 7305718294613, 10**15):
            assert reverse_with_id(name, object_id) == reverse(name, args=[object_id])


def test_an_address_without_one_id_is_refused():
    with pytest.raises(NoReverseMatch):
        reverse_with_id("core:home", 1)
    with pytest.raises(ValueError, match="invalid literal"):
        reverse_with_id("payments:detail", "1/../../x")  # type: ignore[arg-type]


def test_as_variable_works_as_in_django():
    assert _render("{% url 'core:home' as home %}[{{ home }}]") == "[/]"
    assert _render("{% url 'nothing:here' as missing %}[{{ missing }}]") == "[]"


def test_a_name_that_does_not_exist_still_fails():
    with pytest.raises(NoReverseMatch):
        _render("{% url 'nothing:here' %}")
    with pytest.raises(TemplateSyntaxError):
        _render("{% url %}")


def test_the_script_prefix_is_part_of_the_kept_address():
    before = reverse_fixed("payments:list")
    set_script_prefix("/compte/")
    try:
        assert reverse_fixed("payments:list") == "/compte/mes-paiements/"
        assert _render("{% url 'payments:list' %}") == "/compte/mes-paiements/"
        assert reverse_with_id("payments:detail", 3) == "/compte/mes-paiements/3/"
    finally:
        set_script_prefix("/")
    assert reverse_fixed("payments:list") == before == "/mes-paiements/"
    assert reverse_with_id("payments:detail", 3) == "/mes-paiements/3/"


def test_every_project_template_uses_the_kept_tag():
    # The builtin replaces Django's tag everywhere, templates of installed apps included.
    template = get_template("base.html").template
    assert type(template.engine.template_builtins[-1].tags["url"]).__name__ == "function"
    assert template.engine.template_builtins[-1].tags["url"].__module__ == "assure.core.fixed_urls"
