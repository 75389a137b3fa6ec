"""Webhooks beside a Celery worker: a video that ends in an ``openreel worker`` process is
announced by that process's own dispatcher (no ``serve`` running)."""

from __future__ import annotations

import json
import multiprocessing
import runpy
from pathlib import Path

import pytest
from openai import OpenAI
from tests.support.webhook_receiver import receiving

from openreel.config import ModerationConfig, Settings, WebhooksConfig
from openreel.domain import Job, Principal, VideoRequest
from openreel.runtime.webhooks import webhook_service
from openreel.storage.audit import AuditStore
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore

pytestmark = pytest.mark.slow  # a spawned worker process and a render: about 25 s

SDK = OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")


def test_a_worker_process_delivers_the_webhooks_of_its_videos(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = {
        "data_dir": str(data_dir),
        "moderation": ModerationConfig(semantic="off").model_dump(),
        "webhooks": WebhooksConfig(allow_private=True, allow_http=True).model_dump(),
    }
    parsed = Settings(**settings)  # type: ignore[arg-type]
    db = Database.for_data_dir(data_dir)
    db.migrate()
    alice = Principal(id="usr_alice", name="alice")
    context = multiprocessing.get_context("spawn")
    jobs_q, done, stop = context.Queue(), context.Queue(), context.Event()
    script = str(Path(__file__).parents[1] / "support" / "webhook_worker_child.py")
    child = context.Process(
        target=runpy.run_path,
        args=(script,),
        kwargs={
            "init_globals": {"WORKER_ARGS": (settings, jobs_q, done, stop)},
            "run_name": "__main__",
        },
    )
    with receiving() as receiver:
        created = webhook_service(parsed, db, AuditStore(db)).create(alice, receiver.url)
        job = JobStore(db).create(
            Job(
                id=Job.new_id(),
                owner_id=alice.id,
                request=VideoRequest(prompt="a kite", seconds=1, width=96, height=64, fps=8),
            )
        )
        child.start()
        try:
            jobs_q.put(job.id)
            assert done.get(timeout=120) == "Taken.RAN"
            [received] = receiver.wait_for(1, timeout=30)
        finally:
            jobs_q.put(None)
            stop.set()
            child.join(30)
            if child.is_alive():
                child.kill()
    SDK.webhooks.unwrap(received.body, received.headers, secret=created.secret)
    event = json.loads(received.body)
    assert event["type"] == "video.completed"
    assert event["data"]["id"] == job.id
    assert JobStore(db).get(job.id).status.value == "completed"
    db.dispose()
