"""Fixtures the embedded-queue tests share: a store on a fresh SQLite database, and a list
of started queues that are all stopped at teardown, even when the test fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openreel.queue.embedded import EmbeddedQueue
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    yield JobStore(db)
    db.dispose()


@pytest.fixture
def queues() -> Iterator[list[EmbeddedQueue]]:
    """Queues started by a test; all stopped at teardown even when the test fails."""
    started: list[EmbeddedQueue] = []
    yield started
    for queue in started:
        queue.stop(5)
