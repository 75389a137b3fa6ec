"""The dispatcher: claims due deliveries from the outbox and makes their attempts.

One per process that runs it (``openreel serve``, and each ``openreel worker`` beside its
Celery jobs); any number share one database, since every delivery is claimed with a lease
(``storage/webhooks.py``). A thread claims as many due deliveries as the pool has free slots
and hands each to the pool, so one receiver that hangs holds one slot for one timeout and
never the others' attempts; the attempts' results come back to that thread, which writes
each batch in one transaction (on SQLite, ten separate writes queue behind each other and
behind the render workers for the one write lock). Between claims it sleeps until the earliest delivery is due, a
change in this process nudges it (:meth:`WebhookDispatcher.nudge`), or ``poll_seconds`` pass:
deliveries waiting on backoff cost one indexed read per wake-up, not one per delivery.

A failed attempt is retried after ``base * 2**(attempts-1)`` seconds (at most
``max_delay``), jittered into its upper half so that retries of many deliveries spread out,
and never sooner than the receiver's ``Retry-After``; after ``max_age`` the delivery is given
up. Every attempt carries the same ``webhook-id`` and a fresh timestamp and signature.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from openreel.errors import ConfigurationError
from openreel.services.webhooks.sender import Reply, WebhookSender
from openreel.services.webhooks.signing import signed_headers
from openreel.storage.webhooks import Attempt, Claimed, Outcome, WebhookStore
from openreel.trust.sealing import SecretBox

__all__ = ["LEASE_MARGIN_S", "RetryPolicy", "WebhookDispatcher"]

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
"""How often a dispatcher deletes the deliveries older than ``RetryPolicy.keep_seconds``."""

LEASE_MARGIN_S = 10.0
"""How much longer than the attempt's timeout its lease lasts: time to write the result."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again and when to give up.

    Attributes:
        base_seconds: The first retry's delay.
        max_delay_seconds: The longest delay (also caps ``Retry-After``).
        max_age_seconds: How long after its window opened a delivery is still retried.
        disable_after_seconds: How long an endpoint may fail every attempt before it is
            disabled.
        keep_seconds: How long an ended delivery (and its attempts) stays listed.
    """

    base_seconds: float
    max_delay_seconds: float
    max_age_seconds: float
    disable_after_seconds: float
    keep_seconds: float = 30 * 86400

    def delay(self, attempts: int, rng: float, retry_after: float | None = None) -> float:
        """Seconds before the next try after ``attempts`` failed ones (``rng`` in [0, 1))."""
        exponent = min(max(attempts - 1, 0), 60)
        full = min(self.max_delay_seconds, self.base_seconds * 2.0**exponent)
        jittered = full * (0.5 + rng / 2)
        if retry_after is not None:
            jittered = max(jittered, min(retry_after, self.max_delay_seconds))
        return jittered


class WebhookDispatcher:
    """Claims deliveries and runs their attempts on a bounded pool (see the module docstring).

    Args:
        store: The outbox.
        sender: Makes the HTTP attempts.
        box: Opens the endpoints' sealed secrets.
        retry: Backoff and give-up rules.
        holder: This dispatcher's unique name, written on the rows it holds.
        concurrency: Attempts in flight at once.
        poll_seconds: The longest sleep between two looks at the outbox.
        clock: Unix seconds; tests pass their own.
        rng: Jitter source in [0, 1).
    """

    def __init__(
        self,
        store: WebhookStore,
        sender: WebhookSender,
        box: SecretBox,
        retry: RetryPolicy,
        *,
        holder: str,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._sender = sender
        self._box = box
        self._retry = retry
        self._holder = holder
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._clock = clock
        self._rng = rng
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._results: list[tuple[Claimed, Outcome]] = []
        self._pruned_at = float("-inf")
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    @property
    def lease_seconds(self) -> float:
        """How long one claim holds a delivery."""
        return self._sender.timeout + LEASE_MARGIN_S

    def recover_interrupted(self) -> int:
        """Frees the deliveries whose attempt a previous process left in flight (call only
        while holding the data folder's lock over its own database; see
        :meth:`~openreel.storage.webhooks.WebhookStore.release_all`)."""
        return self._store.release_all(self._clock())

    def nudge(self) -> None:
        """Wakes the loop now (a job changed in this process: an event may be waiting)."""
        self._wake.set()

    def start(self) -> None:
        """Starts the loop thread and the attempts' pool."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="openreel-webhook")
        self._thread = threading.Thread(target=self._loop, name="openreel-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops claiming, and waits up to ``timeout`` for attempts in flight; an attempt
        still running then is abandoned, and its lease brings it back later."""
        thread, pool = self._thread, self._pool
        if thread is None or pool is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
            self._flush()
        self._thread = self._pool = None

    def run_once(self) -> int:
        """Records the attempts that ended, then claims what is due and free slots allow,
        and starts those attempts (runs them here when the dispatcher is not started).

        Returns:
            How many attempts were started.
        """
        self._flush()
        self._prune()
        pool = self._pool
        with self._lock:
            free = self._concurrency - self._in_flight
        if free <= 0:
            return 0
        claimed = self._store.claim(
            self._holder, limit=free, lease_seconds=self.lease_seconds, now=self._clock()
        )
        with self._lock:
            self._in_flight += len(claimed)
        for item in claimed:
            if pool is None:
                self._attempt(item)
            else:
                pool.submit(self._attempt, item).add_done_callback(self._unless_cancelled)
        if pool is None:
            self._flush()
        return len(claimed)

    def _attempt(self, claimed: Claimed) -> None:
        """One attempt, on a pool thread; its result waits for the loop's next batch."""
        try:
            outcome: Outcome | None = self._try(claimed)
        except Exception:  # a bug must not kill the pool thread; the lease brings it back
            log.exception("webhook attempt %s failed unexpectedly", claimed.delivery.id)
            outcome = None
        with self._lock:
            if outcome is None:
                self._in_flight -= 1
            else:
                self._results.append((claimed, outcome))
        self._wake.set()

    def _prune(self) -> None:
        """Every :data:`PRUNE_EVERY_S`, deletes the deliveries that ended long ago."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        pruned = self._store.prune(self._clock() - self._retry.keep_seconds)
        if pruned:
            log.info("deleted %d webhook deliveries that ended long ago", pruned)

    def _unless_cancelled(self, future: Future[None]) -> None:
        """Frees the slot of an attempt that :meth:`stop` cancelled before it started."""
        if future.cancelled():
            with self._lock:
                self._in_flight -= 1

    def _flush(self) -> None:
        """Writes the ended attempts in one transaction (``finish_many``); their slots are
        free again once they are written, so a claim never outruns the records."""
        with self._lock:
            batch, self._results = self._results, []
        if not batch:
            return
        try:
            kept = self._store.finish_many(batch, self._holder)
        finally:
            with self._lock:
                self._in_flight -= len(batch)
        for (claimed, _), written in zip(batch, kept, strict=True):
            if not written:
                log.info(
                    "webhook delivery %s was taken over before its attempt ended",
                    claimed.delivery.id,
                )

    def _try(self, claimed: Claimed) -> Outcome:
        delivery, endpoint = claimed.delivery, claimed.endpoint
        now = self._clock()
        try:
            secrets = [self._box.open(endpoint.secret)]
            if (
                endpoint.previous_secret is not None
                and endpoint.previous_until is not None
                and endpoint.previous_until > now
            ):
                secrets.append(self._box.open(endpoint.previous_secret))
        except ConfigurationError as exc:  # another key sealed it: nothing can be signed
            log.error("webhook delivery %s: %s", delivery.id, exc.message)
            reply = Reply(now, 0.0, error="not sent: this server cannot open the endpoint's secret")
        else:
            body = delivery.payload.encode()
            headers = signed_headers(secrets, delivery.id, int(now), body)
            reply = self._sender.send(endpoint.url, body, headers)
        return self._outcome(claimed, reply)

    def _outcome(self, claimed: Claimed, reply: Reply) -> Outcome:
        attempt = Attempt(
            started_at=reply.started_at,
            latency_ms=reply.latency_ms,
            status_code=reply.status_code,
            error=reply.error,
            excerpt=reply.excerpt,
        )
        retry_at: float | None = None
        if not reply.ok:
            ended = reply.started_at + reply.latency_ms / 1000
            attempts = claimed.delivery.attempts + 1
            retry_at = ended + self._retry.delay(attempts, self._rng(), reply.retry_after)
            if retry_at > claimed.delivery.window_start + self._retry.max_age_seconds:
                retry_at = None
        return Outcome(
            attempt=attempt,
            delivered=reply.ok,
            retry_at=retry_at,
            disable_after=self._retry.disable_after_seconds,
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a nudge from now on cuts the next sleep short
            try:
                started = self.run_once()
                wait = 0.0 if started else self._sleep_for()
            except Exception:  # the database is away: try again after a poll period
                log.exception("the webhook dispatcher could not read the outbox")
                wait = self._poll
            if wait > 0:
                self._wake.wait(wait)

    def _sleep_for(self) -> float:
        """Until the earliest pending delivery is due, at most ``poll_seconds``."""
        with self._lock:
            if self._in_flight >= self._concurrency:
                return self._poll  # a finishing attempt wakes the loop
        due = self._store.next_due()
        if due is None:
            return self._poll
        return min(self._poll, max(0.0, due - self._clock()))
