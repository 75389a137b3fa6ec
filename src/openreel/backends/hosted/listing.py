"""SharedListing: one listing of a provider's recent jobs answers every waiting job's poll.

A server following hundreds of jobs at one provider would otherwise send each its own status
request every few seconds: 200 jobs polled every 2 s is 100 requests a second, and their HTTP
exchanges alone take a good share of a core spent asking "done yet?"
(benchmarks/poll_clients.py, benchmarks/hosted_poll.py). Providers whose API lists recent jobs
with their states (the ``/v1/videos`` upstream's ``GET /videos``; Replicate and Luma have the
same kind of listing) can answer all of them with a page or three.

Every job's thread still polls on its own schedule (so cancels, deadlines and backoff work as
for any provider); it just reads the state from a listing at most ``fresh_s`` old. Only one
thread fetches at a time; the others wait for that answer rather than sending the same request.
A job not on the pages read (older than the newest hundreds) gets ``None`` and the caller asks
for it alone; a provider without a listing (404 or 405) is remembered and never asked again.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping

from openreel.backends.hosted.base import RemoteJob

__all__ = ["ListingUnsupportedError", "SharedListing"]


class ListingUnsupportedError(Exception):
    """The provider has no listing (it answered 404 or 405): poll job by job."""


class SharedListing:
    """Recent jobs' states, fetched for everyone at most every ``fresh_s`` seconds.

    Args:
        fetch: Reads pages of the newest jobs, newest first, until every id in ``wanted`` has
            been seen, the listing ends, or ``max_pages`` pages were read; returns the states
            of all jobs seen, by id. Raises ListingUnsupportedError when the provider has no
            listing; any other error reaches every caller that was waiting on that fetch.
        fresh_s: Age up to which a listing answers polls.
        max_pages: Most pages read per listing.
        forget_s: A job not asked about for this long no longer counts as followed.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        fetch: Callable[[frozenset[str], int], Mapping[str, RemoteJob]],
        *,
        fresh_s: float = 1.0,
        max_pages: int = 5,
        forget_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._fresh_s = fresh_s
        self._max_pages = max_pages
        self._forget_s = forget_s
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: Mapping[str, RemoteJob] = {}
        self._error: Exception | None = None
        self._listed_at: float | None = None
        self._asked: dict[str, float] = {}
        self._supported = True

    @property
    def supported(self) -> bool:
        """False once the provider has shown it has no listing."""
        return self._supported

    def get(self, job_id: str, *, max_age_s: float | None = None) -> RemoteJob | None:
        """``job_id``'s state from a listing at most ``fresh_s`` old (or ``max_age_s``, when
        that is sooner: the pace the job's provider asked for); None when not listed.

        Raises:
            Whatever the last fetch raised, to every caller within ``fresh_s`` of it (so a
            failing provider costs one request per interval, not one per waiting job).
        """
        if not self._supported:
            return None
        # Fetching under the lock is deliberate: a thread that finds a fetch in progress
        # waits for its answer instead of sending the same request.
        with self._lock:
            now = self._clock()
            self._asked[job_id] = now
            fresh_s = self._fresh_s if max_age_s is None else min(self._fresh_s, max_age_s)
            if self._listed_at is None or now - self._listed_at >= fresh_s:
                self._refresh(now)
            if self._error is not None:
                raise copy.copy(self._error)  # one instance per raise: threads don't share one
            if not self._supported:
                return None
            return self._jobs.get(job_id)

    def _refresh(self, now: float) -> None:
        self._asked = {k: at for k, at in self._asked.items() if now - at < self._forget_s}
        try:
            self._jobs, self._error = self._fetch(frozenset(self._asked), self._max_pages), None
        except ListingUnsupportedError:
            self._supported, self._jobs, self._error = False, {}, None
        except Exception as exc:  # handed to each caller, who retries as for its own poll
            self._jobs, self._error = {}, exc
        self._listed_at = self._clock()
