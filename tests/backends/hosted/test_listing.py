"""SharedListing: one provider listing answers every waiting job's poll."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest
from tests.support.hosted.fake_upstream import KEY, FakeUpstream

from openreel.backends.hosted.base import RemoteJob, TransientProviderError
from openreel.backends.hosted.listing import ListingUnsupportedError, SharedListing
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.domain import VideoRequest


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Fetch:
    def __init__(self, jobs: Mapping[str, RemoteJob], error: Exception | None = None) -> None:
        self.jobs, self.error = jobs, error
        self.calls: list[int] = []

    def __call__(self, wanted: frozenset[str], max_pages: int) -> Mapping[str, RemoteJob]:
        self.calls.append(len(wanted))
        if self.error is not None:
            raise self.error
        return self.jobs


RUNNING = RemoteJob("running", 40.0)


def test_many_waiting_jobs_share_one_fetch_per_interval() -> None:
    clock = Clock()
    fetch = Fetch({f"v{i}": RUNNING for i in range(300)})
    listing = SharedListing(fetch, fresh_s=1.0, clock=clock)
    answers: list[RemoteJob | None] = []
    lock = threading.Lock()

    def poll(job_id: str) -> None:
        answer = listing.get(job_id)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=poll, args=(f"v{i}",)) for i in range(300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [RUNNING] * 300
    assert len(fetch.calls) == 1
    clock.now += 1.0  # stale: the next poll fetches again, looking for all 300 followed
    assert listing.get("v1") == RUNNING
    assert len(fetch.calls) == 2
    assert fetch.calls[1] == 300


def test_a_job_not_listed_is_left_to_its_own_poll() -> None:
    listing = SharedListing(Fetch({"v1": RUNNING}), clock=Clock())
    assert listing.get("v2") is None


def test_a_provider_without_a_listing_is_asked_once() -> None:
    fetch = Fetch({}, ListingUnsupportedError("HTTP 404"))
    clock = Clock()
    listing = SharedListing(fetch, clock=clock)
    assert listing.get("v1") is None
    clock.now += 60
    assert listing.get("v1") is None
    assert len(fetch.calls) == 1
    assert not listing.supported


def test_a_failing_listing_costs_one_request_per_interval_and_reaches_every_caller() -> None:
    clock = Clock()
    fetch = Fetch({}, TransientProviderError("upstream answered HTTP 503", retry_after_s=4.0))
    listing = SharedListing(fetch, fresh_s=1.0, clock=clock)
    for job_id in ("v1", "v2", "v3"):
        with pytest.raises(TransientProviderError) as info:
            listing.get(job_id)
        assert info.value.retry_after_s == 4.0
    assert len(fetch.calls) == 1
    fetch.error = None
    fetch.jobs = {"v1": RUNNING}
    clock.now += 1.0
    assert listing.get("v1") == RUNNING


def _request() -> VideoRequest:
    return VideoRequest(prompt="a lighthouse", model="m", seconds=1.0, width=640, height=360)


def test_upstream_polls_hundreds_of_videos_with_a_few_list_pages() -> None:
    fake, clock = FakeUpstream(listing=True, progress=[10, 50, 50]), Clock()
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport(), clock=clock)
    ids = [client.submit("m", _request()) for _ in range(250)]
    # Each video's first poll asks it alone once, for the pace of a running video (the
    # listing carries none).
    assert {client.status(i).poll_after_s for i in ids} == {1.0}
    clock.now += 1.0  # that pace later
    fake.requests.clear()
    states = [client.status(i) for i in ids]
    assert {s.state for s in states} == {"running"}
    assert {s.poll_after_s for s in states} == {1.0}  # each keeps its pace
    # The first poll (the oldest video) reads pages until it is found: 100 + 100 + 50, and
    # that one listing answers the other 249 polls.
    assert fake.requests == ["GET /v1/videos"] * 3
    client.close()


def test_upstream_reads_a_listing_no_older_than_each_videos_pace() -> None:
    fake, clock = FakeUpstream(listing=True, progress=[10, 20, 30, 40], poll_after_ms=100), Clock()
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport(), clock=clock)
    video = client.submit("m", _request())
    assert client.status(video).poll_after_s == 0.1  # asked alone: its pace
    fake.requests.clear()
    clock.now += 0.1  # the listing is 0.1 s old: fresh by its own 1 s, stale at this pace
    assert client.status(video).poll_after_s == 0.1
    clock.now += 0.05  # the listing read just now answers
    assert client.status(video).poll_after_s == 0.1
    assert fake.requests == ["GET /v1/videos"]
    client.close()


def test_upstream_asks_alone_for_videos_past_the_pages_it_reads() -> None:
    fake = FakeUpstream(listing=True, progress=[10, 50])
    client = UpstreamClient(
        "http://upstream.test/v1",
        KEY,
        transport=fake.transport(),
        listing=None,
    )
    client._listing = SharedListing(client._list, max_pages=1, clock=Clock())
    ids = [client.submit("m", _request()) for _ in range(120)]
    fake.requests.clear()
    assert client.status(ids[0]).state == "running"  # the oldest: not on the first page
    assert client.status(ids[-1]).state == "running"  # listed, asked alone once for its pace
    assert client.status(ids[-1]).state == "running"  # then answered by the listing
    assert fake.requests == [
        "GET /v1/videos",
        f"GET /v1/videos/{ids[0]}",
        f"GET /v1/videos/{ids[-1]}",
    ]
    client.close()


def test_upstream_listing_maps_refusals_and_failures() -> None:
    refused = FakeUpstream(listing=True, progress=[], refuse_later=True)
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=refused.transport())
    job = client.status(client.submit("m", _request()))
    assert (job.state, job.message) == ("refused", "looks like a real person")
    failed = FakeUpstream(listing=True, progress=[], fail_later=True)
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=failed.transport())
    job = client.status(client.submit("m", _request()))
    assert (job.state, job.message) == ("failed", "GPU fell over")


def test_upstream_without_a_listing_polls_each_video() -> None:
    fake = FakeUpstream(progress=[10, 50])  # answers 404 to GET /v1/videos
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport())
    ids = [client.submit("m", _request()) for _ in range(3)]
    fake.requests.clear()
    for _ in range(2):
        for video_id in ids:
            assert client.status(video_id).state == "running"
    assert fake.requests == ["GET /v1/videos"] + [f"GET /v1/videos/{i}" for i in ids] * 2
    client.close()


def test_upstream_lists_newest_first_whatever_the_servers_default() -> None:
    # The fake lists oldest first unless asked (OpenAI's SDK leaves the order to the caller),
    # so a newest video is on the first page only because the client asks for order=desc.
    fake = FakeUpstream(listing=True, progress=[10, 50, 50])
    client = UpstreamClient("http://upstream.test/v1", KEY, transport=fake.transport())
    ids = [client.submit("m", _request()) for _ in range(250)]
    fake.requests.clear()
    clock = Clock()
    client._listing = SharedListing(client._list, max_pages=1, clock=clock)
    assert client.status(ids[-1]).state == "running"  # its first poll also asks for its pace
    clock.now += 1.0  # that pace later, a new listing
    assert client.status(ids[-1]).state == "running"
    assert fake.requests == [  # one page each time, the newest hundred: it is listed there
        "GET /v1/videos",
        f"GET /v1/videos/{ids[-1]}",
        "GET /v1/videos",
    ]
    client.close()
