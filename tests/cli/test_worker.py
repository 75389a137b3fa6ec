"""``openreel worker``: what it refuses before it ever connects to Redis.

The worker at work (queues, kill -9, cancel) is tested with real processes in
tests/e2e/test_scale.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from openreel.cli import app

runner = CliRunner()


@pytest.fixture
def celery_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPENREEL_QUEUE", "celery")
    monkeypatch.setenv("OPENREEL_CELERY__BROKER_URL", "redis://:hunter22@127.0.0.1:1/0")


def test_cli_worker_needs_the_celery_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "OPENREEL_QUEUE=celery" in result.output
    assert "'embedded'" in result.output


@pytest.mark.usefixtures("celery_env")
@pytest.mark.parametrize(
    ("args", "expected", "offered"),
    [
        (["--models", "openreel-sketch,ltx-giant"], "no model 'ltx-giant'", "openreel-sketch"),
        (["--backends", "nope"], "no backend 'nope'", "has sketch"),
        (["--pool", "eventlet"], "got 'eventlet'", "prefork, threads or solo"),
    ],
)
def test_cli_worker_names_what_it_cannot_serve(
    args: list[str], expected: str, offered: str
) -> None:
    result = runner.invoke(app, ["worker", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert offered in result.output
    assert "hunter22" not in result.output
    assert "Traceback" not in result.output


def test_cli_worker_refuses_a_broker_that_is_not_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPENREEL_QUEUE", "celery")
    monkeypatch.setenv("OPENREEL_CELERY__BROKER_URL", "amqp://guest:hunter22@rabbit//")
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "redis://" in result.output
    assert "hunter22" not in result.output
