"""The ``openreel`` command line as a person uses it: results, bad input, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from openreel.cli import app
from openreel.media.probe import iter_frames, probe

runner = CliRunner()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # generate signs with the instance identity of the data folder: keep it out of the
    # repository and out of the folders the tests inspect.
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path_factory.mktemp("data")))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cli_generate_json_reports_the_result(tmp_path: Path) -> None:
    out = tmp_path / "boat.mp4"
    result = runner.invoke(
        app,
        [
            "generate",
            "two sailboats on a lake at twilight",
            "-o",
            str(out),
            "--seconds",
            "1.5",
            "--size",
            "160x96",
            "--fps",
            "12",
            "--seed",
            "42",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["request"]["seed"] == 42
    assert data["frames"] == 18
    assert data["interpretation"]["plan"]["time_of_day"] == "dusk"
    assert data["interpretation"]["plan"]["subjects"][0]["kind"] == "sailboat"
    info = probe(out)
    assert (info.width, info.height, info.frames, info.codec) == (160, 96, 18, "h264")
    assert _files(tmp_path) == ["boat.mp4"]


def test_cli_generate_previews_writes_thumbnail_and_spritesheet(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = runner.invoke(
        app,
        [
            "generate",
            "a castle in the mountains",
            "-o",
            str(out),
            "--seconds",
            "1",
            "--size",
            "128x72",
            "--previews",
        ],
    )
    assert result.exit_code == 0, result.output
    assert _files(tmp_path) == ["clip.mp4", "clip.spritesheet.jpg", "clip.thumbnail.webp"]
    assert (tmp_path / "clip.thumbnail.webp").read_bytes()[8:12] == b"WEBP"


def test_cli_same_seed_same_bytes(tmp_path: Path) -> None:
    args = [
        "generate",
        "a rocket over the desert at dawn",
        "--seconds",
        "1",
        "--size",
        "128x72",
        "--seed",
        "9",
    ]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "a.mp4")]).exit_code == 0
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "b.mp4")]).exit_code == 0
    # The frames are identical; the files differ only in their signed manifests (each has
    # its own signing time and instance id).
    frames_a = list(iter_frames(tmp_path / "a.mp4"))
    frames_b = list(iter_frames(tmp_path / "b.mp4"))
    assert len(frames_a) == len(frames_b) == 24
    assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b, strict=True))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["", "--seconds", "1"], "prompt must not be empty"),
        (["   ", "--seconds", "1"], "prompt must not be empty"),
        (["x" * 4001], "prompt must be at most 4000 characters; got 4001"),
        (["a boat", "--seconds", "0"], "seconds must be greater than 0; got 0.0"),
        (["a boat", "--seconds", "-3"], "seconds must be greater than 0; got -3.0"),
        (
            ["a boat", "--seconds", "61"],
            "seconds must be at most 60 for model openreel-sketch; got 61.0",
        ),
        (["a boat", "--size", "1921x1080"], "size width must be even"),
        (["a boat", "--size", "32x32"], "'32x32'"),
        (["a boat", "--size", "4000x2000"], "'4000x2000'"),
        (
            ["a boat", "--size", "big"],
            "size must look like WIDTHxHEIGHT, e.g. 1920x1080; got 'big'",
        ),
        (["a boat", "--fps", "0"], "fps must be a whole number from 1 to 60; got 0"),
        (["a boat", "--fps", "61"], "fps must be a whole number from 1 to 60; got 61"),
        (
            ["a boat", "--model", "sora-9"],
            "model must be one of the models served here (openreel-sketch); got 'sora-9'",
        ),
        (["a boat", "--seed", "-1"], "seed must be a whole number from 0 to 4294967295; got -1"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_no_file(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "x.mp4"
    result = runner.invoke(app, ["generate", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert _files(tmp_path) == []


def test_cli_output_in_missing_folder_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x.mp4"
    result = runner.invoke(
        app, ["generate", "a boat", "--seconds", "1", "--size", "64x64", "-o", str(target)]
    )
    assert result.exit_code == 2
    assert "output" in result.stderr
    assert str(target) in result.stderr
    assert _files(tmp_path) == []


def test_cli_output_that_is_a_folder_or_under_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "dir.mp4").mkdir()
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "dir.mp4", tmp_path / "file" / "x.mp4"):
        result = runner.invoke(
            app, ["generate", "a boat", "--seconds", "1", "--size", "64x64", "-o", str(target)]
        )
        assert result.exit_code == 2, result.output
        assert str(target) in result.stderr
    assert _files(tmp_path) == ["dir.mp4", "file"]


def test_cli_models_lists_the_sketch_engine() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows[0]["id"] == "openreel-sketch"
    assert rows[0]["capabilities"]["max_seconds"] == 60


def _cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = os.environ | {"PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "openreel", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_real_process_bad_input_has_no_traceback(tmp_path: Path) -> None:
    proc = _cli("generate", "a boat", "--fps", "0", cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == "error: fps must be a whole number from 1 to 60; got 0"
    assert out == ""


@pytest.mark.slow
def test_cli_ctrl_c_during_render_leaves_no_partial_file(tmp_path: Path) -> None:
    # A child inherits an ignored SIGINT (a suite started in the background, nohup) but not
    # a handler: with one set here the child starts with Ctrl-C's default, as in a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = _cli(
            "generate",
            "a storm over the city at night",
            "--seconds",
            "60",
            "--size",
            "640x360",
            "-o",
            "long.mp4",
            cwd=tmp_path,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".part.mp4") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "render never started"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "cancelled; no file was written" in err
    assert "Traceback" not in err
    assert _files(tmp_path) == []


@pytest.mark.slow
def test_cli_default_video_is_ten_seconds_of_1080p24_h264_faststart(tmp_path: Path) -> None:
    proc = _cli(
        "generate",
        "a lighthouse on a stormy coast at dusk, slow push-in",
        "-o",
        "lighthouse.mp4",
        cwd=tmp_path,
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "understood:" in err
    assert "lighthouse" in err
    assert "dusk" in err
    assert "seed:" in err
    assert "lighthouse.mp4" in out
    info = probe(tmp_path / "lighthouse.mp4")
    assert (info.width, info.height, info.fps, info.frames) == (1920, 1080, 24.0, 240)
    assert info.duration == pytest.approx(10.0)
    assert (info.codec, info.pix_fmt, info.faststart) == ("h264", "yuv420p", True)


def test_cli_audio_switch(tmp_path: Path) -> None:
    base = ["generate", "rain on a lake", "--seconds", "1", "--size", "160x96", "--fps", "8"]
    loud, quiet = tmp_path / "loud.mp4", tmp_path / "quiet.mp4"
    for out, switch in ((loud, []), (quiet, ["--no-audio"])):
        result = runner.invoke(app, [*base, *switch, "-o", str(out), "--seed", "1", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["request"]["audio"] is (out == loud)
    with av.open(str(loud)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    with av.open(str(quiet)) as container:
        assert not container.streams.audio
