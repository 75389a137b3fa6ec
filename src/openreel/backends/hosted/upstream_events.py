"""Following an OpenReel upstream's ``GET /videos/{id}/events``, and reading the video objects
an upstream answers with (a retrieve, a listing entry or an event) as the hosted loop's jobs.

Apart from the client (backends/hosted/upstream.py) because it is its own protocol: a thread
per followed job reading Server-Sent Events, which the client only starts, asks and closes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from openreel.backends.hosted.base import RemoteJob, TransientProviderError

__all__ = ["FINAL_STATES", "EventStream", "remote_job"]

FINAL_STATES = ("succeeded", "failed", "refused")
"""The job states after which nothing changes any more."""

_STATES = {"queued": "queued", "in_progress": "running", "completed": "succeeded"}


def remote_job(data: dict[str, Any], poll_after: float | None) -> RemoteJob:
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


class EventStream:
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
                        self.latest = remote_job(json.loads(data), None)
                    except (ValueError, AttributeError, TransientProviderError):
                        continue
                    self._news.set()
                    if self.latest.state in FINAL_STATES:
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
