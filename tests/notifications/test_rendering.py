"""Rendering: both languages, the security footer, and no link a phisher could imitate."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assure.notifications.rendering import (
    TemplateMissing,
    UnsafeMessage,
    check_links,
    email_render,
    letter_render,
    template_names,
)

FOOTERS = {
    "fr": "ne met jamais dans ses messages de lien vers un formulaire de connexion",
    "en": "never puts a link to a login form in its messages",
}
# Values for every variable any template may use: long, accented, with characters that HTML
# escaping would mangle.
SAMPLE_CONTEXT = {
    "first_name": "Zoé O'Brien",
    "last_name": "Lefèvre & Fils",
    "amount": "1 234,56 €",
    "date": "26/11/2026",
}
ANY_URL = re.compile(r"[a-z][a-z0-9+.-]*://|www\.", re.IGNORECASE)


def test_there_are_templates_to_check():
    assert "test_notice" in template_names("email")
    assert "test_notice" in template_names("letter")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("template", template_names("email"))
def test_every_email_template_renders_without_links(template, language):
    rendered = email_render(template=template, context=SAMPLE_CONTEXT, language=language)
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert not ANY_URL.search(rendered.subject)
    assert not ANY_URL.search(rendered.body)
    last_paragraph = rendered.body.rstrip().rsplit("\n\n", 1)[-1]
    assert FOOTERS[language] in last_paragraph
    assert "&#x27;" not in rendered.body
    assert "&amp;" not in rendered.body


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("template", template_names("letter"))
def test_every_letter_template_renders_without_links(template, language):
    rendered = letter_render(template=template, context=SAMPLE_CONTEXT, language=language)
    assert not ANY_URL.search(rendered.body)


def test_english_is_english():
    rendered = email_render(template="test_notice", context={"first_name": "Zoé"}, language="en")
    assert rendered.subject.startswith("Your test notice")
    assert rendered.body.startswith("Dear Zoé,")
    letter = letter_render(template="test_notice", context={"last_name": "Roux"}, language="en")
    assert letter.subject == "test notice"


def test_text_is_not_html_escaped():
    rendered = email_render(
        template="test_notice", context={"first_name": "Zoé O'Brien <3"}, language="fr"
    )
    assert "Bonjour Zoé O'Brien <3," in rendered.body


@pytest.mark.parametrize(
    "text",
    [
        "Connectez-vous sur https://assure.example/connexion/ dès maintenant",
        "https://assure.example/login",
        "http://assure.example/identity/code/",
        "https://assure.example/inscription",
        "https://assure.example/compte/activation/abc",
        "https://assure.example/mot-de-passe/oublie",
        "https://assure.example/?token=abc",
        "https://assure.example/paiements/?id=4",
        "www.assure.example/connexion",
        "https://login.assure.example/",
        "https://assure.example@evil.example/",
        "HTTPS://ASSURE.EXAMPLE/LOGIN",
        "Rendez-vous sur assure.example/connexion pour continuer",
        "127.0.0.1:8000/identity/login/",
        "assure.example/?next=/",
    ],
)
def test_links_to_login_or_with_parameters_are_refused(text):
    with pytest.raises(UnsafeMessage):
        check_links(text)


@pytest.mark.parametrize(
    "text",
    [
        "Tapez vous-même l'adresse assure.example dans votre navigateur.",
        "Notre site : https://assure.example/ (tapez-le vous-même).",
        "Informations : https://www.ameli.fr/assure/remboursements.",
        "Appelez le 3646.",
        "Écrivez à contact@assure.example ou tapez 127.0.0.1:8000 dans votre navigateur.",
        "Remboursé le 26/11/2026 : 1 234,56 € (taux 12.5/100).",
    ],
)
def test_plain_addresses_are_allowed(text):
    check_links(text)


def test_a_template_with_a_login_link_cannot_be_rendered(settings, tmp_path):
    from assure.notifications import rendering

    folder = tmp_path / "notifications" / "email" / "phishy"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Action requise")
    (folder / "body.txt").write_text("Connectez-vous : {{ url }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    rendering._engine.cache_clear()
    try:
        with pytest.raises(UnsafeMessage):
            email_render(
                template="phishy",
                context={"url": "https://assure.example/connexion/?next=/"},
                language="fr",
            )
    finally:
        rendering._engine.cache_clear()


def test_missing_template_is_a_clear_error():
    with pytest.raises(TemplateMissing):
        email_render(template="no_such_template", context={}, language="fr")


@pytest.mark.parametrize(
    "hostile",
    ["a." * 50_000, "a" * 100_000 + "://", "x-" * 50_000 + ".y", ("a" * 60 + ".") * 2_000],
)
def test_link_check_stays_linear_on_hostile_text(hostile):
    """A quadratic scan took minutes on these (about 100 KB each); a linear one takes
    milliseconds, so a regression makes this test hang visibly rather than pass slowly."""
    check_links(hostile)


@given(
    host=st.from_regex(r"[a-z]{1,10}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    path=st.from_regex(r"(/[a-z0-9-]{0,8}){0,3}", fullmatch=True),
    query=st.from_regex(r"[a-z]{1,6}=[a-z0-9]{0,6}", fullmatch=True),
    scheme=st.sampled_from(["https://", "http://", "", "www."]),
)
def test_any_link_with_a_query_string_is_refused(host, path, query, scheme):
    with pytest.raises(UnsafeMessage):
        check_links(f"Voir {scheme}{host}{path or '/'}?{query} maintenant")
