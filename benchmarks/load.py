"""Benchmark: one ``openreel serve`` under 100, 300 and 1,000 clients, and what a connection costs.

Why it exists: a server that drops a connection under load, or one whose memory grows fast per
idle connection, fails people before anything renders. Each client creates a tiny video, polls
it every 0.2 s and downloads it, with its own httpx pool (tests/support/load.py); the report
gives requests per second, p50/p99 latency, 5xx answers and transport errors. Then it holds
``--idle`` kept-alive connections open and reports the server's resident memory per connection.

Run: ``.venv/bin/python benchmarks/load.py [--clients 100 300 1000] [--runs 3] [--idle 1000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the load driver lives with the tests that use it

from tests.support.live_server import free_port, mint, start_server  # noqa: E402
from tests.support.load import LoadReport, run_clients  # noqa: E402

VIDEO = {"prompt": "a small boat on a calm lake", "model": "openreel-sketch", "seconds": "1",
         "size": "96x64", "fps": 8}  # fmt: skip


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server with rate limits and quotas off (tests/support/live_server.py) and a token."""
    token = mint(data_dir, "loader")
    port = free_port()
    proc = start_server(data_dir, port, data_dir / "server.log")
    return proc, f"http://127.0.0.1:{port}", token


def _memory_per_connection(proc: subprocess.Popen[bytes], port: int, count: int) -> float:
    """Server RSS growth per kept-alive idle connection, in KiB (each answered one request)."""
    server = psutil.Process(proc.pid)

    def hold(n: int) -> list[socket.socket]:
        sockets = []
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            sock.recv(4096)
            sockets.append(sock)
        return sockets

    for sock in hold(50):  # first-use allocations are not a connection's cost
        sock.close()
    time.sleep(1)
    before = server.memory_info().rss
    sockets = hold(count)
    time.sleep(1)
    after = server.memory_info().rss
    for sock in sockets:
        sock.close()
    return (after - before) / count / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument(
        "--follow-hints",
        action="store_true",
        help="poll no faster than openai-poll-after-ms asks, as the official SDK does",
    )
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; video {VIDEO['seconds']} s {VIDEO['size']}, "
          f"polled every 0.2 s{' or as hinted' if args.follow_hints else ''}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, token = _start(Path(tmp))
        try:
            # First, on a fresh server: memory that load has freed would hide the growth.
            port = int(url.rsplit(":", 1)[1])
            kib = _memory_per_connection(proc, port, args.idle)
            print(f"memory per open idle connection ({args.idle} held): {kib:.1f} KiB")
            for clients in args.clients:
                reports: list[LoadReport] = []
                for _ in range(args.runs):
                    reports.append(
                        run_clients(
                            url, token, clients=clients, video=VIDEO, follow_hints=args.follow_hints
                        )
                    )
                rates = [r.requests / r.seconds for r in reports]
                p50 = [statistics.median(r.latencies) * 1000 for r in reports]
                p99 = [r.percentile(0.99) * 1000 for r in reports]
                errors: Counter[str] = Counter()
                for report in reports:
                    errors.update(report.transport_errors)
                    errors.update({f"HTTP {s}": n for s, n in report.statuses.items() if s >= 500})
                lost = sum(clients - len(r.completed) for r in reports)
                print(f"{clients:5} clients: median of {args.runs}: "
                      f"{statistics.median(rates):6.0f} requests/s, "
                      f"p50 {statistics.median(p50):7.1f} ms, p99 {statistics.median(p99):7.1f} ms; "
                      f"errors {dict(errors) or 0}, videos not completed {lost} "
                      f"(requests a run: {[r.requests for r in reports]})")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
