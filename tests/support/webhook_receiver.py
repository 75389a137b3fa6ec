"""A webhook receiver on loopback for tests: it records every request and answers from a
script (a status sequence, a redirect, or hanging until released).

Signatures are checked by the tests themselves with the official ``openai`` SDK's
``webhooks.unwrap``, never here: this only keeps the exact bytes and headers it received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The recording receiver; ``statuses`` are answered in turn, then ``status`` forever.

    Attributes:
        status: The answer once ``statuses`` is used up.
        statuses: Answers for the first requests, in order.
        hang: While set, requests wait (up to a minute) before answering: a slow receiver.
        location: With a 3xx status, where the redirect points.
        retry_after: A ``Retry-After`` value sent with non-2xx answers.
        delay: Seconds every request waits before its answer (a receiver with work to do).
    """

    port: int = 0
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    hang: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    location: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    answered: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.status

    def ids(self) -> list[str]:
        """The ``webhook-id`` of every request, in arrival order."""
        with self.lock:
            return [r.headers.get("webhook-id", "") for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Waits until ``count`` requests arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} requests arrived, not {count}")
            time.sleep(0.01)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            seen = Received(
                time.monotonic(),
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with receiver.lock:
                receiver.received.append(seen)
            if receiver.delay:
                time.sleep(receiver.delay)
            if receiver.hang.is_set():
                receiver.release.wait(60)
            status = receiver.next_status()
            reply = b'{"ok": true}' if 200 <= status < 300 else b"x" * 5000
            try:
                self.send_response(status)
                if receiver.location is not None and 300 <= status < 400:
                    self.send_header("location", receiver.location)
                if receiver.retry_after is not None and status >= 300:
                    self.send_header("retry-after", receiver.retry_after)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:  # the sender gave up (its timeout): nothing was answered
                return
            with receiver.lock:
                receiver.answered.append((seen.headers.get("webhook-id", ""), status))

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Handler


@contextmanager
def receiving(**options: object) -> Iterator[Receiver]:
    """A :class:`Receiver` listening on a free loopback port for the block's duration."""
    receiver = Receiver(**options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
