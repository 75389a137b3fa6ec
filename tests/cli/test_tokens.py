"""``openreel token create|list|revoke|rotate`` against a data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openreel.cli import app
from openreel.config import Settings
from openreel.errors import AuthenticationError
from openreel.runtime import open_auth

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _create(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["token", "create", *args, "--json"])
    assert result.exit_code == 0, result.output
    issued: dict[str, object] = json.loads(result.stdout)
    return issued


def test_cli_token_create_list_revoke(data_dir: Path) -> None:
    issued = _create("alice", "--scope", "videos:read", "--days", "5", "--label", "ci")
    assert issued["scopes"] == ["videos:read"]
    assert issued["name"] == "ci"
    token = str(issued["token"])
    auth = open_auth(Settings())
    assert auth.authenticate(f"Bearer {token}").name == "alice"

    listed = runner.invoke(app, ["token", "list", "alice", "--json"])
    assert listed.exit_code == 0, listed.output
    assert token not in listed.stdout
    assert [t["id"] for t in json.loads(listed.stdout)] == [issued["id"]]
    table = runner.invoke(app, ["token", "list"])
    assert table.exit_code == 0
    assert str(issued["id"]) in table.stdout

    revoked = runner.invoke(app, ["token", "revoke", str(issued["id"])])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(AuthenticationError):
        auth.authenticate(f"Bearer {token}")


def test_cli_token_rotate(data_dir: Path) -> None:
    old = _create("bob")
    result = runner.invoke(app, ["token", "rotate", str(old["id"]), "--json"])
    assert result.exit_code == 0, result.output
    new = json.loads(result.stdout)
    assert new["token"] != old["token"]
    auth = open_auth(Settings())
    assert auth.authenticate(f"Bearer {new['token']}").name == "bob"
    with pytest.raises(AuthenticationError):
        auth.authenticate(f"Bearer {old['token']}")


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["create", "alice", "--scope", "root"], "'root'"),
        (["create", "alice", "--scope", "admin"], "admin principals"),
        (["create", "alice", "--days", "1000"], "1000"),
        (["revoke", "tok_missing"], "tok_missing"),
        (["rotate", "tok_missing"], "tok_missing"),
        (["list", "nobody"], "nobody"),
    ],
)
def test_cli_token_bad_input_exits_2_and_names_the_value(
    data_dir: Path, args: list[str], shown: str
) -> None:
    result = runner.invoke(app, ["token", *args])
    assert result.exit_code == 2, result.output
    assert shown in result.stderr
    assert "Traceback" not in result.output
    assert open_auth(Settings()).tokens() == []  # nothing was made


def test_cli_token_days_policy_comes_from_settings(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_TOKEN_MAX_DAYS", "10")
    monkeypatch.setenv("OPENREEL_TOKEN_DAYS", "2")
    issued = _create("carol")
    assert float(str(issued["expires_at"])) - float(str(issued["created_at"])) == pytest.approx(
        2 * 86400, abs=2
    )
    result = runner.invoke(app, ["token", "create", "carol", "--days", "11"])
    assert result.exit_code == 2
    monkeypatch.setenv("OPENREEL_TOKEN_DAYS", "20")
    result = runner.invoke(app, ["token", "create", "carol"])
    assert result.exit_code == 1
    assert "OPENREEL_TOKEN_DAYS" in result.stderr
