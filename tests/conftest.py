"""Suite-wide hooks and the tiny local-model fixtures.

GPU tests (``@pytest.mark.gpu``) are deselected, not skipped, unless ``RUN_GPU=1``: a
skipped test reads as green in a summary, and a GPU check that never ran must not.

The tier markers (``postgres``, ``redis``, ``s3``, ``browser``, ``server``) are put on each
test from the fixtures it uses, so ``make test-fast`` can leave out everything that starts a
server or a browser without any test file saying so (and a new test is tiered the day it is
written).

The PostgreSQL server is started once, on first use, for the suites that run on it too;
so is the S3-compatible server (moto) for the artifact-bucket tests.

The tiny diffusers pipelines are built once per test process (session scope): importing
torch and diffusers is most of their cost, so every test that uses them shares one build.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openreel.backends.registry import BackendRegistry

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer
    from tests.support.redis_server import RedisServer
    from tests.support.s3 import S3Server


TIER_FIXTURES: dict[str, frozenset[str]] = {
    "postgres": frozenset({"postgres"}),
    "redis": frozenset({"redis_server"}),
    "s3": frozenset({"s3_server"}),
    "browser": frozenset({"browser", "playwright_driver"}),
    "server": frozenset({"live_server", "server_launcher", "studio_server"}),
    # A pytest run inside the test, in a process of its own: seconds each.
    "slow": frozenset({"pytester"}),
}
"""Each marker and the fixtures that start what it names (a test using any gets it)."""

POSTGRES_PARAM = "postgresql"
"""The parameter value of suites that run on SQLite and again on PostgreSQL (they ask for
the ``postgres`` fixture by name at run time, so only the parameter shows it)."""


def tiers_of(item: pytest.Item) -> set[str]:
    """The tier markers ``item`` needs, from its fixtures and its parameters."""
    used = set(getattr(item, "fixturenames", ()))
    tiers = {tier for tier, fixtures in TIER_FIXTURES.items() if used & fixtures}
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    if any(isinstance(value, str) and value == POSTGRES_PARAM for value in params):
        tiers.add("postgres")
    return tiers


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks each test with its tiers; deselects ``gpu`` tests unless RUN_GPU=1."""
    for item in items:
        for tier in sorted(tiers_of(item)):
            if item.get_closest_marker(tier) is None:
                item.add_marker(tier)
    if os.environ.get("RUN_GPU") == "1":
        return
    keep = [item for item in items if item.get_closest_marker("gpu") is None]
    dropped = [item for item in items if item.get_closest_marker("gpu") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test run's own, started on first use
    (tests/support/postgres.py)."""
    # Imported here: tests that run pytest inside pytest load this file where ``tests`` is not
    # importable.
    from tests.support.postgres import PostgresServer

    # Not under pytest's temp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="openreel-pg-"))
    server = PostgresServer(root)
    try:
        server.start()
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of the test run's own, started on first use
    (tests/support/redis_server.py)."""
    from tests.support.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server of the test run's own (moto, tests/support/s3.py), started on
    first use."""
    from tests.support.s3 import S3Server

    root = Path(tempfile.mkdtemp(prefix="openreel-s3-"))
    server = S3Server(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()  # whatever happened, no server outlives the run
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket on the test run's S3 server."""
    return s3_server.bucket()


@pytest.fixture(scope="session")
def tiny_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A catalogue of tiny random LTX and Wan pipelines saved in a temp folder (offline)."""
    import torch
    from tests.support.tiny_diffusers import write_catalogue

    # Models this small gain nothing from a second thread, and on a busy 2-core machine
    # torch's threads spin against each other: one thread is much faster there.
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield write_catalogue(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_registry(tiny_catalogue: Path) -> BackendRegistry:
    """The real registry with local models enabled on the tiny catalogue, on the CPU."""
    from openreel.backends.providers import build_registry
    from openreel.config import LocalConfig, Settings

    return build_registry(Settings(local=LocalConfig(catalogue=tiny_catalogue, device="cpu")))
