"""Many clients at once against a real server: create a video, poll it, download it.

Each client is its own ``httpx.AsyncClient`` with httpx's default pool (keep-alive expiry 5 s),
as separate programs would be, so the server sees as many connections as clients. Every
request's outcome is recorded (status, latency, or the transport error's type), never retried:
one dropped connection must show. Used by tests/e2e/test_load.py and benchmarks/load.py.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["LoadReport", "run_clients"]


@dataclass
class LoadReport:
    """What a load run saw.

    Attributes:
        seconds: Wall time of the whole run.
        latencies: Seconds per answered request.
        statuses: Count of answers per HTTP status.
        transport_errors: Count of requests that got no answer, by exception type.
        completed: Ids of the videos that completed (one per client that finished).
        failures: Descriptions of clients that ended without a completed, downloaded video.
    """

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    completed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        """Requests made, answered or not."""
        return len(self.latencies) + sum(self.transport_errors.values())

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        """The ``q`` quantile (0-1) of the answered requests' latency, in seconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> str:
        """One line for a log or a benchmark table."""
        rate = self.requests / self.seconds if self.seconds else 0.0
        median = statistics.median(self.latencies) if self.latencies else float("nan")
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({rate:.0f}/s), "
            f"p50 {median * 1000:.1f} ms, p99 {self.percentile(0.99) * 1000:.1f} ms, "
            f"5xx {self.server_errors}, transport errors {dict(self.transport_errors)}, "
            f"completed {len(self.completed)}"
        )


async def _request(
    client: httpx.AsyncClient, report: LoadReport, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        report.transport_errors[type(exc).__name__] += 1
        return None
    report.latencies.append(time.perf_counter() - started)
    report.statuses[response.status_code] += 1
    return response


async def _one_client(
    base_url: str,
    token: str,
    video: dict[str, Any],
    poll_interval: float,
    follow_hints: bool,
    deadline: float,
    report: LoadReport,
    start: asyncio.Event,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        await start.wait()
        created = await _request(client, report, "POST", "/v1/videos", json=video)
        if created is None or created.status_code != 200:
            report.failures.append(f"create: {None if created is None else created.text}")
            return
        video_id = created.json()["id"]
        wait = _wait(created, poll_interval, follow_hints)
        while time.monotonic() < deadline:
            await asyncio.sleep(wait)
            polled = await _request(client, report, "GET", f"/v1/videos/{video_id}")
            if polled is None or polled.status_code != 200:
                continue  # counted; the run's assertions judge it
            wait = _wait(polled, poll_interval, follow_hints)
            status = polled.json()["status"]
            if status == "completed":
                break
            if status == "failed":
                report.failures.append(f"{video_id} failed: {polled.json().get('error')}")
                return
        else:
            report.failures.append(f"{video_id} did not complete in time")
            return
        content = await _request(client, report, "GET", f"/v1/videos/{video_id}/content")
        if content is None or content.status_code != 200 or not content.content:
            report.failures.append(f"{video_id}: the download failed")
            return
        report.completed.append(video_id)


def _wait(response: httpx.Response, poll_interval: float, follow_hints: bool) -> float:
    hint = response.headers.get("openai-poll-after-ms")
    if not follow_hints or hint is None or not hint.isdigit():
        return poll_interval
    return max(poll_interval, int(hint) / 1000)


def run_clients(
    base_url: str,
    token: str,
    *,
    clients: int,
    video: dict[str, Any],
    poll_interval: float = 0.2,
    follow_hints: bool = False,
    timeout: float = 300.0,
) -> LoadReport:
    """Runs ``clients`` clients at once, each creating, polling and downloading one video.

    Args:
        base_url: The server, such as ``http://127.0.0.1:8000``.
        token: A bearer token with videos:write (quotas and rate limits off on its server).
        clients: How many clients (each its own connection pool).
        video: The create body every client sends.
        poll_interval: Seconds between one client's status polls.
        follow_hints: Wait as long as the server's ``openai-poll-after-ms`` asks when that is
            longer, as the official SDK's ``poll`` does (else poll at ``poll_interval``).
        timeout: Seconds after which a client gives up on its video.
    """
    report = LoadReport()

    async def main() -> None:
        start = asyncio.Event()
        deadline = time.monotonic() + timeout
        tasks = [
            asyncio.create_task(
                _one_client(
                    base_url, token, video, poll_interval, follow_hints, deadline, report, start
                )
            )
            for _ in range(clients)
        ]
        await asyncio.sleep(0)  # every client is waiting at the start line
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        report.seconds = time.perf_counter() - began

    asyncio.run(main())
    return report
