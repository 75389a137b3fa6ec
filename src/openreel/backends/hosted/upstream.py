"""An upstream that speaks ``/v1/videos``: another OpenReel, a compatible gateway, or a GPU
server (vLLM-Omni, SGLang's diffusion server, FastVideo), each in its dialect
(backends/hosted/dialects.py says what each takes and lacks). What follows is the ``openai``
dialect; the GPU servers' differences are handled where they arise: their create's form
(``create_body``), a failed job answered with an error status (``_failed_job_ok``), progress
estimated from the model's recent durations (``upstream_jobs.RecentDurations``), cancel by ``DELETE`` or
not at all, a job limit (``upstream_jobs.JobSlots``) and reachability (``upstream_backend.UpstreamBackend`` with
backends/hosted/upstream_health.py).

Source of truth: OpenAI's SDK (``openai``, the dev extra; its ``videos`` resource, checked
2026-12-06), the client every such server is built to answer. We keep our own httpx client
(the hosted loop owns polling, retries and cancel checks) and the tests compare what it sends
with what the SDK sends for the same video (tests/backends/hosted/test_upstream.py).

The wire format: ``POST /videos`` as ``multipart/form-data``, as the SDK always sends it
(servers such as vLLM-Omni refuse a JSON create), with the fields ``prompt``, ``model``,
``seconds`` (a string) and ``size``, and a reference image as the file part
``input_reference``; ``GET /videos/{id}`` with status ``queued | in_progress | completed |
failed``, an integer ``progress`` and the poll interval in ``openai-poll-after-ms``; ``GET
/videos/{id}/content`` for the MP4. Polls are answered from one shared ``GET
/videos?order=desc`` listing of the newest videos when the upstream has one (see
backends/hosted/listing.py), so hundreds of waiting jobs cost a few requests, not hundreds;
the order is asked for, since a server's default may be oldest first. A content refusal
arrives either at once (400 ``moderation_blocked``) or later as ``failed`` with that code.

Cancel: OpenAI's API (and so its SDK) has no cancel for a video; ``DELETE /videos/{id}``
deletes one and does not stop a running job. So cancel is OpenReel's ``POST
/videos/{id}/cancel``; an upstream without that route (404 or 405) is told nothing more, and
the log says the video may run on there.

Each job keeps the pace its upstream last asked for (``openai-poll-after-ms`` on the create's
answer or a retrieve): a listing carries no hint, so a listed job is polled at that pace, from
a listing no older than it. A hint holds for the state it came with: a job with no hint yet,
or first seen queued (asked to come back in a second) and now listed running, is asked alone
once, for the pace of a running job. An upstream whose retrieves carry no hint is read from
the listing at the default interval.

An upstream that is itself an OpenReel (its videos carry a ``phase``) tells of every change on
``GET /videos/{id}/events``: up to :data:`MAX_STREAMS` jobs at once follow that stream instead
of polling (``upstream_events.EventStream``), so a finished video is seen the moment it finishes there, and the
waiting loop is woken by it (:meth:`UpstreamClient.wait_for_news`). A stream that fails, or an
upstream without the route, leaves the job to its polls.

An edit is passed through as ``POST /videos/edits``, multipart with the source video as the
``video`` file (the form OpenAI's SDK sends), since the upstream knows none of our ids.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.hosted.base import (
    ProviderRefusedError,
    RemoteJob,
    TransientProviderError,
)
from openreel.backends.hosted.dialects import DIALECTS, Dialect, create_body
from openreel.backends.hosted.http import json_object, raise_for_status, send
from openreel.backends.hosted.listing import ListingUnsupportedError, SharedListing
from openreel.backends.hosted.upstream_events import FINAL_STATES, EventStream, remote_job
from openreel.backends.hosted.upstream_health import UpstreamHealth
from openreel.backends.hosted.upstream_jobs import JobSlots, RecentDurations
from openreel.domain import VideoRequest
from openreel.errors import BackendError

__all__ = [
    "MAX_STREAMS",
    "UpstreamClient",
    "create_form",
]

log = logging.getLogger(__name__)

MAX_STREAMS = 16
"""Most jobs one client follows by ``/events`` at once; the rest poll. Each stream is a
connection the upstream keeps open and looks at the job for, so hundreds of them would cost it
more than the shared listing does."""


class UpstreamClient:
    """HTTP client for a ``/v1/videos`` upstream of any dialect (backends/hosted/dialects.py).

    Args:
        base_url: The API root, ending in ``/v1``.
        api_key: The upstream's bearer token (kept in this object only; never logged); None
            for a server that checks none.
        name: The upstream's name, used in logs and errors (``upstream`` by default).
        dialect: Which ``/v1/videos`` variant it speaks.
        timeout_s: Per-request timeout; a slower answer counts as a transient failure.
        transport: An httpx transport (tests pass a mock); the network by default.
        listing: A SharedListing answering polls (built over ``GET /videos`` by default).
        clock: Monotonic seconds for the default listing's freshness and the durations
            progress is estimated from (tests pass the fake clock their backend loop runs on).
        slots: The upstream's job slots, when its jobs are limited (see ``upstream_jobs.JobSlots``).
        health: Told whether each request reached the server.
        drain_interval_s: How often a cancelled job that the server cannot stop is asked
            whether it has ended, while it holds its slot.
        drain_max_s: Longest such a job holds its slot.
        signers: The upstream's signing certificates the operator pinned (PEM): its videos
            signed under them are passed on by their signature (``services.relay.vouched``).
    """

    provider = "upstream"

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        name: str = "upstream",
        dialect: str = "openai",
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        listing: SharedListing | None = None,
        clock: Callable[[], float] = time.monotonic,
        slots: JobSlots | None = None,
        health: UpstreamHealth | None = None,
        drain_interval_s: float = 5.0,
        drain_max_s: float = 1800.0,
        signers: tuple[bytes, ...] = (),
    ) -> None:
        self.provider = name
        self.signers = signers
        self.dialect: Dialect = DIALECTS[dialect]
        self._listing = listing or SharedListing(self._list, clock=clock)
        headers = {}
        if api_key and self.dialect.authenticated:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
        )
        self._clock = clock
        self._slots = slots
        self._health = health
        self._drain_interval_s = drain_interval_s
        self._drain_max_s = drain_max_s
        self._closed = threading.Event()
        self.durations = RecentDurations()
        self._started: dict[str, tuple[str, float]] = {}  # job id -> (remote model, when)
        self._paces: dict[str, tuple[str, float]] = {}  # job id -> (state, hint in seconds)
        self._paces_lock = threading.Lock()
        self._sends_hints = True  # until a retrieve comes without one
        self._streams: dict[str, EventStream] = {}
        self._has_events = True  # until an OpenReel upstream's /events answers 404 or 405
        # Learnt from its /models (the probe) or its videos' phase: an OpenReel takes a seed,
        # streams each change and lends its previews.
        self._openreel = False
        self._asked_kind = False  # whether its /models has answered once

    def attach_health(self, health: UpstreamHealth) -> None:
        """Tells ``health`` (built over :meth:`probe`) whether each request reaches the server."""
        self._health = health

    def probe(self) -> str | None:
        """Asks the server once whether it is there (``GET {url}/models`` for an OpenAI
        upstream, ``GET /health`` at the root for the GPU servers, which all serve it);
        returns None when it answered, else why not. A refused key still counts as
        reachable: its jobs fail with the credentials logged."""
        url = "/models" if self.dialect.probe == "models" else _root(self._http.base_url, "/health")
        try:
            response = self._http.get(url, timeout=min(5.0, self._http.timeout.read or 5.0))
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} reaching {self._where()}"
        if response.status_code >= 500 or (
            self.dialect.probe == "health" and response.status_code >= 400
        ):
            return f"{self._where()} answered HTTP {response.status_code}"
        if self.dialect.probe == "models":
            self._asked_kind = True
            if response.status_code == 200:
                self._openreel = self._openreel or _lists_openreel_models(response)
        return None

    def identify(self) -> None:
        """Asks an ``openai`` upstream's ``/models`` once, unless it has answered already, so
        the first create knows whether the server is an OpenReel: one sent OpenAI's fields
        only would make its video with a seed, rate and sound of its own, not the ones
        recorded here. Any other dialect is sent its fields whatever the answer."""
        if self.dialect.probe == "models" and not (self._openreel or self._asked_kind):
            self.probe()

    def _where(self) -> str:
        url = self._http.base_url
        return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"

    def close(self) -> None:
        """Closes the streams, stops draining, and closes the connection pool."""
        self._closed.set()
        with self._paces_lock:
            streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            stream.close()
        self._http.close()

    def submit(self, model: str, request: VideoRequest) -> str:
        """Creates the video upstream in its dialect's form (see dialects.create_body; an
        edit through an OpenAI upstream's ``/videos/edits``); returns its id."""
        if request.operation == "edit" and request.source is not None:
            return self._submit_edit(model, request, Path(request.source.path))
        body = create_body(self.dialect, model, request, openreel=self._openreel)
        response = self._send("POST", "/videos", **body)
        data = self._json(response)
        video_id = data.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise TransientProviderError(f"upstream answered a create without an id: {data!r:.200}")
        with self._paces_lock:
            self._started[video_id] = (model, self._clock())
        hint = _hint(response)
        if hint is not None:
            self._sends_hints = True
            # An odd status in the create's answer is left to the first poll.
            with contextlib.suppress(TransientProviderError):
                self._note_pace(video_id, remote_job(data, hint))
        if "phase" in data:  # an OpenReel: it takes a seed, streams each change, lends previews
            self._openreel = True
            if self._has_events:
                self._follow_stream(video_id)
        return video_id

    def wait_for_news(self, job_id: str, seconds: float) -> bool | None:
        """Waits up to ``seconds`` for the job's stream to tell of a change.

        Returns:
            True when it did (poll now), False when the time passed quietly, None at once
            when the job has no live stream (the caller sleeps as usual).
        """
        with self._paces_lock:
            stream = self._streams.get(job_id)
        if stream is None or not stream.live:
            return None
        return stream.wait(seconds)

    def _submit_edit(self, model: str, request: VideoRequest, source: Path) -> str:
        media_type = "video/webm" if source.suffix == ".webm" else "video/mp4"
        with source.open("rb") as video:
            response = self._send(
                "POST",
                "/videos/edits",
                data={"prompt": request.prompt, "model": model},
                files={"video": (f"source{source.suffix}", video, media_type)},
            )
        data = self._json(response)
        video_id = data.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise TransientProviderError(f"upstream answered an edit without an id: {data!r:.200}")
        return video_id

    def status(self, job_id: str) -> RemoteJob:
        """The video's state: from the shared listing when it is there, else asked alone.

        A listed job carries the pace its upstream last asked for (see the module
        docstring), and the listing read is no older than that pace.
        """
        streamed = self._streamed(job_id)
        if streamed is not None:
            return streamed
        with self._paces_lock:
            state, pace = self._paces.get(job_id, (None, None))
        listed = self._listing.get(job_id, max_age_s=pace)
        # A hint given for another state (queued, say) is asked for afresh, and so is a first
        # one; a finished job needs none, and an upstream that sends none is read from the
        # listing at the default interval.
        if listed is not None and listed.state in (state, "succeeded", "failed", "refused"):
            job = replace(listed, poll_after_s=pace)
        elif listed is not None and state is None and not self._sends_hints:
            job = listed
        else:
            response = self._send("GET", f"/videos/{job_id}", retrieve=True)
            hint = _hint(response)
            self._sends_hints = hint is not None
            job = remote_job(self._json(response), hint)
        self._note_pace(job_id, job)
        return job if self.dialect.reports_progress else self._estimated(job_id, job)

    def _estimated(self, job_id: str, job: RemoteJob) -> RemoteJob:
        """The job with its progress estimated from its model's recent durations (its
        server's own figure is 0 until done); a finished one adds its duration to them."""
        with self._paces_lock:
            started = self._started.get(job_id)
            if started is not None and job.state not in ("queued", "running"):
                del self._started[job_id]
        if started is None:
            return job
        model, since = started
        elapsed = self._clock() - since
        if job.state == "succeeded":
            self.durations.add(model, elapsed)
            return job
        if job.state not in ("queued", "running"):
            return job
        return replace(job, progress=self.durations.progress(model, elapsed))

    def _follow_stream(self, job_id: str) -> None:
        """Starts following the job's ``/events`` when fewer than MAX_STREAMS are open."""
        with self._paces_lock:
            for done in [k for k, v in self._streams.items() if not v.live and v.latest is None]:
                del self._streams[done]  # failed before telling anything: its job polls
            if len(self._streams) >= MAX_STREAMS:
                return
            self._streams[job_id] = EventStream(self._http, job_id, self._events_missing)

    def _events_missing(self) -> None:
        self._has_events = False

    def _streamed(self, job_id: str) -> RemoteJob | None:
        """The job's state as its stream last told it, while the stream is live (a final
        state also after); None when the job must be polled."""
        with self._paces_lock:
            stream = self._streams.get(job_id)
        if stream is None:
            return None
        latest = stream.latest
        if latest is not None and latest.state in FINAL_STATES:
            with self._paces_lock:
                self._streams.pop(job_id, None)
                self._paces.pop(job_id, None)
            return latest
        if not stream.live:
            with self._paces_lock:
                self._streams.pop(job_id, None)
            return None
        if latest is None:
            return None  # not connected yet: poll meanwhile
        # Nothing to ask for: the stream wakes the wait when there is news, and the loop's
        # default interval only keeps its lease and deadline checks going.
        return replace(latest, poll_after_s=None)

    def _note_pace(self, job_id: str, job: RemoteJob) -> None:
        """Keeps the pace an unfinished job's upstream asked for; forgets a finished one."""
        with self._paces_lock:
            if job.state not in ("queued", "running"):
                self._paces.pop(job_id, None)
            elif job.poll_after_s is not None:
                self._paces[job_id] = (job.state, job.poll_after_s)

    def _list(self, wanted: frozenset[str], max_pages: int) -> dict[str, RemoteJob]:
        """The newest videos, page by page until ``wanted`` are all seen (SharedListing's fetch)."""
        found: dict[str, RemoteJob] = {}
        params: dict[str, str | int] = {"limit": 100, "order": "desc"}
        for _ in range(max_pages):
            response = self._send("GET", "/videos", params=params, listing=True)
            if response.status_code in (404, 405):
                raise ListingUnsupportedError(
                    f"upstream has no listing (HTTP {response.status_code})"
                )
            data = self._json(response)
            items = data.get("data")
            if not isinstance(items, list):
                raise ListingUnsupportedError("upstream's GET /videos is not a list")
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    try:
                        found[item["id"]] = remote_job(item, None)
                    except TransientProviderError:
                        continue  # asked alone, it gets the usual retries
            if wanted <= found.keys() or not data.get("has_more") or not items:
                break
            last = items[-1]
            if not isinstance(last, dict) or not isinstance(last.get("id"), str):
                break
            params["after"] = last["id"]
        return found

    def download(self, job_id: str, target: Path) -> None:
        """Streams the finished MP4 to ``target``."""
        try:
            # SGLang reads ``variant`` as an output's index: only OpenAI's API names variants.
            params = {"variant": "video"} if self.dialect.name == "openai" else None
            with self._http.stream("GET", f"/videos/{job_id}/content", params=params) as response:
                if response.status_code in (404, 410):
                    raise BackendError(
                        f"the upstream video {job_id} is gone (HTTP {response.status_code}); "
                        "its download expired before it was fetched",
                        code="backend_error",
                    )
                self._raise_for(response)
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise TransientProviderError(f"download failed: {type(exc).__name__}") from None

    def download_previews(self, job_id: str, thumbnail: Path, spritesheet: Path) -> None:
        """Fetches an OpenReel upstream's thumbnail and spritesheet of a finished video to
        ``thumbnail`` and ``spritesheet``, both at once; best effort: a file that could not
        be fetched is simply absent (a relay then makes its own), and any other upstream is
        not asked (its previews would not be kept: only an OpenReel's video is relayed)."""
        if not self._openreel:
            return
        with ThreadPoolExecutor(2, thread_name_prefix="upstream-previews") as pool:
            for fetched in [
                pool.submit(self._preview, job_id, variant, target)
                for variant, target in (("thumbnail", thumbnail), ("spritesheet", spritesheet))
            ]:
                fetched.result()

    def _preview(self, job_id: str, variant: str, target: Path) -> None:
        try:
            response = self._http.get(f"/videos/{job_id}/content", params={"variant": variant})
            if response.status_code == 200:
                target.write_bytes(response.content)
        except (httpx.HTTPError, OSError) as exc:
            target.unlink(missing_ok=True)
            log.info("%s: no %s for %s (%s)", self.provider, variant, job_id, type(exc).__name__)

    def cancel(self, job_id: str) -> None:
        """Stops the job upstream as its dialect allows.

        An OpenAI upstream is sent OpenReel's cancel route, never a ``DELETE`` (which deletes
        a video, it does not stop one): one without the route is told nothing more, and the
        log says so. vLLM-Omni's ``DELETE`` stops the work. SGLang and FastVideo cannot stop
        a job: it is dropped here, and, when the upstream's jobs are limited, its slot stays
        taken until the server has finished it (a background drain), since the GPU is still
        busy; then its record is deleted there.
        """
        with self._paces_lock:
            self._paces.pop(job_id, None)
            self._started.pop(job_id, None)
            stream = self._streams.pop(job_id, None)
        if stream is not None:
            stream.close()
        if self.dialect.cancel == "route":
            response = self._send("POST", f"/videos/{job_id}/cancel")
            if response.status_code in (404, 405):
                log.warning(
                    "upstream has no POST /videos/{id}/cancel (HTTP %s): video %s was not "
                    "stopped there and may run to the end",
                    response.status_code,
                    job_id,
                )
            return
        if self.dialect.cancel == "delete":
            response = self._send("DELETE", f"/videos/{job_id}", delete=True)
            if response.status_code == 409:
                log.warning("%s: video %s is still being stopped there", self.provider, job_id)
            return
        release = self._slots.hand_over() if self._slots is not None else None
        log.warning(
            "%s (%s) cannot stop a job: video %s runs on there and its result is dropped",
            self.provider,
            self.dialect.name,
            job_id,
        )
        if release is None:
            self._forget(job_id)
            return
        threading.Thread(
            target=self._drain, args=(job_id, release), name=f"upstream-drain-{job_id}", daemon=True
        ).start()

    def _drain(self, job_id: str, release: Callable[[], None]) -> None:
        """Waits for a job the server cannot stop to end there, then frees its slot."""
        ends = time.monotonic() + self._drain_max_s
        try:
            while not self._closed.is_set() and time.monotonic() < ends:
                try:
                    response = self._http.get(f"/videos/{job_id}")
                    gone = response.status_code == 404
                    status = None if gone else response.json().get("status")
                except (httpx.HTTPError, ValueError, AttributeError):
                    gone, status = False, None  # unreachable or garbled: ask again
                if gone or status in ("completed", "failed"):
                    break
                self._closed.wait(self._drain_interval_s)
            self._forget(job_id)
        finally:
            release()

    def _forget(self, job_id: str) -> None:
        """Deletes a dropped job's record there (best effort); its work is not stopped."""
        with contextlib.suppress(Exception):
            self._http.delete(f"/videos/{job_id}")

    # ----- plumbing --------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        listing: bool = False,
        retrieve: bool = False,
        delete: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        cancelling = method == "POST" and url.endswith("/cancel")
        if cancelling or listing:
            judge = self._missing_route_ok
        elif retrieve:
            judge = self._failed_job_ok
        elif delete:
            judge = self._stopping_ok
        else:
            judge = self._raise_for
        try:
            response = send(self._http, self.provider, method, url, judge, **kwargs)
        except TransientProviderError as exc:
            if self._health is not None and " unreachable" in str(exc):
                self._health.saw(str(exc))
            raise
        if self._health is not None:
            self._health.saw(None)
        return response

    @classmethod
    def _missing_route_ok(cls, response: httpx.Response) -> None:
        if response.status_code not in (404, 405):  # no such route: the caller falls back
            cls._raise_for(response)

    @classmethod
    def _stopping_ok(cls, response: httpx.Response) -> None:
        if response.status_code not in (404, 409):  # gone already, or still stopping
            cls._raise_for(response)

    @classmethod
    def _failed_job_ok(cls, response: httpx.Response) -> None:
        """A retrieve's status, where vLLM-Omni answers a failed job with its error status
        and the job as the body: that body is the answer, not an error."""
        if response.status_code >= 400:
            try:
                response.read()
                body = response.json()
            except (ValueError, httpx.ResponseNotRead):
                body = None
            if isinstance(body, dict) and body.get("status") == "failed" and "id" in body:
                return
        cls._raise_for(response)

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        raise_for_status(response, "upstream", _rejection)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        return json_object(response, "upstream")


def _hint(response: httpx.Response) -> float | None:
    """The answer's ``openai-poll-after-ms`` in seconds, when it has a sensible one."""
    after = response.headers.get("openai-poll-after-ms")
    return float(after) / 1000.0 if after and after.isdigit() else None


def create_form(model: str, request: VideoRequest) -> tuple[dict[str, str], dict[str, Any]]:
    """The multipart create for an OpenAI upstream: its form fields and its files (the
    reference image as the file part ``input_reference``), as OpenAI's SDK sends
    ``videos.create``."""
    body = create_body(DIALECTS["openai"], model, request)
    return body["data"], body["files"]


def _lists_openreel_models(response: httpx.Response) -> bool:
    """Whether a ``GET /models`` answer is an OpenReel's: entries ``owned_by: "openreel"``
    with the ``capabilities`` OpenReel's ``/v1/models`` adds (api/protocol.py ``ModelCard``)."""
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return False
    return isinstance(data, list) and any(
        isinstance(item, dict)
        and item.get("owned_by") == "openreel"
        and isinstance(item.get("capabilities"), dict)
        for item in data
    )


def _root(base: httpx.URL, path: str) -> str:
    """``path`` at the server's root: the API root less its ``/v1``."""
    prefix = base.path.rstrip("/")
    prefix = prefix.removesuffix("/v1")
    return f"{base.scheme}://{base.netloc.decode('ascii')}{prefix}{path}"


def _rejection(response: httpx.Response) -> Exception:
    """An error reply in OpenAI's shape, ``{"error": {"code", "message"}}``, as a refusal
    (``moderation_blocked``) or a failure with the upstream's message."""
    try:
        response.read()
        body = response.json()
        error = body.get("error") or {}
        detail = body.get("detail")  # FastAPI's HTTPException (SGLang, FastVideo)
        if not error and detail:
            error = {"message": detail if isinstance(detail, str) else json.dumps(detail)}
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        error = {}
    message = (
        str(error.get("message") or f"HTTP {response.status_code}")
        if isinstance(error, dict)
        else ""
    )
    if isinstance(error, dict) and error.get("code") == "moderation_blocked":
        return ProviderRefusedError(message)
    return BackendError(f"upstream rejected the request: {message}", code="backend_error")
