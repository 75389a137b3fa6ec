"""Two dispatcher processes on one PostgreSQL database deliver every event exactly once."""

from __future__ import annotations

import multiprocessing
import runpy
from collections import Counter
from pathlib import Path

from cryptography.fernet import Fernet
from tests.support.postgres import PostgresServer
from tests.support.webhook_receiver import receiving

from openreel.domain import Job, VideoRequest
from openreel.services.webhooks.signing import new_secret
from openreel.storage.audit import AuditEntry
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.webhooks import WebhookStore
from openreel.trust.sealing import SecretBox

VIDEOS = 40


def test_two_processes_on_postgresql_deliver_each_event_once(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.database()
    db = Database(url)
    db.migrate()
    key = Fernet.generate_key()
    jobs, hooks = JobStore(db), WebhookStore(db)
    with receiving(delay=0.02) as receiver:
        endpoint = hooks.add_endpoint(
            owner_id="usr_alice",
            url=receiver.url,
            events=["video.completed", "video.failed"],
            sealed_secret=SecretBox(key).seal(new_secret()),
            now=jobs.now(),
            limit=10,
            audit=AuditEntry(action="webhook.created"),
        )
        assert endpoint is not None
        for _ in range(VIDEOS):
            job = jobs.create(
                Job(id=Job.new_id(), owner_id="usr_alice", request=VideoRequest(prompt="a boat"))
            )
            assert jobs.claim("w", lease_seconds=60, job_id=job.id) is not None
            jobs.complete(
                job.id, "w", artifacts={}, interpretation={}, total_seconds=1.0, expires_at=None
            )
        context = multiprocessing.get_context("spawn")
        script = str(Path(__file__).parents[1] / "support" / "webhook_dispatcher_child.py")
        start = context.Barrier(3)
        outputs = [tmp_path / f"delivered-{i}.txt" for i in range(2)]
        processes = [
            context.Process(
                target=runpy.run_path,
                args=(script,),
                kwargs={
                    "init_globals": {"DISPATCH_ARGS": (url, key, f"p{i}", str(out), start)},
                    "run_name": "__main__",
                },
            )
            for i, out in enumerate(outputs)
        ]
        for process in processes:
            process.start()
        start.wait(60)
        for process in processes:
            process.join(120)
            assert process.exitcode == 0
        per_process = [int(out.read_text()) for out in outputs]
        ids = Counter(receiver.ids())
    deliveries = hooks.deliveries(endpoint.id, limit=100)
    assert len(deliveries) == VIDEOS
    assert set(ids) == {d.id for d in deliveries}
    assert max(ids.values()) == 1  # no delivery was sent twice
    assert sum(per_process) == VIDEOS
    assert all(count > 0 for count in per_process), per_process  # both took part
    assert all(d.status == "delivered" and d.attempts == 1 for d in deliveries)
    db.dispose()
