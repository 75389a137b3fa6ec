"""A generic upstream that speaks ``/v1/videos``: another OpenReel, or any compatible gateway.

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
of polling (:class:`_Stream`), so a finished video is seen the moment it finishes there, and the
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
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from openreel.backends.hosted.base import ProviderRefusedError, RemoteJob, TransientProviderError
from openreel.backends.hosted.http import json_object, raise_for_status, send
from openreel.backends.hosted.listing import ListingUnsupportedError, SharedListing
from openreel.domain import VideoRequest
from openreel.errors import BackendError

__all__ = ["MAX_STREAMS", "UpstreamClient", "create_form"]

log = logging.getLogger(__name__)

MAX_STREAMS = 16
"""Most jobs one client follows by ``/events`` at once; the rest poll. Each stream is a
connection the upstream keeps open and looks at the job for, so hundreds of them would cost it
more than the shared listing does."""

_FINAL = ("succeeded", "failed", "refused")

_STATES = {"queued": "queued", "in_progress": "running", "completed": "succeeded"}


class UpstreamClient:
    """HTTP client for a ``/v1/videos`` upstream.

    Args:
        base_url: The API root, ending in ``/v1``.
        api_key: The upstream's bearer token (kept in this object only; never logged).
        timeout_s: Per-request timeout; a slower answer counts as a transient failure.
        transport: An httpx transport (tests pass a mock); the network by default.
        listing: A SharedListing answering polls (built over ``GET /videos`` by default).
        clock: Monotonic seconds for the default listing's freshness (tests pass the fake
            clock their backend loop runs on).
    """

    provider = "upstream"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        listing: SharedListing | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._listing = listing or SharedListing(self._list, clock=clock)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
        )
        self._paces: dict[str, tuple[str, float]] = {}  # job id -> (state, hint in seconds)
        self._paces_lock = threading.Lock()
        self._sends_hints = True  # until a retrieve comes without one
        self._streams: dict[str, _Stream] = {}
        self._has_events = True  # until an OpenReel upstream's /events answers 404 or 405

    def close(self) -> None:
        """Closes the streams and the connection pool."""
        with self._paces_lock:
            streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            stream.close()
        self._http.close()

    def submit(self, model: str, request: VideoRequest) -> str:
        """Creates the video upstream (a multipart form, see :func:`create_form`; an edit
        through its ``/videos/edits``); returns its id."""
        if request.operation == "edit" and request.source is not None:
            return self._submit_edit(model, request, Path(request.source.path))
        fields, files = create_form(model, request)
        response = self._send("POST", "/videos", data=fields, files=files)
        data = self._json(response)
        video_id = data.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise TransientProviderError(f"upstream answered a create without an id: {data!r:.200}")
        hint = _hint(response)
        if hint is not None:
            self._sends_hints = True
            # An odd status in the create's answer is left to the first poll.
            with contextlib.suppress(TransientProviderError):
                self._note_pace(video_id, _remote(data, hint))
        if "phase" in data and self._has_events:  # an OpenReel: it streams each change
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
            response = self._send("GET", f"/videos/{job_id}")
            hint = _hint(response)
            self._sends_hints = hint is not None
            job = _remote(self._json(response), hint)
        self._note_pace(job_id, job)
        return job

    def _follow_stream(self, job_id: str) -> None:
        """Starts following the job's ``/events`` when fewer than MAX_STREAMS are open."""
        with self._paces_lock:
            for done in [k for k, v in self._streams.items() if not v.live and v.latest is None]:
                del self._streams[done]  # failed before telling anything: its job polls
            if len(self._streams) >= MAX_STREAMS:
                return
            self._streams[job_id] = _Stream(self._http, job_id, self._events_missing)

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
        if latest is not None and latest.state in _FINAL:
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
                        found[item["id"]] = _remote(item, None)
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
            with self._http.stream(
                "GET", f"/videos/{job_id}/content", params={"variant": "video"}
            ) as response:
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

    def cancel(self, job_id: str) -> None:
        """Cancels upstream with OpenReel's cancel route; an upstream without it is not sent a
        ``DELETE`` (which deletes a video, it does not stop one): the log says so instead."""
        with self._paces_lock:
            self._paces.pop(job_id, None)
            stream = self._streams.pop(job_id, None)
        if stream is not None:
            stream.close()
        response = self._send("POST", f"/videos/{job_id}/cancel")
        if response.status_code in (404, 405):
            log.warning(
                "upstream has no POST /videos/{id}/cancel (HTTP %s): video %s was not stopped "
                "there and may run to the end",
                response.status_code,
                job_id,
            )

    # ----- plumbing --------------------------------------------------------------------

    def _send(
        self, method: str, url: str, *, listing: bool = False, **kwargs: Any
    ) -> httpx.Response:
        cancelling = method == "POST" and url.endswith("/cancel")
        return send(
            self._http,
            "upstream",
            method,
            url,
            self._missing_route_ok if cancelling or listing else self._raise_for,
            **kwargs,
        )

    @classmethod
    def _missing_route_ok(cls, response: httpx.Response) -> None:
        if response.status_code not in (404, 405):  # no such route: the caller falls back
            cls._raise_for(response)

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        raise_for_status(response, "upstream", _rejection)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        return json_object(response, "upstream")


class _Stream:
    """One job's ``GET /videos/{id}/events`` from an OpenReel upstream, read in a thread.

    Each event's data is the video object as a retrieve returns it; the newest is kept as
    :attr:`latest` and wakes :meth:`wait`. The stream ends with the video's final event, a
    failure (the job is polled again) or :meth:`close`.
    """

    def __init__(self, http: httpx.Client, job_id: str, events_missing: Callable[[], None]) -> None:
        self._http = http
        self._job_id = job_id
        self._events_missing = events_missing
        self._news = threading.Event()
        self._closed = threading.Event()
        self._response: httpx.Response | None = None
        self.latest: RemoteJob | None = None
        self.live = True
        threading.Thread(target=self._read, name=f"upstream-events-{job_id}", daemon=True).start()

    def wait(self, seconds: float) -> bool:
        """Waits up to ``seconds`` for news; True when some came (it is then taken)."""
        came = self._news.wait(seconds)
        self._news.clear()
        return came

    def close(self) -> None:
        """Stops reading (the job was cancelled or the client is closing)."""
        self._closed.set()
        response = self._response
        if response is not None:
            response.close()

    def _read(self) -> None:
        try:
            with self._http.stream("GET", f"/videos/{self._job_id}/events") as response:
                self._response = response
                if response.status_code in (404, 405):
                    self._events_missing()
                    return
                if response.status_code != 200 or not response.headers.get(
                    "content-type", ""
                ).startswith("text/event-stream"):
                    return
                for kind, data in _events(response.iter_lines()):
                    if self._closed.is_set() or kind == "error":
                        return
                    try:
                        self.latest = _remote(json.loads(data), None)
                    except (ValueError, AttributeError, TransientProviderError):
                        continue
                    self._news.set()
                    if self.latest.state in _FINAL:
                        return
        except (httpx.HTTPError, OSError, RuntimeError):
            pass  # closed, or the connection broke: the job is polled again
        finally:
            self.live = False
            self._news.set()


def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """Server-Sent Events as (event, data): ``data`` lines joined, comments skipped, each
    dispatched at its blank line (the WHATWG rules, less ``id`` and ``retry``)."""
    kind = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield kind, "\n".join(data)
            kind, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)


def _hint(response: httpx.Response) -> float | None:
    """The answer's ``openai-poll-after-ms`` in seconds, when it has a sensible one."""
    after = response.headers.get("openai-poll-after-ms")
    return float(after) / 1000.0 if after and after.isdigit() else None


class _Multipart(dict[str, Any]):
    """An empty ``files`` that still makes httpx send multipart, as OpenAI's SDK does with its
    ``ForceMultipartDict`` (httpx sends a form without files url-encoded otherwise)."""

    def __bool__(self) -> bool:
        return True


def create_form(model: str, request: VideoRequest) -> tuple[dict[str, str], dict[str, Any]]:
    """The multipart create for ``request``: its form fields and its files (the reference
    image as the file part ``input_reference``), as OpenAI's SDK sends ``videos.create``."""
    fields = {
        "prompt": request.prompt,
        "model": model,
        "seconds": f"{request.seconds:g}",
        "size": request.size,
    }
    files: dict[str, Any] = _Multipart()
    image = request.input_reference
    if image is not None:
        suffix = image.media_type.rpartition("/")[2] or "bin"
        files["input_reference"] = (f"input_reference.{suffix}", image.data, image.media_type)
    return fields, files


def _remote(data: dict[str, Any], poll_after: float | None) -> RemoteJob:
    """A video object (from a retrieve or a listing) as a RemoteJob."""
    status = data.get("status")
    progress = data.get("progress")
    progress = float(progress) if isinstance(progress, int | float) else None
    if status in _STATES:
        return RemoteJob(_STATES[status], progress, None, poll_after)  # type: ignore[arg-type]
    if status == "failed":
        error = data.get("error") or {}
        message = str(error.get("message") or "failed") if isinstance(error, dict) else None
        refused = isinstance(error, dict) and error.get("code") == "moderation_blocked"
        return RemoteJob("refused" if refused else "failed", progress, message, poll_after)
    raise TransientProviderError(f"upstream reported an unknown status {status!r}")


def _rejection(response: httpx.Response) -> Exception:
    """An error reply in OpenAI's shape, ``{"error": {"code", "message"}}``, as a refusal
    (``moderation_blocked``) or a failure with the upstream's message."""
    try:
        response.read()
        error = response.json().get("error") or {}
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
