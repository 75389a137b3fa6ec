"""``openreel serve`` with an unusable artifact bucket: a one-line error naming the setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from openreel.cli import app

if TYPE_CHECKING:
    from tests.support.s3 import S3Server

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("OPENREEL_STORAGE__REGION", "us-east-1")
    monkeypatch.setenv("OPENREEL_STORAGE__ACCESS_KEY_ID", "cli-test-key-id")
    monkeypatch.setenv("OPENREEL_STORAGE__SECRET_ACCESS_KEY", "cli-test-secret-value")


def _output(result: object) -> str:
    return " ".join(str(getattr(result, "output", "")).split())


def test_cli_serve_refuses_an_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.s3 import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("OPENREEL_STORAGE__BUCKET", "some-bucket")
    monkeypatch.setenv("OPENREEL_STORAGE__ENDPOINT_URL", endpoint)
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code != 0
    output = _output(result)
    assert f"OPENREEL_STORAGE__ENDPOINT_URL={endpoint!r}" in output, output
    assert "OPENREEL_STORAGE__BUCKET='some-bucket'" in output, output
    assert "Traceback" not in output
    assert "cli-test-secret-value" not in output


def test_cli_serve_refuses_a_missing_bucket(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_STORAGE__BUCKET", "never-created")
    monkeypatch.setenv("OPENREEL_STORAGE__ENDPOINT_URL", s3_server.endpoint)
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code != 0
    output = _output(result)
    assert "OPENREEL_STORAGE__BUCKET='never-created'" in output, output
    assert "Traceback" not in output
