"""Fixtures for the storage tests: a migrated SQLite database in tmp_path and a frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openreel.domain import Job, VideoRequest
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore


class FakeClock:
    """A clock that moves only when told to, so timestamps and leases are exact."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.for_data_dir(tmp_path / "data")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def store(db: Database, clock: FakeClock) -> JobStore:
    return JobStore(db, clock)


@pytest.fixture
def new_job() -> Callable[..., Job]:
    """Builds a queued job; keyword arguments override Job fields, ``model`` the request's."""

    def build(owner_id: str = "usr_a", *, model: str = "openreel-sketch", **fields: object) -> Job:
        request = VideoRequest(prompt="a boat", seed=1, model=model, seconds=1.0)
        return Job(id=Job.new_id(), owner_id=owner_id, request=request, **fields)  # type: ignore[arg-type]

    return build
