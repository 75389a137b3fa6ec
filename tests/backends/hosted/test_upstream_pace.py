"""The upstream loop keeps each upstream's pace: a finished video is seen at once.

Against a real loopback server (tests/support/hosted/timed_upstream.py) whose videos finish
0.3 s after their create. Timing bounds are medians of several videos, so one slow moment of
a loaded machine does not decide them.
"""

from __future__ import annotations

import statistics
import time

import pytest
from tests.support.hosted.providers import UPSTREAM_CAPS
from tests.support.hosted.timed_upstream import TimedUpstream

from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.domain import VideoRequest
from openreel.media.preview_check import previews_beside

VIDEOS = 5


def _lags(upstream: TimedUpstream, url: str) -> tuple[list[float], list[tuple[str, float]]]:
    """For each video, how long after it finished upstream the loop saw it done, and the
    requests it sent along the way, with when."""
    client = UpstreamClient(url, "up-key", timeout_s=10)
    seen: dict[str, float] = {}
    sent: list[tuple[str, float]] = []
    status = client.status

    def watched(job_id: str) -> RemoteJob:
        job = status(job_id)
        if job.state == "succeeded":
            seen.setdefault(job_id, time.monotonic())
        return job

    client.status = watched  # type: ignore[method-assign]
    client._http.event_hooks["request"].append(
        lambda request: sent.append((f"{request.method} {request.url.path}", time.monotonic()))
    )
    backend = HostedBackend.for_provider(
        client, (HostedModel("upstream/m", "m", UPSTREAM_CAPS),), interval_s=2.0
    )
    request = VideoRequest(
        prompt="a lighthouse", model="upstream/m", seconds=1.0, width=320, height=180, fps=12
    )
    lags = []
    try:
        for index in range(VIDEOS):
            frames = list(backend.generate(request.with_seed()))
            assert len(frames) == request.frame_count
            video_id = f"video_{index + 1}"
            lags.append(seen[video_id] - upstream.finished_at(video_id))
    finally:
        client.close()
    return lags, sent


@pytest.mark.parametrize("events", [False, True], ids=["polling", "events"])
def test_a_video_finished_upstream_is_seen_within_a_fifth_of_a_second(events: bool) -> None:
    """Polling: the upstream's hint (100 ms for such a video) sets the pace, and the shared
    listing is read at that pace, not the 2 s default nor its own 1 s. Events: the stream
    tells of the end as it happens."""
    upstream = TimedUpstream(render_s=0.3, events=events)
    with upstream.serving() as url:
        lags, sent = _lags(upstream, url)
    assert all(lag >= 0 for lag in lags)  # never seen done before it was
    assert statistics.median(lags) < 0.2, lags
    streams = [r for r, _ in sent if r.endswith("/events")]
    assert len(streams) == (VIDEOS if events else 0)


def test_an_openreel_without_events_is_asked_once_then_polled() -> None:
    upstream = TimedUpstream(render_s=0.3, phase=True)  # looks like an OpenReel; no /events
    with upstream.serving() as url:
        lags, sent = _lags(upstream, url)
    assert statistics.median(lags) < 0.2, lags
    assert [r for r, _ in sent if r.endswith("/events")] == ["GET /v1/videos/video_1/events"]


def test_the_first_poll_follows_the_submit_at_once() -> None:
    """Asked promptly: the loop's first look comes right after the create's answer, not an
    interval (2 s) nor the upstream's hint (100 ms) later."""
    upstream = TimedUpstream(render_s=0.3)
    with upstream.serving() as url:
        _, sent = _lags(upstream, url)
    gaps = []
    for index, (kind, at) in enumerate(sent):
        if kind == "POST /v1/videos":
            look, looked_at = sent[index + 1]
            assert look.startswith("GET /v1/videos")
            gaps.append(looked_at - at)
    assert len(gaps) == VIDEOS
    assert statistics.median(gaps) < 0.09, gaps


@pytest.mark.parametrize("openreel", [True, False], ids=["openreel", "other"])
def test_an_openreels_previews_are_lent_beside_its_video_and_taken_back(openreel: bool) -> None:
    """An OpenReel upstream's thumbnail and spritesheet come with its video, fetched while it
    is (for a relay to check and keep: services.relay); another upstream is not asked."""
    previews = {"thumbnail": b"RIFF-thumbnail", "spritesheet": b"\xff\xd8\xff-sheet"}
    upstream = TimedUpstream(render_s=0.05, events=openreel, previews=previews)
    with upstream.serving() as url:
        client = UpstreamClient(url, "up-key", timeout_s=10)
        sent: list[str] = []
        client._http.event_hooks["request"].append(
            lambda request: sent.append(f"{request.method} {request.url.path}?{request.url.query}")
        )
        backend = HostedBackend.for_provider(
            client, (HostedModel("upstream/m", "m", UPSTREAM_CAPS),), interval_s=0.05
        )
        request = VideoRequest(
            prompt="a lighthouse", model="upstream/m", seconds=1.0, width=320, height=180, fps=12
        ).with_seed()
        try:
            with backend.fetched(request) as video:
                lent = previews_beside(video)
                found = [path.read_bytes() if path.exists() else None for path in lent]
                assert video.read_bytes() == upstream.video
        finally:
            client.close()
    asked = [s for s in sent if "variant=thumbnail" in s or "variant=spritesheet" in s]
    if openreel:
        assert found == [previews["thumbnail"], previews["spritesheet"]]
        assert len(asked) == 2
    else:
        assert found == [None, None]
        assert asked == []
    assert not any(path.exists() for path in (video, *lent))  # all taken back after the lend


def test_previews_an_openreel_cannot_give_are_simply_absent() -> None:
    upstream = TimedUpstream(render_s=0.05, events=True)  # no previews: 404
    with upstream.serving() as url:
        client = UpstreamClient(url, "up-key", timeout_s=10)
        backend = HostedBackend.for_provider(
            client, (HostedModel("upstream/m", "m", UPSTREAM_CAPS),), interval_s=0.05
        )
        request = VideoRequest(
            prompt="a lighthouse", model="upstream/m", seconds=1.0, width=320, height=180, fps=12
        ).with_seed()
        try:
            with backend.fetched(request) as video:
                assert video.stat().st_size > 0
                assert not any(path.exists() for path in previews_beside(video))
        finally:
            client.close()
