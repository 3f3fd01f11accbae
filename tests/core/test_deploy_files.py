"""The production examples in deploy/ and docs/operations.md stay in step with the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETTINGS_SOURCE = (REPO / "assure" / "settings.py").read_text()
ENV_EXAMPLE = (REPO / "deploy" / "env.example").read_text()
OPERATIONS = (REPO / "docs" / "operations.md").read_text()

VARIABLES = sorted(set(re.findall(r'os\.environ(?:\.get)?\(\s*"([A-Z0-9_]+)"', SETTINGS_SOURCE)))


def test_the_settings_read_variables_at_all():
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "ASSURE_ENV"} <= set(VARIABLES)


@pytest.mark.parametrize("name", VARIABLES)
def test_every_variable_is_in_env_example(name):
    assert re.search(rf"^#?\s*{name}=", ENV_EXAMPLE, re.MULTILINE), name


@pytest.mark.parametrize("name", VARIABLES)
def test_every_variable_is_in_the_operations_configuration_table(name):
    assert f"`{name}`" in OPERATIONS, name


def test_units_start_what_exists():
    web = (REPO / "deploy" / "assure-web.service").read_text()
    worker = (REPO / "deploy" / "assure-worker@.service").read_text()
    assert "gunicorn --config /etc/assure/gunicorn.conf.py" in web
    assert re.search(r"^ExecStart=\S+/assure worker$", worker, re.MULTILINE)
    assert "EnvironmentFile=/etc/assure/env" in web
    assert "EnvironmentFile=/etc/assure/env" in worker


def test_deploy_gunicorn_config_is_valid(tmp_path):
    """gunicorn loads the example configuration and the application it names."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(ASSURE_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--check-config",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
