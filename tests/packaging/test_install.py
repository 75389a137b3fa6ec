"""The package as a user installs it: the built wheel in a clean virtualenv, alone, then with
each extra.

The rest of the suite runs against the development install, which has every extra and every
dev tool; a module that a command imports at run time but that only the dev tools bring in
passes there and crashes for a user. Here the wheel goes into a virtualenv of its own (no
system site packages, no PYTHONPATH), where ``openreel generate`` and ``openreel serve`` (the
studio page and one video through the API) must work with the core dependencies alone, and
each setting that needs an extra must say which extra to install.

The extras are then added one at a time to that same virtualenv, each followed by
``openreel generate`` and a probe of the code the extra exists for, and once all are in, the
server is started again with every extra present: one virtualenv (or one server start) per
extra would cost minutes a 2-core CI machine cannot afford. ``local`` comes
before ``moderation``, whose model wheel brings transformers and torch itself, so that a
dependency ``local`` forgot to list cannot be supplied by ``moderation``. torch comes from
the pin in the extras (``torch==2.13.0``); pip's cache and configured indexes serve the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

EXTRAS = ("postgres", "celery", "s3", "veo", "local", "moderation")
"""Every user-facing extra, in the order they are added (see the module docstring)."""

NOT_FOR_USERS = {"dev"}

CLOSED = "127.0.0.1:9"
"""An address where nothing listens (the discard port): no setting below may reach a server."""

NEEDS_EXTRA: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "postgres": ({"OPENREEL_DATABASE_URL": f"postgresql+psycopg://openreel@{CLOSED}/x"}, ()),
    "celery": (
        {"OPENREEL_QUEUE": "celery", "OPENREEL_CELERY__BROKER_URL": f"redis://{CLOSED}/0"},
        (),
    ),
    "s3": ({"OPENREEL_STORAGE__BUCKET": "openreel-videos"}, ()),
    "veo": (
        {"OPENREEL_PROVIDERS__GOOGLE": "not-a-real-vertex-key"},
        ("generate", "a lighthouse", "--model", "veo/veo-3.1-fast", "--seconds", "4"),
    ),
    "local": (
        {"OPENREEL_LOCAL__ENABLED": "true"},
        ("generate", "a lighthouse", "--model", "wan2.1-t2v-1.3b", "--seconds", "1", "--json"),
    ),
    "moderation": ({"OPENREEL_MODERATION__SEMANTIC": "on"}, ()),
}
"""Per extra: a setting that needs it, and the command that meets it first (``serve`` when
empty). Without the extra, that command must stop with one line naming the extra."""

PROBES: dict[str, str] = {
    "postgres": (
        "from openreel.storage.db import Database\n"
        f"Database('postgresql+psycopg://openreel@{CLOSED}/x').dispose()"
    ),
    "celery": (
        "from openreel.config import CeleryConfig\n"
        "from openreel.queue.celery import celery_app\n"
        f"celery_app(CeleryConfig(broker_url='redis://{CLOSED}/0'))"
    ),
    "s3": (
        "from openreel.config import StorageConfig\n"
        "from openreel.storage.objects import S3ObjectStore\n"
        f"S3ObjectStore(StorageConfig(bucket='videos', endpoint_url='http://{CLOSED}'))"
    ),
    "veo": (
        "from openreel.backends.hosted.veo import VeoClient\n"
        "VeoClient(api_key='not-a-real-vertex-key')"
    ),
    "local": (
        "from openreel.backends.diffusers.loader import import_runtime\n"
        "assert import_runtime().torch.__version__.startswith('2.13.0')"
    ),
    "moderation": (
        "from openreel.trust.moderation.semantic import semantic_available\n"
        "assert semantic_available()"
    ),
}
"""Per extra: Python run in the virtualenv that builds what the extra is for, offline."""

LIBRARY_NOISE = ("Loading weights", "it/s]", "loss_type", "[transformers]", "[diffusers]")
"""What a model library writes to a terminal when left alone (see openreel.logs)."""


@dataclass
class Install:
    """The virtualenv, the wheel, and what has been installed so far (with timings)."""

    venv: Path
    wheel: Path
    work: Path
    extras: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def pip(self, *requirements: str) -> float:
        """Installs ``requirements`` with the virtualenv's pip; returns the seconds it took."""
        started = time.monotonic()
        done = subprocess.run(
            [str(self.python), "-m", "pip", "install", "--quiet", *requirements],
            check=False,
            env=clean_env(),
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return time.monotonic() - started

    def add_extra(self, extra: str) -> None:
        """Installs ``openreel[extra]`` from the same wheel, timing it."""
        self.seconds[extra] = self.pip(f"openreel[{extra}] @ {self.wheel.as_uri()}")
        self.extras.append(extra)
        print(f"install openreel[{extra}]: {self.seconds[extra]:.1f} s")

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``openreel ARGS`` from the virtualenv's script, on a data folder of its own."""
        return subprocess.run(
            [str(self.venv / "bin" / "openreel"), *args],
            check=False,
            env=clean_env(self.work / "data") | (env or {}),
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python_code(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), "-c", code],
            check=False,
            env=clean_env(self.work / "data"),
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=300,
        )


def clean_env(data_dir: Path | None = None) -> dict[str, str]:
    """This process's environment without what would reach outside the virtualenv.

    PYTHONPATH would put the source tree ahead of the installed package, and OPENREEL_*
    settings of the test run would change what is being tested.
    """
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("OPENREEL_")
    }
    env |= {
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # tiny models on a shared machine
        # The semantic check costs each process seconds of start-up; the moderation extra's
        # own step turns it on.
        "OPENREEL_MODERATION__SEMANTIC": "off",
    }
    if data_dir is not None:
        env["OPENREEL_DATA_DIR"] = str(data_dir)
    return env


def build_wheel(into: Path) -> Path:
    """The project's wheel, built by its own build backend (hatchling) in isolation."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(into), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = into.glob("openreel-*.whl")
    return wheel


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """A clean virtualenv with the wheel and its core dependencies only."""
    root = tmp_path_factory.mktemp("install")
    wheel = build_wheel(root / "dist")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    work = root / "work"
    work.mkdir()
    made = Install(venv, wheel, work)
    made.seconds["core"] = made.pip(str(wheel))
    print(f"install openreel (no extras): {made.seconds['core']:.1f} s")
    where = made.python_code("import openreel; print(openreel.__file__)")
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    return made


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    url: str
    token: str
    log: Path


@contextmanager
def serving(install: Install, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``openreel serve`` from the virtualenv on a free port, with an admin token for it."""
    minted = install.run("token", "create", "root", "--admin", env=env)
    assert minted.returncode == 0, minted.stdout + minted.stderr
    port = free_port()
    log = install.work / f"serve-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                str(install.venv / "bin" / "openreel"),
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=clean_env(install.work / "data") | (env or {}),
            cwd=install.work,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, f"serve exited: {log.read_text()}"
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not come up: {log.read_text()}"
            time.sleep(0.2)
        yield Served(url, minted.stdout.strip(), log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_studio_and_one_video(served: Served) -> None:
    """The studio page and its script load, and one video is made through the API."""
    page = httpx.get(served.url + "/", timeout=30)
    assert page.status_code == 200
    assert "OpenReel Studio" in page.text
    assert httpx.get(served.url + "/studio/app.js", timeout=30).status_code == 200
    with httpx.Client(
        base_url=served.url + "/v1",
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=60,
    ) as api:
        created = api.post(
            "/videos", json={"prompt": "a red ball on a beach", "seconds": 1, "size": "160x90"}
        )
        assert created.status_code == 200, created.text
        video_id = created.json()["id"]
        deadline = time.monotonic() + 180
        while (video := api.get(f"/videos/{video_id}").json())["status"] != "completed":
            assert video["status"] in ("queued", "in_progress"), video
            assert time.monotonic() < deadline, video
            time.sleep(0.25)
        content = api.get(f"/videos/{video_id}/content")
        assert content.status_code == 200
        assert content.content[4:8] == b"ftyp"  # an MP4
    log = served.log.read_text(errors="replace")
    assert "Traceback" not in log, log


def check_generate(install: Install) -> None:
    """``openreel generate`` writes a one-second video and reports it as JSON."""
    target = install.work / f"generate-{len(install.extras)}.mp4"
    done = install.run(
        "generate", "a lighthouse at dusk", "--seconds", "1", "--size", "160x90", "--fps", "8",
        "-o", str(target), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["frames"] == 8
    assert target.read_bytes()[4:8] == b"ftyp"


def test_install_every_user_extra_is_tested() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(extras) - NOT_FOR_USERS == set(EXTRAS) == set(NEEDS_EXTRA) == set(PROBES)


def test_install_wheel_alone_generates_and_serves(install: Install) -> None:
    assert install.extras == [], "runs before any extra is added (file order)"
    check_generate(install)
    with serving(install) as served:
        check_studio_and_one_video(served)


@pytest.mark.parametrize("extra", EXTRAS)
def test_install_wheel_alone_names_the_extra_a_setting_needs(install: Install, extra: str) -> None:
    assert install.extras == [], "runs before any extra is added (file order)"
    env, command = NEEDS_EXTRA[extra]
    done = install.run(*(command or ("serve", "--port", str(free_port()))), env=env, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"pip install 'openreel[{extra}]'" in output, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("extra", EXTRAS)
def test_install_with_each_extra_generates_and_serves(
    install: Install, extra: str, request: pytest.FixtureRequest
) -> None:
    install.add_extra(extra)
    probe = install.python_code(PROBES[extra])
    assert probe.returncode == 0, probe.stdout + probe.stderr
    check_generate(install)
    if extra == "local":
        check_quiet_local_model(install, request.getfixturevalue("tiny_catalogue"))
    if extra == EXTRAS[-1]:
        # One serve round with every extra present (and the last one's setting on): an extra
        # that breaks the server for everyone shows here, at the cost of one start-up rather
        # than one per extra.
        with serving(install, dict(NEEDS_EXTRA[extra][0])) as served:
            check_studio_and_one_video(served)
        log = served.log.read_text(errors="replace")
        assert not [noise for noise in LIBRARY_NOISE if noise in log], log


def check_quiet_local_model(install: Install, catalogue: Path) -> None:
    """A local model's ``generate --json`` prints its JSON and nothing on stderr."""
    target = install.work / "local.mp4"
    done = install.run(
        "generate", "a lighthouse", "--model", "tiny-wan", "--seconds", "1", "--size", "64x64",
        "--fps", "8", "-o", str(target), "--json",
        env={"OPENREEL_LOCAL__CATALOGUE": str(catalogue), "OPENREEL_LOCAL__DEVICE": "cpu"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["request"]["model"] == "tiny-wan"
    assert done.stderr == ""
