"""Fixed texts translated once (`core/template_i18n.py`) and layout parts kept (`{% keep %}`)."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.test import override_settings
from django.utils import translation

from assure.core.template_i18n import KeptBlockTranslateNode, KeptTranslateNode

KEPT = Engine(
    libraries={"i18n": "assure.core.template_i18n", "keep": "assure.core.templatetags.keep"}
)
DJANGOS = Engine(libraries={"i18n": "django.templatetags.i18n"})

# Each form of the tags, fixed or not, with texts the catalogues translate.
SNIPPETS = [
    '{% translate "Mentions légales" %}',
    "{% translate 'Accessibilité : non conforme' %}",
    '{% translate "Mentions légales" as label %}[{{ label }}]',
    '{% translate "Mentions légales" noop %}',
    '{% translate "Mai" context "month name" %}',
    "{% translate text %}",
    '{% translate "Mentions légales"|upper %}',
    "{% blocktranslate %}Aller au contenu{% endblocktranslate %}",
    "{% blocktranslate trimmed %}\n  Aller au\n  contenu\n{% endblocktranslate %}",
    "{% blocktranslate asvar said %}Aller au contenu{% endblocktranslate %}<{{ said }}>",
    "{% blocktranslate with name=who %}pour {{ name }}{% endblocktranslate %}",
    "{% blocktranslate count n=count %}un{% plural %}{{ n }}{% endblocktranslate %}",
    "{% blocktranslate %}100 % sûr <b>{% endblocktranslate %}",
]


def _render(engine: Engine, source: str, autoescape: bool = True, **values: object) -> str:
    return engine.from_string("{% load i18n %}" + source).render(
        Context(
            {"text": "Mentions légales", "who": "<Léa>", "count": 3, **values},
            autoescape=autoescape,
        )
    )


@pytest.mark.parametrize("source", SNIPPETS)
def test_every_form_renders_as_djangos_own_tags_in_each_language_and_escaping(source):
    kept = KEPT.from_string("{% load i18n %}" + source)
    for _round in range(2):  # the second round is served from what was kept
        for language in ("fr", "en"):
            for autoescape in (True, False):
                with translation.override(language):
                    context = Context(
                        {"text": "Mentions légales", "who": "<Léa>", "count": 3},
                        autoescape=autoescape,
                    )
                    expected = _render(DJANGOS, source, autoescape)
                    assert kept.render(context) == expected, (language, autoescape)


def test_the_english_catalogue_is_really_used():
    with translation.override("en"):
        english = _render(KEPT, '{% translate "Mentions légales" %}')
    with translation.override("fr"):
        french = _render(KEPT, '{% translate "Mentions légales" %}')
    assert french == "Mentions légales"
    assert english != french
    assert english


def test_only_fixed_texts_are_kept():
    template = KEPT.from_string(
        '{% load i18n %}{% translate "Accueil" %}{% translate text %}'
        "{% blocktranslate %}Accueil{% endblocktranslate %}"
        "{% blocktranslate with name=who %}pour {{ name }}{% endblocktranslate %}"
    )
    kinds = [type(node).__name__ for node in template.nodelist]
    assert kinds[1:] == [
        KeptTranslateNode.__name__,
        "TranslateNode",
        KeptBlockTranslateNode.__name__,
        "BlockTranslateNode",
    ]
    # A variable is read on each render, never kept.
    varying = KEPT.from_string("{% load i18n %}{% translate text %}")
    assert varying.render(Context({"text": "un"})) == "un"
    assert varying.render(Context({"text": "deux"})) == "deux"


# --- {% keep %} -------------------------------------------------------------------------------


def test_a_kept_block_renders_once_per_language_and_value():
    template = KEPT.from_string(
        '{% load i18n keep %}{% keep kind %}{% translate "Mentions légales" %} {{ n }}{% endkeep %}'
    )
    with translation.override("fr"):
        assert template.render(Context({"kind": "a", "n": 1})) == "Mentions légales 1"
        # Same language and value: the block is not rendered again (n is not part of the key).
        assert template.render(Context({"kind": "a", "n": 2})) == "Mentions légales 1"
        assert template.render(Context({"kind": "b", "n": 3})) == "Mentions légales 3"
    with translation.override("en"):
        english = template.render(Context({"kind": "a", "n": 4}))
    assert english.endswith(" 4")
    assert not english.startswith("Mentions légales")


def test_a_changed_setting_drops_what_was_kept():
    template = KEPT.from_string("{% load keep %}{% keep %}{{ n }}{% endkeep %}")
    assert template.render(Context({"n": 1})) == "1"
    with override_settings(ASSURE_FUND_NAME="Une autre caisse"):
        assert template.render(Context({"n": 2})) == "2"


def test_keep_takes_values_only():
    with pytest.raises(TemplateSyntaxError):
        KEPT.from_string("{% load keep %}{% keep a=1 %}x{% endkeep %}")


# --- The layout, from the visitor's side --------------------------------------------------------


def _switcher(html: str) -> tuple[str, str]:
    form = re.search(r'<form class="assure-language-switcher".*?</form>', html, re.S)
    assert form, html[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0))
    following = re.search(r'name="next" value="([^"]*)"', form.group(0))
    assert token
    assert following
    return token.group(1), following.group(1)


@pytest.mark.django_db
def test_the_kept_layout_keeps_no_visitors_token_nor_page(client):
    from django.test import Client

    first_token, first_next = _switcher(client.get("/accessibilite/").content.decode())
    other = Client()
    other_token, other_next = _switcher(other.get("/mentions-legales/").content.decode())
    assert first_token != other_token
    assert (first_next, other_next) == ("/accessibilite/", "/mentions-legales/")
    with translation.override("en"):
        english = other.get("/accessibilite/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get("/accessibilite/").content.decode()
    assert 'lang="en"' in english
    assert 'lang="fr"' in french
    # Each language's own footer, though the layout keeps it.
    footer_fr = re.search(r"<footer.*?</footer>", french, re.S).group(0)
    footer_en = re.search(r"<footer.*?</footer>", english, re.S).group(0)
    assert footer_fr != footer_en
