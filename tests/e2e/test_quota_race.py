"""400 concurrent creates against a 100-second quota admit exactly 100: real server, real SQLite.

The creates arrive over 50 connections at once on a live ``openreel serve``; admissions run in
the server's thread pool, so they really do race for the database. Every answer is a 200 or a
429 with Retry-After, and the ledger, the listing and ``/v1/usage`` agree on 100.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from tests.e2e.conftest import ServerLauncher

pytestmark = pytest.mark.slow

BODY = {
    "prompt": "a small boat",
    "model": "openreel-sketch",
    "seconds": "1",
    "size": "64x64",
    "fps": 4,
}


async def _storm(url: str, token: str, attempts: int, connections: int) -> Counter[int]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as c:
        responses = await asyncio.gather(
            *(c.post("/v1/videos", json=BODY) for _ in range(attempts))
        )
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            assert response.json()["error"]["code"] == "quota_exceeded"
    return Counter(r.status_code for r in responses)


def test_400_concurrent_creates_against_100_seconds_admit_exactly_100(
    server_launcher: ServerLauncher, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    token = server_launcher.mint(data, "racer")
    server = server_launcher.start(
        data, workers=1, env={"OPENREEL_QUOTA__SECONDS": "100", "OPENREEL_QUOTA__VIDEOS": "0"}
    )
    statuses = asyncio.run(_storm(server.url, token, attempts=400, connections=50))
    assert statuses == Counter({200: 100, 429: 300})
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
        usage = c.get("/v1/usage").json()
        assert usage["seconds_used"] == 100
        listed, after = [], None
        while True:
            page = c.get("/v1/videos", params={"limit": 100, **({"after": after} if after else {})})
            listed += page.json()["data"]
            if not page.json()["has_more"]:
                break
            after = page.json()["last_id"]
        assert len(listed) == 100
    server_launcher.stop(server)
