"""``openreel artists ...`` and moderation in ``openreel generate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openreel.cli import EXIT_BAD_INPUT, app
from openreel.config import Settings
from openreel.runtime import open_audit

runner = CliRunner()
STYLE_PROMPT = "a castle on a cliff in the style of Greg Rutkowski"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _generate(tmp_path: Path, prompt: str) -> tuple[int, str, Path]:
    out = tmp_path / "clip.mp4"
    args = ["generate", prompt, "-o", str(out), "--seconds", "1", "--size", "320x180"]
    result = runner.invoke(app, args)
    return result.exit_code, result.output, out


def _add(name: str, *aliases: str) -> dict[str, object]:
    args = ["artists", "add", name, "--json"]
    for alias in aliases:
        args += ["--alias", alias]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    entry: dict[str, object] = json.loads(result.stdout)
    return entry


def test_cli_generate_refuses_a_moderated_prompt_and_writes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    code, output, out = _generate(tmp_path, "a n4k3d woman in a s3x scene")
    assert code == EXIT_BAD_INPUT
    assert "refused by moderation (sexual)" in output
    assert not out.exists()


def test_cli_artists_add_refuses_style_until_allowed_then_removed(
    data_dir: Path, tmp_path: Path
) -> None:
    entry = _add("Greg Rutkowski", "Rutkowski")
    assert entry["status"] == "active"
    assert entry["aliases"] == ["Rutkowski"]
    code, output, out = _generate(tmp_path, STYLE_PROMPT)
    assert code == EXIT_BAD_INPUT
    assert "Greg Rutkowski asked not to have their style imitated" in output
    assert not out.exists()
    code, output, _ = _generate(tmp_path, "dragons, rutkowski-esque lighting")
    assert code == EXIT_BAD_INPUT
    allowed = runner.invoke(app, ["artists", "set", str(entry["id"]), "--allow-style"])
    assert allowed.exit_code == 0, allowed.output
    assert "allows style use" in allowed.stdout
    code, output, out = _generate(tmp_path, STYLE_PROMPT)
    assert code == 0, output
    assert out.is_file()
    removed = runner.invoke(app, ["artists", "remove", str(entry["id"])])
    assert removed.exit_code == 0
    again = runner.invoke(app, ["artists", "remove", str(entry["id"])])
    assert again.exit_code == EXIT_BAD_INPUT
    assert "no artist opt-out" in again.output


def test_cli_artists_list_and_approve_a_pending_request(data_dir: Path) -> None:
    from openreel.runtime import open_artists

    pending = open_artists(Settings()).request("Jane Painter", contact="jane@example.org")
    listed = runner.invoke(app, ["artists", "list", "--status", "pending", "--json"])
    assert [e["id"] for e in json.loads(listed.stdout)] == [pending.id]
    assert (
        json.loads(runner.invoke(app, ["artists", "list", "--status", "active", "--json"]).stdout)
        == []
    )
    approved = runner.invoke(app, ["artists", "set", pending.id, "--approve"])
    assert approved.exit_code == 0, approved.output
    assert "[active, style refused]" in approved.stdout
    actions = [r.action for r in open_audit(Settings()).list(limit=10)]
    assert "artist.update" in actions
    assert "artist.add" in actions


def test_cli_artists_bad_input_is_a_clear_error(data_dir: Path) -> None:
    duplicate = _add("Greg Rutkowski")
    assert duplicate["name"] == "Greg Rutkowski"
    again = runner.invoke(app, ["artists", "add", "GREG RUTKOWSKI"])
    assert again.exit_code == EXIT_BAD_INPUT
    assert "registered already" in again.output
    blank = runner.invoke(app, ["artists", "add", "   "])
    assert blank.exit_code == EXIT_BAD_INPUT
    assert "name must be a name" in blank.output
    status = runner.invoke(app, ["artists", "list", "--status", "bogus"])
    assert status.exit_code == EXIT_BAD_INPUT
    assert "'bogus'" in status.output
    unknown = runner.invoke(app, ["artists", "set", "art_nope", "--approve"])
    assert unknown.exit_code == EXIT_BAD_INPUT
    assert "art_nope" in unknown.output
