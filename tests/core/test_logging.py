"""No NIR, IBAN, e-mail address or token reaches a log line in clear (STYLE.md, 7)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from assure.core.logging import JsonFormatter, MaskIdentifiersFilter, mask

SECRETS = {
    "nir": [
        "185057512345678",  # 15 characters: NIR and its key
        "1850575123456",  # 13 characters: without the key
        "1 85 05 75 123 456 78",
        "1.85.05.75.123.456.78",
        "2 91 03 2A 004 012 64",  # born in Corse-du-Sud
        "19102 2B 004012",  # Haute-Corse, grouped oddly
        "291032a00401264",  # lower-case Corsican department
        "2 91 03 971 23 456 12",  # overseas department: 3-digit department, 2-digit commune
    ],
    "iban": [
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",
        "fr76 3000 6000 0112 3456 7890 189",
        "DE89 3704 0044 0532 0130 00",
    ],
    "email": ["jeanne.dupont@example.fr", "o'connor+caf@mail.example.org"],
    "token": ["Bearer abc.DEF-123_456~xyz==", "bearer 0123456789abcdef"],
}
CASES = [(kind, value) for kind, values in SECRETS.items() for value in values]


def _logger_into(stream: io.StringIO, formatter: logging.Formatter) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskIdentifiersFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"assure.tests.masking.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _leaked(value: str, output: str) -> bool:
    if value.lower().startswith("bearer "):
        value = value.split(" ", 1)[1]
    return value in output


@pytest.mark.parametrize(("kind", "value"), CASES)
def test_mask_replaces_each_identifier_with_its_kind(kind, value):
    masked = mask(f"avant {value} après")
    assert not _leaked(value, masked)
    assert f"[{kind}]" in masked
    assert masked.startswith("avant ")
    assert masked.endswith(" après")


@pytest.mark.parametrize(("kind", "value"), CASES)
def test_identifier_in_the_message_is_masked(kind, value):
    stream = io.StringIO()
    _logger_into(stream, logging.Formatter("%(message)s")).info(f"membre {value} introuvable")
    assert not _leaked(value, stream.getvalue())
    assert "membre " in stream.getvalue()


@pytest.mark.parametrize(("kind", "value"), CASES)
def test_identifier_in_the_arguments_is_masked(kind, value):
    stream = io.StringIO()
    _logger_into(stream, logging.Formatter("%(message)s")).info("membre %s (%d)", value, 3)
    assert not _leaked(value, stream.getvalue())
    assert "(3)" in stream.getvalue()


@pytest.mark.parametrize(("kind", "value"), CASES)
@pytest.mark.parametrize("formatter", [logging.Formatter("%(message)s"), JsonFormatter()])
def test_identifier_in_a_traceback_is_masked(kind, value, formatter):
    stream = io.StringIO()
    logger = _logger_into(stream, formatter)
    try:
        raise ValueError(f"refusé pour {value}")
    except ValueError:
        logger.exception("échec")
    output = stream.getvalue()
    assert "ValueError" in output
    assert not _leaked(value, output)


def test_stack_info_is_masked():
    stream = io.StringIO()
    email = "jeanne.dupont@example.fr"
    _logger_into(stream, logging.Formatter("%(message)s")).info(email, stack_info=True)
    assert "Stack (most recent call last)" in stream.getvalue()
    assert email not in stream.getvalue()


def test_ordinary_figures_are_left_alone():
    text = "200 lignes en 1234 ms, montant 1 234,56 €, le 26/11/2026 à 09:15, code 404"
    assert mask(text) == text


def test_a_badly_formatted_record_is_still_logged_and_masked():
    stream = io.StringIO()
    _logger_into(stream, logging.Formatter("%(message)s")).info(
        "membre %s %s jeanne@example.fr", "un seul argument"
    )
    assert "[email]" in stream.getvalue()
    assert "jeanne@example.fr" not in stream.getvalue()


def test_json_formatter_writes_one_object_a_line():
    stream = io.StringIO()
    logger = _logger_into(stream, JsonFormatter())
    logger.warning("accès refusé à %s", "1 85 05 75 123 456 78")
    try:
        raise RuntimeError("jeanne@example.fr")
    except RuntimeError:
        logger.error("deuxième\nligne", exc_info=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING"
    assert first["logger"].startswith("assure.tests.masking")
    assert first["message"] == "accès refusé à [nir]"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "deuxième\nligne"
    assert "RuntimeError: [email]" in second["exception"]


def test_json_formatter_keeps_accents_readable():
    stream = io.StringIO()
    _logger_into(stream, JsonFormatter()).info("Élodie a été prévenue")
    assert "Élodie a été prévenue" in stream.getvalue()


def test_settings_route_every_record_through_the_filter(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["filters"] == ["mask_identifiers"]
    assert settings.LOGGING["root"]["handlers"] == ["console"]
