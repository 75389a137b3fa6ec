"""``openreel audit verify|list``: checks the chain and its anchor from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from openreel.cli import app
from openreel.storage.db import AUDIT, Database

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    for name in ("alice", "bob", "carol"):
        assert runner.invoke(app, ["token", "create", name]).exit_code == 0
    return tmp_path / "data"


def _sql(data_dir: Path, statement: sa.Executable) -> None:
    db = Database.for_data_dir(data_dir)
    try:
        with db.begin() as conn:
            conn.execute(statement)
    finally:
        db.dispose()


def test_cli_audit_verify_ok_and_moves_the_anchor(data_dir: Path) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 rows checked (no anchor yet); anchor now at row 3" in result.stdout
    anchor = json.loads((data_dir / "audit-head.json").read_text())
    assert anchor["seq"] == 3
    again = runner.invoke(app, ["audit", "verify"])
    assert "anchor at row 3" in again.stdout


def test_cli_audit_verify_finds_an_edit(data_dir: Path) -> None:
    _sql(data_dir, sa.update(AUDIT).where(AUDIT.c.seq == 2).values(action="token.revoked"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "tampered" in result.stderr
    assert "2" in result.stderr
    assert not (data_dir / "audit-head.json").exists()  # a bad check never moves the anchor


def test_cli_audit_verify_finds_a_deleted_tail_only_with_the_anchor(data_dir: Path) -> None:
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    _sql(data_dir, sa.delete(AUDIT).where(AUDIT.c.seq == 3))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "3" in result.stderr
    elsewhere = data_dir.parent / "fresh-anchor.json"
    unanchored = runner.invoke(app, ["audit", "verify", "--anchor", str(elsewhere)])
    assert unanchored.exit_code == 0  # the chain itself is intact: only an anchor can tell


def test_cli_audit_list(data_dir: Path) -> None:
    result = runner.invoke(app, ["audit", "list", "--json", "--action", "token.created"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["action"] for r in rows] == ["token.created"] * 3
    table = runner.invoke(app, ["audit", "list", "--limit", "2"])
    assert table.exit_code == 0
    assert "token.created" in table.stdout


def test_cli_audit_unreadable_anchor_is_a_clear_error(data_dir: Path) -> None:
    (data_dir / "audit-head.json").write_text("{not json")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit-head.json" in result.stderr
    assert "Traceback" not in result.output
