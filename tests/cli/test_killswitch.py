"""``openreel pause|resume|pauses``: the kill switch from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openreel.cli import app
from openreel.config import Settings
from openreel.domain import Principal, Role
from openreel.errors import GenerationPausedError
from openreel.runtime import open_auth, open_killswitch

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _alice() -> Principal:
    return open_auth(Settings()).issue("alice").principal


def test_cli_pause_then_resume_all(data_dir: Path) -> None:
    alice = _alice()
    result = runner.invoke(app, ["pause", "--reason", "incident 42"])
    assert result.exit_code == 0, result.output
    with pytest.raises(GenerationPausedError, match="incident 42"):
        open_killswitch(Settings()).check(alice, model="openreel-sketch", token_id=None)
    listed = runner.invoke(app, ["pauses", "--json"])
    assert [p["scope"] for p in json.loads(listed.stdout)] == ["all"]
    assert runner.invoke(app, ["resume"]).exit_code == 0
    open_killswitch(Settings()).check(alice, model="openreel-sketch", token_id=None)


def test_cli_pause_one_principal(data_dir: Path) -> None:
    alice = _alice()
    bob = open_auth(Settings()).issue("bob", role=Role.USER).principal
    result = runner.invoke(app, ["pause", "--principal", "alice", "--reason", "review"])
    assert result.exit_code == 0, result.output
    switch = open_killswitch(Settings())
    with pytest.raises(GenerationPausedError):
        switch.check(alice, model="openreel-sketch", token_id=None)
    switch.check(bob, model="openreel-sketch", token_id=None)
    table = runner.invoke(app, ["pauses"])
    assert "review" in table.stdout


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["pause", "--principal", "nobody", "--reason", "x"], "nobody"),
        (["pause", "--model", "m", "--token", "t", "--reason", "x"], "--model, --token"),
        (["pause", "--reason", "   "], "reason"),
        (["resume", "--model", "never-paused"], "never-paused"),
        (["pause", "--token", "tok_missing", "--reason", "x"], "tok_missing"),
    ],
)
def test_cli_pause_bad_input_exits_2(data_dir: Path, args: list[str], shown: str) -> None:
    _alice()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert shown in result.stderr
    assert open_killswitch(Settings()).pauses() == []
