"""Benchmark: webhooks on loopback, each figure beside a baseline measured in the same run.

Prints one JSON object with:

(a) Completion-to-delivery: a single-machine server (``runtime.Server``, the embedded queue,
    two workers, its dispatcher) with one principal's 10 endpoints, each a receiver on
    loopback; 100 tiny sketch videos are created through the HTTP app, and for each of the
    1,000 deliveries the time from the job row's ``completed_at`` (the commit that wrote the
    event) to the receiver reading the request. Goal: p50 <= 250 ms, p99 <= 1 s. Baseline:
    one signed attempt alone (``WebhookSender.send`` to the same receivers), the floor under
    every delivery.
(b) Waiting costs: a dispatcher with the default settings over an outbox of 1,000 deliveries
    whose next attempt is an hour away, for ``--idle`` seconds; the process's CPU time over
    that window as a share of one core. Goal: < 5 %. Baseline: the same dispatcher over an
    empty outbox, side by side (alternating, each ``--runs`` times).

Run: ``.venv/bin/python benchmarks/webhooks.py [--runs 3] [--idle 20]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from openreel.api.app import create_app
from openreel.config import ModerationConfig, QuotaConfig, Settings, WebhooksConfig
from openreel.runtime import Server
from openreel.runtime.webhooks import webhook_dispatcher
from openreel.services.webhooks import TargetPolicy, WebhookSender
from openreel.services.webhooks.signing import new_secret, signed_headers
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import JOBS, WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, Database
from openreel.storage.webhooks import WebhookStore
from openreel.trust.sealing import load_or_create_box

VIDEOS = 100
ENDPOINTS = 10
WAITING = 1000
TINY = {"model": "openreel-sketch", "seconds": "1", "size": "96x64", "fps": 8}


def _receive(count: int, ports: Any, arrivals: Any, stop: Any) -> None:
    """Child process: ``count`` loopback receivers; sends back each ``webhook-id``'s arrival."""
    seen: dict[str, float] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived = time.time()
            with lock:
                seen.setdefault(self.headers["webhook-id"], arrived)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(count)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ports.put([server.server_address[1] for server in servers])
    stop.wait()
    with lock:
        arrivals.put(dict(seen))


class Receivers:
    """``count`` loopback receivers in a process of their own, so that their Python work
    never competes with the server's for one interpreter lock (as a real receiver's would
    not); arrival times are the receivers' wall clock, the same clock as the server's."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        ports, self._arrivals, self._stop = context.Queue(), context.Queue(), context.Event()
        self._process = context.Process(
            target=_receive, args=(count, ports, self._arrivals, self._stop), daemon=True
        )
        self._process.start()
        self.urls = [f"http://127.0.0.1:{port}/hook" for port in ports.get(timeout=60)]

    def close(self) -> dict[str, float]:
        """Stops the receivers; every ``webhook-id`` they saw, with its first arrival."""
        self._stop.set()
        arrivals: dict[str, float] = self._arrivals.get(timeout=60)
        self._process.join(30)
        return arrivals


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        workers=2,
        rate_requests_per_minute=0,
        rate_creates_per_minute=0,
        quota=QuotaConfig(seconds=0, videos=0),
        moderation=ModerationConfig(semantic="off"),
        webhooks=WebhooksConfig(allow_private=True, allow_http=True),
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def delivery_latency(root: Path) -> dict[str, float]:
    """(a): one run of 100 videos to 10 endpoints; milliseconds."""
    receivers = Receivers(ENDPOINTS)
    server = Server.open(_settings(root / "a"))
    try:
        server.start()
        issued = server.services.auth.issue("bench")
        client = TestClient(create_app(server.services))
        auth = {"Authorization": f"Bearer {issued.token}"}
        for url in receivers.urls:
            assert client.post("/v1/webhooks", json={"url": url}, headers=auth).status_code == 200
        for i in range(VIDEOS):
            body = {"prompt": f"a red kite number {i}", **TINY}
            assert client.post("/v1/videos", json=body, headers=auth).status_code == 200
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with server.db.read() as conn:
                left = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(WEBHOOK_DELIVERIES)
                    .where(WEBHOOK_DELIVERIES.c.status != "delivered")
                ).scalar_one()
                made = conn.execute(
                    sa.select(sa.func.count()).select_from(WEBHOOK_DELIVERIES)
                ).scalar_one()
            if made == VIDEOS * ENDPOINTS and left == 0:
                break
            time.sleep(0.2)
        with server.db.read() as conn:
            rows = conn.execute(
                sa.select(
                    WEBHOOK_DELIVERIES.c.id,
                    JOBS.c.completed_at,
                    sa.func.min(WEBHOOK_ATTEMPTS.c.started_at).label("started_at"),
                )
                .join(JOBS, JOBS.c.id == WEBHOOK_DELIVERIES.c.video_id)
                .join(WEBHOOK_ATTEMPTS, WEBHOOK_ATTEMPTS.c.delivery_id == WEBHOOK_DELIVERIES.c.id)
                .group_by(WEBHOOK_DELIVERIES.c.id, JOBS.c.completed_at)
            ).all()
        completed = {r.id: r.completed_at for r in rows}
        # From the commit to the first attempt's start: waking, claiming, a free slot.
        waited = [(r.started_at - r.completed_at) * 1000 for r in rows]
        sender = WebhookSender(TargetPolicy(allow_private=True, allow_http=True), timeout=5)
        secret, body = new_secret(), b'{"id":"evt_floor"}'
        floor = []
        for n in range(200):
            url = receivers.urls[n % ENDPOINTS]
            headers = signed_headers([secret], f"msg_floor{n}", int(time.time()), body)
            started = time.perf_counter()
            assert sender.send(url, body, headers).ok
            floor.append((time.perf_counter() - started) * 1000)
        sender.close()
        client.close()
    finally:
        server.close()
        arrivals = receivers.close()
    latencies = [(arrivals[i] - at) * 1000 for i, at in completed.items()]
    assert len(latencies) == VIDEOS * ENDPOINTS, len(latencies)
    return {
        "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "commit_to_attempt_p50_ms": round(statistics.median(waited), 1),
        "commit_to_attempt_p99_ms": round(_percentile(waited, 0.99), 1),
        "floor_attempt_p50_ms": round(statistics.median(floor), 2),
    }


@contextmanager
def _waiting_outbox(root: Path, pending: int) -> Iterator[tuple[Settings, Database]]:
    settings = Settings(data_dir=root, webhooks=WebhooksConfig(allow_private=True))
    db = Database.for_data_dir(root)
    db.migrate()
    box = load_or_create_box(root)
    store = WebhookStore(db)
    endpoint = store.add_endpoint(
        owner_id="usr_bench",
        url="https://127.0.0.1/hook",
        events=["video.completed"],
        sealed_secret=box.seal(new_secret()),
        now=time.time(),
        limit=10,
        audit=AuditEntry(action="webhook.created"),
    )
    assert endpoint is not None
    later = time.time() + 3600
    rows: list[dict[str, Any]] = [
        {
            "id": f"msg_{i:06d}",
            "endpoint_id": endpoint.id,
            "event_id": f"evt_{i:06d}",
            "event_type": "video.completed",
            "video_id": f"video_{i:06d}",
            "payload": "{}",
            "created_at": time.time(),
            "window_start": time.time(),
            "status": "pending",
            "attempts": 3,
            "next_attempt_at": later,
        }
        for i in range(pending)
    ]
    if rows:
        with db.begin() as conn:
            conn.execute(sa.insert(WEBHOOK_DELIVERIES), rows)
    try:
        yield settings, db
    finally:
        db.dispose()


def idle_cost(root: Path, pending: int, seconds: float) -> float:
    """(b): CPU share of one core while a dispatcher waits over ``pending`` deliveries."""
    with _waiting_outbox(root, pending) as (settings, db):
        dispatcher = webhook_dispatcher(settings, db, AuditStore(db))
        dispatcher.start()
        time.sleep(1.0)  # past start-up
        cpu, wall = time.process_time(), time.monotonic()
        time.sleep(seconds)
        share = (time.process_time() - cpu) / (time.monotonic() - wall)
        dispatcher.stop()
    return share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = [delivery_latency(root / f"run{i}") for i in range(args.runs)]
        waiting, empty = [], []
        for i in range(args.runs):
            waiting.append(idle_cost(root / f"wait{i}", WAITING, args.idle))
            empty.append(idle_cost(root / f"empty{i}", 0, args.idle))
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "date": time.strftime("%Y-%m-%d"),
                "runs": args.runs,
                "delivery": {key: statistics.median(run[key] for run in runs) for key in runs[0]},
                "delivery_runs": runs,
                "waiting_cpu_percent": round(100 * statistics.median(waiting), 3),
                "empty_outbox_cpu_percent": round(100 * statistics.median(empty), 3),
                "waiting_runs": [round(100 * w, 3) for w in waiting],
                "empty_runs": [round(100 * e, 3) for e in empty],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
