"""A gateway's submission leaves for its upstream as soon as the create is answered.

The hosted job is handed to a free worker, which takes its row by id and submits at once
(queue/embedded.py); it used to wait behind a claim's write transaction. The upstream is a
loopback server (tests/support/hosted/timed_upstream.py) that notes when each create arrives.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from tests.support.hosted.timed_upstream import TimedUpstream
from tests.support.waiting import wait_for

from openreel.config import ProviderKeys, UpstreamConfig

from .conftest import Api

VIDEOS = 5


def test_a_gateways_submission_reaches_the_upstream_within_50_ms(
    make_api: Callable[..., Api],
) -> None:
    upstream = TimedUpstream(render_s=0.2)
    with upstream.serving() as url:
        api = make_api(
            upstream=UpstreamConfig(url=url, models=["m"]),
            providers=ProviderKeys(upstream="up-key"),  # type: ignore[arg-type]
        )
        after_create, after_answer = [], []
        for index in range(VIDEOS):
            sent = time.monotonic()
            response = api.client.post(
                "/v1/videos",
                json={
                    "model": "upstream/m",
                    "prompt": "a lighthouse",
                    "seconds": "1",
                    "size": "320x180",
                },
                headers=api.auth(),
            )
            answered = time.monotonic()
            assert response.status_code == 200, response.text
            remote = f"video_{index + 1}"
            wait_for(lambda remote=remote: remote in upstream.created, timeout=10)
            after_create.append(upstream.created[remote] - sent)
            after_answer.append(upstream.created[remote] - answered)
            assert api.wait(response.json()["id"])["status"] == "completed"
    # The create's own answer is the baseline (its time is the machine's, loaded or not):
    # the submission follows it within 50 ms at the median.
    assert statistics.median(after_answer) < 0.05, (after_create, after_answer)
