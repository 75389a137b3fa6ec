"""``openreel webhooks add|list|remove|rotate`` against a data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from openreel.cli import app
from openreel.storage.db import WEBHOOK_ENDPOINTS, Database

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    # The names below resolve to example addresses; only the form and DNS are checked.
    monkeypatch.setenv("OPENREEL_WEBHOOKS__ALLOW_PRIVATE", "true")
    result = runner.invoke(app, ["token", "create", "alice"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["token", "create", "bob"])
    assert result.exit_code == 0, result.output
    return tmp_path / "data"


def _invoke(*args: str) -> dict[str, object] | list[dict[str, object]]:
    result = runner.invoke(app, ["webhooks", *args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] | list[dict[str, object]] = json.loads(result.stdout)
    return parsed


def test_add_list_rotate_remove(data_dir: Path) -> None:
    added = _invoke("add", "https://127.0.0.1/hook", "--principal", "alice")
    assert isinstance(added, dict)
    assert str(added["id"]).startswith("wh_")
    assert str(added["secret"]).startswith("whsec_")
    assert added["events"] == ["video.completed", "video.failed"]
    other = _invoke("add", "https://127.0.0.1/b", "--principal", "bob", "--event", "video.failed")
    assert isinstance(other, dict)
    assert other["events"] == ["video.failed"]
    listed = _invoke("list")
    assert isinstance(listed, list)
    assert {(e["id"], e["owner"]) for e in listed} == {(added["id"], "alice"), (other["id"], "bob")}
    assert all("secret" not in e for e in listed)
    only_bob = _invoke("list", "--principal", "bob")
    assert [e["id"] for e in only_bob] == [other["id"]]  # type: ignore[index]
    rotated = _invoke("rotate", str(added["id"]))
    assert isinstance(rotated, dict)
    assert rotated["secret"] != added["secret"]
    db = Database.for_data_dir(data_dir)
    with db.read() as conn:
        stored = " ".join(conn.execute(sa.select(WEBHOOK_ENDPOINTS.c.secret)).scalars())
    db.dispose()
    for secret in (added["secret"], other["secret"], rotated["secret"]):
        assert str(secret).removeprefix("whsec_") not in stored
    result = runner.invoke(app, ["webhooks", "remove", str(added["id"])])
    assert result.exit_code == 0, result.output
    assert [e["id"] for e in _invoke("list")] == [other["id"]]  # type: ignore[index]


def test_plain_output_prints_the_secret_alone_on_stdout(data_dir: Path) -> None:
    result = runner.invoke(app, ["webhooks", "add", "https://127.0.0.1/h", "--principal", "alice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("whsec_")
    assert len(result.stdout.strip().split()) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["add", "ftp://127.0.0.1/h", "--principal", "alice"], "url must be an https://"),
        (["add", "https://127.0.0.1/h", "--principal", "carol"], "--principal"),
        (
            ["add", "https://127.0.0.1/h", "--principal", "alice", "--event", "video.started"],
            "events",
        ),
        (["remove", "wh_nothing"], "wh_nothing"),
        (["rotate", "wh_nothing"], "wh_nothing"),
    ],
)
def test_bad_input_exits_2_naming_it(data_dir: Path, args: list[str], words: str) -> None:
    result = runner.invoke(app, ["webhooks", *args])
    assert result.exit_code == 2, result.output
    assert words in result.output
    db = Database.for_data_dir(data_dir)
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(WEBHOOK_ENDPOINTS)).scalar() == 0
    db.dispose()


def test_private_targets_are_refused_without_the_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_WEBHOOKS__ALLOW_PRIVATE", "false")
    result = runner.invoke(app, ["webhooks", "add", "https://localhost/h", "--principal", "alice"])
    assert result.exit_code == 2, result.output
    assert "loopback" in result.output
