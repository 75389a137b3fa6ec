"""Child-process body for the test of webhooks beside a Celery worker (tests/services/).

Builds exactly what one ``openreel worker`` process runs jobs with (``worker_taker``), then
runs the job it is told to as a Celery task would, and stays alive for its dispatcher until
the parent stops it. Run like ``claim_worker.py`` (``runpy.run_path`` in a spawned process).
"""

from __future__ import annotations

from typing import Any

from openreel.config import Settings
from openreel.runtime import worker_taker


def run(settings: dict[str, Any], jobs: Any, done: Any, stop: Any) -> None:
    taker = worker_taker(Settings(**settings))
    while (job_id := jobs.get(timeout=120)) is not None:
        done.put(str(taker.take(job_id)))
    stop.wait(120)


if __name__ == "__main__":
    run(*globals()["WORKER_ARGS"])
