"""Child-process body for the multi-process claim test in test_jobs.py.

Run with ``runpy.run_path(..., init_globals={"CLAIM_ARGS": (...)}, run_name="__main__")`` in
a spawned process: test modules are not importable by name under ``--import-mode=importlib``,
so the child runs this file instead of a function from the test module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openreel.storage.db import Database
from openreel.storage.jobs import JobStore


def claim_all(url: str, worker: str, out: str, start: Any) -> None:
    """Claims until nothing is left, then writes the claimed ids to ``out``, one per line.

    ``start`` is a multiprocessing barrier shared with the other children and the test, so
    every child starts claiming at the same moment.
    """
    db = Database(url)
    store = JobStore(db)
    db.current_revision()  # connect before the barrier
    start.wait(60)
    claimed: list[str] = []
    while (job := store.claim(worker, lease_seconds=600)) is not None:
        claimed.append(job.id)
    db.dispose()
    Path(out).write_text("\n".join(claimed))


if __name__ == "__main__":
    claim_all(*globals()["CLAIM_ARGS"])
