"""A setting the operator mistyped stops every command with one line naming the variable as
they set it (and the entry of a JSON one), never a traceback, and never repeats a value that
may be a credential."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from openreel.cli.entry import main


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["openreel", "token", "list"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


@pytest.fixture(autouse=True)
def _data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))


def test_a_nested_setting_is_named_as_its_variable_with_the_value_received(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _run(monkeypatch, capsys, OPENREEL_UPSTREAM__MAX_SECONDS="abc")
    assert err.startswith("error: OPENREEL_UPSTREAM__MAX_SECONDS: Input should be a valid number")
    assert err.endswith("got 'abc'")


def test_an_entry_of_a_json_setting_is_named_and_its_key_kept_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = '{"name": "gpu", "url": "http://gpu.test/v1", "models": ["m"], "key": "sekrit"'
    err = _run(monkeypatch, capsys, OPENREEL_UPSTREAMS=f"[{entry}, concurrency: 0}}]")
    assert err.startswith("error: OPENREEL_UPSTREAMS cannot be read: Expecting property name")
    err = _run(monkeypatch, capsys, OPENREEL_UPSTREAMS=f'[{entry}, "concurrency": 0}}]')
    assert "OPENREEL_UPSTREAMS (entry 0: concurrency): Input should be greater" in err
    err = _run(monkeypatch, capsys, OPENREEL_UPSTREAMS=f'[{entry}, "dialect": "sglang"}}]')
    assert "OPENREEL_UPSTREAMS (entry 0): upstreams[gpu].key: a sglang server checks no" in err
    assert "sekrit" not in err
