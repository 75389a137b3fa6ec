"""``openreel generate`` signs every video; ``openreel verify`` reads the credentials back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openreel.cli import app
from openreel.config import Settings
from openreel.media.c2pa import ProvenanceClaim, sign_mp4
from openreel.media.encode import EncoderSettings, encode_video
from openreel.runtime import signing

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _generate(out: Path, *extra: str) -> None:
    args = ["generate", "a small boat", "--seconds", "1", "--size", "96x64", "--seed", "5"]
    result = runner.invoke(app, [*args, *extra, "-o", str(out)])
    assert result.exit_code == 0, result.output


def test_generated_video_verifies_trusted_with_what_made_it(data_dir: Path, tmp_path: Path) -> None:
    video = tmp_path / "boat.mp4"
    _generate(video)
    assert (data_dir / "keys").is_dir()
    result = runner.invoke(app, ["verify", str(video), "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["status"] == "Trusted"
    assert verdict["digital_source_type"].endswith("algorithmicMedia")
    assert (verdict["model"], verdict["backend"], verdict["seed"]) == (
        "openreel-sketch",
        "sketch",
        5,
    )
    assert b"a small boat" not in video.read_bytes()  # only the prompt's hash is published


def test_a_flipped_byte_reads_invalid(data_dir: Path, tmp_path: Path) -> None:
    video = tmp_path / "boat.mp4"
    _generate(video)
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF
    video.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(video)])
    assert result.exit_code == 1
    assert "Invalid" in result.stdout


def test_another_instance_video_is_valid_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "one"))
    video = tmp_path / "boat.mp4"
    _generate(video)
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "two"))
    result = runner.invoke(app, ["verify", str(video)])
    assert result.exit_code == 0, result.output
    assert "Valid" in result.stdout
    assert "Trusted" not in result.stdout


def test_unsigned_and_missing_files(data_dir: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    frame = bytes(96 * 64 * 3)
    frames = [np.frombuffer(frame, np.uint8).reshape(64, 96, 3).copy() for _ in range(4)]
    encode_video(frames, plain, width=96, height=64, fps=4, settings=EncoderSettings())
    result = runner.invoke(app, ["verify", str(plain)])
    assert result.exit_code == 1
    assert "Missing" in result.stdout
    gone = runner.invoke(app, ["verify", str(tmp_path / "nope.mp4")])
    assert gone.exit_code == 2
    assert "nope.mp4" in gone.stderr


def test_signing_can_be_turned_off(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREEL_PROVENANCE__ENABLED", "false")
    video = tmp_path / "boat.mp4"
    _generate(video)
    assert runner.invoke(app, ["verify", str(video)]).exit_code == 1
    monkeypatch.setenv("OPENREEL_PROVENANCE__ENABLED", "true")
    monkeypatch.setenv("OPENREEL_PROVENANCE__CHAIN", str(tmp_path / "chain.pem"))
    broken = runner.invoke(app, ["generate", "a boat", "-o", str(tmp_path / "x.mp4")])
    assert broken.exit_code == 1
    assert "OPENREEL_PROVENANCE__KEY" in broken.stderr


def test_an_edit_says_what_it_was_made_from(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "video_source.mp4"
    _generate(source)
    edited = tmp_path / "edited.mp4"
    frames = [np.full((64, 96, 3), 40, np.uint8)] * 4
    encode_video(frames, edited, width=96, height=64, fps=8)
    provenance = signing(Settings())
    assert provenance is not None
    claim = ProvenanceClaim(
        title="edited.mp4",
        digital_source_type="algorithmicMedia",
        model="openreel-sketch",
        backend="sketch",
        seed=5,
        prompt_sha256="0" * 64,
        settings={"width": 96, "height": 64, "fps": 8, "seconds": 0.5},
        parent_title="video_source.mp4",
    )
    sign_mp4(edited, claim, provenance.identity, parent=source)
    result = runner.invoke(app, ["verify", str(edited)])
    assert result.exit_code == 0, result.output
    assert "Trusted" in result.stdout
    assert "source type: algorithmicMedia" in result.stdout
    assert "made from: video_source.mp4 (with credentials of its own)" in result.stdout
