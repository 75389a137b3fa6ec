"""docs/deploy.md and its compose file name only settings and options OpenReel has.

The compose file cannot be run here (no Docker engine), so what can be checked is checked:
every ``OPENREEL_*`` variable maps to a real setting, every ``openreel`` command line parses
with the real command line's options, and the extras the Dockerfile installs exist.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel

from openreel.cli import app
from openreel.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deploy.md"
COMPOSE = ROOT / "docs" / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "docs" / "deploy" / "Dockerfile"


def _setting_exists(variable: str) -> bool:
    """Whether ``OPENREEL_A__B`` names field ``a.b`` of Settings (``*`` matches any field)."""
    path = variable.removeprefix("OPENREEL_").lower().split("__")
    model: type[BaseModel] = Settings
    for depth, part in enumerate(path):
        if part == "*":
            return depth == len(path) - 1
        field = model.model_fields.get(part)
        if field is None:
            return False
        if depth < len(path) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def test_deploy_setting_checker_can_fail() -> None:
    assert _setting_exists("OPENREEL_CELERY__BROKER_URL")
    assert _setting_exists("OPENREEL_PROVIDERS__*")
    assert not _setting_exists("OPENREEL_CELERY__BROKER")
    assert not _setting_exists("OPENREEL_NOPE")
    assert not _setting_exists("OPENREEL_DATA_DIR__X")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _openreel_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _compose()["services"].items()
        if "command" in service and service["command"][0] == "openreel"
    }


def test_deploy_compose_starts_an_api_and_workers() -> None:
    services = _openreel_services()
    verbs = sorted(service["command"][1] for service in services.values())
    assert verbs.count("serve") == 1
    assert verbs.count("worker") >= 3
    assert {"postgres", "redis", "minio"} <= set(_compose()["services"])


@pytest.mark.parametrize("name", sorted(_openreel_services()))
def test_deploy_compose_settings_exist(name: str) -> None:
    service = _openreel_services()[name]
    variables = [key for key in service["environment"] if key.startswith("OPENREEL_")]
    assert "OPENREEL_QUEUE" in variables
    unknown = [v for v in variables if not _setting_exists(v)]
    assert unknown == []
    # And the values parse as settings (interpolated ${...} keys aside).
    env = {k: v for k, v in service["environment"].items() if k.startswith("OPENREEL_")}
    plain = {k: v for k, v in env.items() if "${" not in str(v)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in plain.items():
            patch.setenv(key, str(value))
        settings = Settings()
    assert settings.queue == "celery"


@pytest.mark.parametrize("name", sorted(_openreel_services()))
def test_deploy_compose_command_lines_parse(name: str) -> None:
    command = _openreel_services()[name]["command"]
    group = typer.main.get_command(app)
    sub = group.commands[command[1]]  # type: ignore[attr-defined]
    sub.make_context(command[1], list(command[2:]))  # raises on an unknown option


def test_deploy_doc_names_only_real_settings() -> None:
    text = DOC.read_text()
    named = set(re.findall(r"OPENREEL_[A-Z0-9_]+(?:__\*)?", text))
    # Table cells list a group's fields after its first one: `__ENDPOINT_URL`.
    assert named
    unknown = sorted(v for v in named if not _setting_exists(v.rstrip("_")))
    assert unknown == []
    for group, field in re.findall(r"(OPENREEL_[A-Z]+)__[A-Z_]+`, ((?:`__[A-Z_]+`,? ?)+)", text):
        for extra in re.findall(r"__([A-Z_]+)", field):
            assert _setting_exists(f"{group}__{extra}"), f"{group}__{extra}"


def test_deploy_doc_commands_parse() -> None:
    group = typer.main.get_command(app)
    lines = re.findall(
        r"`(?:CUDA_VISIBLE_DEVICES=\w+ )?(openreel (?:serve|worker)[^`]*)`", DOC.read_text()
    )
    assert len(lines) >= 4
    for line in lines:
        words = shlex.split(line)
        group.commands[words[1]].make_context(words[1], words[2:])  # type: ignore[attr-defined]


def test_deploy_dockerfile_installs_extras_that_exist() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    wanted = re.search(r"pip install [^\n]*'\.\[([a-z0-9,]+)\]'", DOCKERFILE.read_text())
    assert wanted is not None
    assert set(wanted.group(1).split(",")) <= extras
