"""The Celery queue's parts in one process: the taker's claim rules, the app's settings, and
dispatch into a real Redis (the session's redis-server). The multi-process behaviour (worker
processes, kill -9, cancel across processes) is tested in tests/e2e/test_scale.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
from pydantic import SecretStr
from tests.support.clock import Clock

from openreel.config import CeleryConfig, Settings
from openreel.domain import Job, JobError, JobStatus, VideoRequest
from openreel.errors import ConfigurationError, QueueUnavailableError
from openreel.logs import secrets_of
from openreel.queue.celery import (
    QUEUE_DOWN,
    TASK_NAME,
    CeleryDispatch,
    JobTaker,
    Taken,
    celery_app,
    delivery_redelivered,
    queue_name,
    worker_queues,
)
from openreel.queue.keeper import LeaseKeeper
from openreel.queue.lease import Lease
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.pauses import PauseStore

if TYPE_CHECKING:
    from tests.support.redis_server import RedisServer

LEASE = 30.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.for_data_dir(tmp_path)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> JobStore:
    return JobStore(db, clock=clock)


def _enqueue(store: JobStore, prompt: str = "a boat", model: str = "openreel-sketch") -> Job:
    request = VideoRequest(prompt=prompt, seed=1, seconds=1.0, model=model)
    return store.create(Job(id=Job.new_id(), owner_id="usr_a", request=request))


class Runner:
    """Completes every job it is given, through the lease, and remembers them."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, str, int]] = []

    def __call__(self, job: Job, lease: Lease) -> None:
        self.ran.append((job.id, lease.worker, job.attempts))
        lease.heartbeat(progress=50, phase="rendering")
        lease.complete(
            artifacts={"video": f"jobs/{job.id}/video.mp4"},
            interpretation={},
            total_seconds=job.request.seconds,
            expires_at=None,
        )


class Sleeper:
    """Stands in for time.sleep: moves the fake clock and runs a hook (another worker)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.during: list[object] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += seconds
        for hook in self.during:
            hook()  # type: ignore[operator]


def _taker(store: JobStore, runner: Runner, clock: Clock, sleeper: Sleeper) -> JobTaker:
    return JobTaker(store, runner, worker="w-new", lease_seconds=LEASE, clock=clock, sleep=sleeper)


def test_celery_taker_claims_and_runs_only_the_named_job(store: JobStore, clock: Clock) -> None:
    older = _enqueue(store, "older")
    clock.now += 1
    named = _enqueue(store, "named")
    runner = Runner()
    taker = _taker(store, runner, clock, Sleeper(clock))

    assert taker.take(named.id) is Taken.RAN

    assert [job_id for job_id, _, _ in runner.ran] == [named.id]
    assert store.get(named.id).status is JobStatus.COMPLETED
    assert store.get(named.id).worker == "w-new"
    assert store.get(older.id).status is JobStatus.QUEUED  # its own message will come


def test_celery_taker_steps_aside_for_ended_deleted_and_paused_jobs(
    store: JobStore, db: Database, clock: Clock
) -> None:
    runner = Runner()
    taker = _taker(store, runner, clock, Sleeper(clock))
    done = _enqueue(store)
    assert taker.take(done.id) is Taken.RAN
    assert taker.take(done.id) is Taken.FINISHED  # a duplicate after completion

    cancelled = _enqueue(store)
    store.request_cancel(cancelled.id)
    assert taker.take(cancelled.id) is Taken.FINISHED

    deleted = _enqueue(store)
    store.delete(deleted.id)
    assert taker.take(deleted.id) is Taken.GONE
    assert taker.take("video_" + "0" * 32) is Taken.GONE

    PauseStore(db, clock=clock).pause("model", "paused-model", "incident")
    paused = _enqueue(store, model="paused-model")
    assert taker.take(paused.id) is Taken.PAUSED
    assert store.get(paused.id).status is JobStatus.QUEUED
    assert [job_id for job_id, _, _ in runner.ran] == [done.id]


def test_celery_taker_leaves_a_live_workers_job_alone_at_once(
    store: JobStore, clock: Clock
) -> None:
    job = _enqueue(store)
    assert store.claim("w-live", lease_seconds=LEASE, job_id=job.id) is not None
    clock.now += 2  # renewed two seconds ago: its worker is alive
    sleeper = Sleeper(clock)
    runner = Runner()

    assert _taker(store, runner, clock, sleeper).take(job.id) is Taken.HELD

    assert sleeper.slept == []
    assert runner.ran == []
    assert store.get(job.id).worker == "w-live"


def test_celery_taker_takes_over_a_dead_workers_job_once_its_lease_runs_out(
    store: JobStore, clock: Clock
) -> None:
    job = _enqueue(store)
    assert store.claim("w-dead", lease_seconds=LEASE, job_id=job.id) is not None
    clock.now += 1  # killed a second after it claimed the job; Redis hands the message back
    sleeper = Sleeper(clock)
    runner = Runner()

    outcome = _taker(store, runner, clock, sleeper).take(job.id, redelivered=True)

    assert outcome is Taken.RAN
    assert sum(sleeper.slept) == pytest.approx(LEASE - 1 + 0.05)
    assert runner.ran == [(job.id, "w-new", 2)]  # the second attempt
    assert store.get(job.id).status is JobStatus.COMPLETED


def test_celery_taker_steps_aside_when_the_lease_is_renewed_while_it_waits(
    store: JobStore, clock: Clock
) -> None:
    job = _enqueue(store)
    assert store.claim("w-slow", lease_seconds=LEASE, job_id=job.id) is not None
    clock.now += LEASE * 0.6  # a job outliving the visibility timeout is delivered again
    sleeper = Sleeper(clock)
    sleeper.during.append(lambda: store.heartbeat(job.id, "w-slow", lease_seconds=LEASE))
    runner = Runner()

    outcome = _taker(store, runner, clock, sleeper).take(job.id, redelivered=True)

    assert outcome is Taken.HELD
    assert len(sleeper.slept) == 1
    assert runner.ran == []
    assert store.get(job.id).worker == "w-slow"


def test_celery_taker_gives_up_on_a_job_that_killed_too_many_workers(
    store: JobStore, clock: Clock
) -> None:
    job = _enqueue(store)
    for worker in ("w1", "w2", "w3"):
        clock.now += LEASE + 1
        assert store.claim(worker, lease_seconds=LEASE, job_id=job.id) is not None
    clock.now += LEASE + 1
    runner = Runner()

    outcome = _taker(store, runner, clock, Sleeper(clock)).take(job.id, redelivered=True)

    assert outcome is Taken.FINISHED
    assert runner.ran == []
    failed = store.get(job.id)
    assert failed.error is not None
    assert failed.error.code == "worker_lost"


def test_celery_taker_fails_the_job_when_the_runner_raises(store: JobStore, clock: Clock) -> None:
    job = _enqueue(store)

    def explode(job: Job, lease: Lease) -> None:
        raise RuntimeError("secret detail")

    taker = JobTaker(store, explode, worker="w", lease_seconds=LEASE, clock=clock)

    assert taker.take(job.id) is Taken.RAN
    failed = store.get(job.id)
    assert failed.error is not None
    assert failed.error.code == "internal_error"
    assert "secret" not in failed.error.message


def test_celery_store_orphans_are_queued_jobs_and_dead_workers_jobs(
    store: JobStore, clock: Clock
) -> None:
    queued = _enqueue(store)
    live = _enqueue(store)
    dead = _enqueue(store)
    done = _enqueue(store)
    store.claim("w-dead", lease_seconds=5, job_id=dead.id)
    store.claim("w-done", lease_seconds=5, job_id=done.id)
    store.fail(done.id, "w-done", JobError("x", "y", "server_error"))
    clock.now += 10
    store.claim("w-live", lease_seconds=LEASE, job_id=live.id)

    assert [job.id for job in store.orphans()] == [queued.id, dead.id]


def test_celery_names_queues_by_model() -> None:
    assert queue_name("openreel", "ltx-video") == "openreel.ltx-video"
    assert worker_queues("p", ["wan", "ltx", "wan"]) == ["p.ltx", "p.wan"]

    class Request:
        def __init__(self) -> None:
            self.delivery_info = {"redelivered": True}

    assert delivery_redelivered(Request())
    assert not delivery_redelivered(object())


def test_celery_app_has_the_settings_long_jobs_need() -> None:
    app = celery_app(
        CeleryConfig(
            broker_url=SecretStr("redis://127.0.0.1:1/0"),
            visibility_timeout=7200,
            restore_interval=3,
        )
    )
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert conf.broker_transport_options["visibility_timeout"] == 7200
    assert conf.broker_transport_options["unacked_restore_interval"] == 3
    assert conf.broker_transport_options["unacked_restore_throttle"] == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, "OPENREEL_CELERY__BROKER_URL"),
        ("", "OPENREEL_CELERY__BROKER_URL"),
        ("amqp://guest:hunter2@rabbit/", "got scheme 'amqp'"),
        ("localhost:6379", "got scheme 'none'"),
    ],
)
def test_celery_app_refuses_a_missing_or_foreign_broker(url: str | None, expected: str) -> None:
    config = CeleryConfig(broker_url=None if url is None else SecretStr(url))
    with pytest.raises(ConfigurationError) as info:
        celery_app(config)
    assert expected in info.value.message
    assert "hunter2" not in info.value.message


def test_celery_broker_password_is_redacted_from_logs() -> None:
    settings = Settings(celery=CeleryConfig(broker_url=SecretStr("redis://:s3cret@redis:6379/0")))
    assert "s3cret" in secrets_of(settings)


def test_celery_dispatch_sends_each_job_to_its_models_queue(
    store: JobStore, redis_server: RedisServer
) -> None:
    prefix = "dispatch-test"
    app = celery_app(CeleryConfig(broker_url=SecretStr(redis_server.url), queue_prefix=prefix))
    client = redis.Redis.from_url(redis_server.url)
    dispatch = CeleryDispatch(app, store, prefix)
    try:
        sketch = _enqueue(store, model="openreel-sketch")
        ltx = _enqueue(store, model="ltx-video")
        dispatch.enqueued(sketch)
        dispatch.enqueued(ltx)

        def ids(queue: str) -> list[str]:
            messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
            assert all(m["headers"]["task"] == TASK_NAME for m in messages)
            return [m["headers"]["argsrepr"] for m in messages]

        assert ids(f"{prefix}.openreel-sketch") == [repr([sketch.id])]
        assert ids(f"{prefix}.ltx-video") == [repr([ltx.id])]

        # At start, whatever may have lost its message is sent again (a duplicate is harmless).
        dispatch.start(Runner())
        assert len(ids(f"{prefix}.openreel-sketch")) == 2
        assert len(ids(f"{prefix}.ltx-video")) == 2
    finally:
        dispatch.stop(1)
        client.close()


def test_celery_dispatch_names_an_unreachable_broker_without_its_password(
    store: JobStore,
) -> None:
    url = "redis://:hunter22@127.0.0.1:1/0"
    dispatch = CeleryDispatch(celery_app(CeleryConfig(broker_url=SecretStr(url))), store, "p")
    with pytest.raises(ConfigurationError) as info:
        dispatch.connect()
    assert "OPENREEL_CELERY__BROKER_URL" in info.value.message
    assert "hunter22" not in info.value.message


def test_celery_taker_with_a_keeper_batches_the_jobs_lease(tmp_path: Path) -> None:
    """A threads pool's jobs report through one keeper: the runner's heartbeat only touches
    memory, and the keeper writes it (and reads the cancel flag) on its tick."""
    database = Database.for_data_dir(tmp_path / "kept")
    database.migrate()
    try:
        store = JobStore(database)
        job = _enqueue(store)
        keeper = LeaseKeeper(store, lease_seconds=LEASE, tick=0.05)
        keeper.start()
        seen: dict[str, object] = {}

        def runner(job: Job, lease: Lease) -> None:
            lease.heartbeat(progress=40, phase="waiting")
            assert store.get(job.id).progress == 0  # not written by the runner itself
            deadline = time.monotonic() + 5
            while store.get(job.id).progress != 40:
                assert time.monotonic() < deadline, "the keeper never wrote the progress"
                time.sleep(0.01)
            store.request_cancel(job.id)
            while not lease.cancelled():  # the keeper brings the flag back on its tick
                assert time.monotonic() < deadline, "the keeper never read the cancel flag"
                time.sleep(0.01)
            seen["kept"] = True
            lease.fail(JobError("cancelled", "the video was cancelled", "invalid_request_error"))

        taker = JobTaker(store, runner, worker="w", lease_seconds=LEASE, keeper=keeper)
        try:
            assert taker.take(job.id) is Taken.RAN
        finally:
            keeper.stop()
        assert seen == {"kept": True}
        ended = store.get(job.id)
        assert ended.error is not None
        assert ended.error.code == "cancelled"
    finally:
        database.dispose()


def test_celery_dispatch_fails_a_job_it_cannot_send(store: JobStore) -> None:
    """Redis gone after start: the job is failed (not charged, not left without a message)
    and the caller gets a 503 it may retry."""
    url = "redis://127.0.0.1:1/0"
    app = celery_app(CeleryConfig(broker_url=SecretStr(url)))
    app.conf.broker_connection_timeout = 0.2
    app.conf.task_publish_retry_policy = {"max_retries": 0}
    job = _enqueue(store)
    with pytest.raises(QueueUnavailableError) as info:
        CeleryDispatch(app, store, "p").enqueued(job)
    assert info.value.http_status == 503
    assert "try again" in info.value.message
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == QUEUE_DOWN
