"""Prompt retention: full, hashed or dropped once a job ends, in the ending transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from openreel.domain import Job, JobError, VideoRequest
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.prompts import DROPPED, scrubbed

from .conftest import FakeClock

NewJob = Callable[..., Job]
PROMPT = "my neighbour's red cat asleep on the porch"


def _job(owner: str = "usr_a", negative: str = "") -> Job:
    request = VideoRequest(prompt=PROMPT, negative_prompt=negative, seed=1, seconds=1.0)
    return Job(id=Job.new_id(), owner_id=owner, request=request)


def _complete(store: JobStore, job: Job) -> None:
    claimed = store.claim("w", lease_seconds=30)
    assert claimed is not None
    assert claimed.id == job.id
    store.complete(
        job.id,
        "w",
        artifacts={"video": f"{job.id}/video.mp4"},
        interpretation={},
        total_seconds=1.0,
        expires_at=None,
    )


def test_prompts_full_keeps_the_prompt(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock, prompts="full")
    job = store.create(_job())
    _complete(store, job)
    assert store.get(job.id).request.prompt == PROMPT


def test_prompts_hashed_keeps_the_sha256_after_completion(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock, prompts="hashed")
    job = store.create(_job(negative="blurry faces"))
    # The worker needs the prompt: it is kept while the job waits and runs.
    assert store.get(job.id).request.prompt == PROMPT
    _complete(store, job)
    kept = store.get(job.id).request
    assert kept.prompt == "sha256:" + hashlib.sha256(PROMPT.encode()).hexdigest()
    assert kept.negative_prompt.startswith("sha256:")
    with db.read() as conn:
        text = conn.exec_driver_sql("SELECT request FROM jobs").scalar_one()
    assert "neighbour" not in text
    assert "blurry" not in text


def test_prompts_dropped_on_failure_and_cancellation(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock, prompts="dropped")
    failed = store.create(_job())
    assert store.claim("w", lease_seconds=30) is not None
    store.fail(failed.id, "w", JobError(code="backend_error", message="boom"))
    cancelled = store.create(_job())
    store.request_cancel(cancelled.id)
    waiting = store.create(_job())
    assert store.get(failed.id).request.prompt == DROPPED
    assert store.get(cancelled.id).request.prompt == DROPPED
    assert store.get(waiting.id).request.prompt == PROMPT  # still queued: the worker needs it


def test_prompts_switching_policy_sweeps_rows_kept_before(db: Database, clock: FakeClock) -> None:
    before = JobStore(db, clock, prompts="full")
    old = before.create(_job())
    _complete(before, old)
    after = JobStore(db, clock, prompts="hashed")
    new = after.create(_job())
    _complete(after, new)  # the next job-ending transaction sweeps the old row too
    assert after.get(old.id).request.prompt.startswith("sha256:")
    assert after.get(new.id).request.prompt.startswith("sha256:")


def test_prompts_scrubbed_values() -> None:
    assert scrubbed("", "hashed") == ""
    assert scrubbed("x", "full") == "x"
    assert scrubbed("x", "dropped") == DROPPED
    assert scrubbed("x", "hashed") == "sha256:" + hashlib.sha256(b"x").hexdigest()


def test_prompts_unknown_policy_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="full, hashed or dropped"):
        JobStore(db, prompts="forget")  # type: ignore[arg-type]
