"""Model libraries' chatter stays in the log: no loading bar or library warning reaches the
terminal of ``openreel serve`` or ``openreel generate --json`` (openreel.logs).

Each check runs in a subprocess: the libraries' logging and progress-bar switches are
process-wide, and the rest of the test run must keep theirs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOISE = ("Loading weights", "it/s]", "loss_type", "[transformers]", "[diffusers]")
"""What transformers and diffusers write to a terminal while loading a model."""


GENERATE = (sys.executable, "-m", "openreel", "generate", "a red ball on a beach")


def _quiet_env(**settings: str) -> dict[str, str]:
    return os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"} | settings


def _noise_in(text: str) -> list[str]:
    return [noise for noise in NOISE if noise in text]


@pytest.mark.slow  # a process importing transformers and diffusers
def test_library_records_are_relayed_to_our_log_warnings_as_info(tmp_path: Path) -> None:
    code = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")
from openreel.logs import quiet_model_libraries
quiet_model_libraries()
quiet_model_libraries()  # a second call changes nothing
import diffusers.utils.logging as diffusers_logging
import transformers.utils.logging as transformers_logging
transformers_logging.get_logger("transformers.modeling_utils").warning("`loss_type=None` odd")
diffusers_logging.get_logger("diffusers.pipelines").warning("a diffusers warning")
logging.getLogger("huggingface_hub.file_download").error("a hub error")
for _ in transformers_logging.tqdm(range(3), desc="Loading weights"):
    pass
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_quiet_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "INFO openreel.libraries.transformers.modeling_utils `loss_type=None` odd",
        "INFO openreel.libraries.diffusers.pipelines a diffusers warning",
        "ERROR openreel.libraries.huggingface_hub.file_download a hub error",
    ]


def _generate(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "video.mp4"
    return subprocess.run(
        [*GENERATE, "--seconds", "1", "--fps", "8", "-o", str(target), "--json", *args],
        env=_quiet_env(OPENREEL_DATA_DIR=str(tmp_path / "data"), **settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_moderation_model_loads_without_a_word_on_the_terminal(tmp_path: Path) -> None:
    done = _generate(tmp_path, "--size", "160x90", OPENREEL_MODERATION__SEMANTIC="on")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["frames"] == 8
    assert _noise_in(done.stdout + done.stderr) == [], done.stderr
    assert done.stderr == ""


@pytest.mark.slow
def test_local_model_generate_json_prints_only_its_json(
    tmp_path: Path, tiny_catalogue: Path
) -> None:
    done = _generate(
        tmp_path,
        "--model",
        "tiny-wan",
        "--size",
        "64x64",
        OPENREEL_LOCAL__CATALOGUE=str(tiny_catalogue),
        OPENREEL_LOCAL__DEVICE="cpu",
        OPENREEL_MODERATION__SEMANTIC="off",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["request"]["model"] == "tiny-wan"
    assert _noise_in(done.stdout + done.stderr) == [], done.stderr
    assert done.stderr == ""
