"""Benchmark: how soon a client sees a finished video, directly and through a gateway.

Three paths to the same OpenReel server A (the sketch engine), on loopback, in one run:

- ``direct``: the client talks to A;
- ``litellm``: through LiteLLM's proxy in front of A (the reference gateway: it passes the
  calls on as they come);
- ``openreel``: through OpenReel B, whose ``upstream`` backend sends each video to A, follows
  it there, downloads it and re-labels and re-signs it before the client sees it completed;
- ``openreel, pinned`` (with ``--pinned``): another B that pins A's signing certificate, so
  A's videos pass on their signature (label and fingerprint from the manifest, no frame
  decoded);
- ``openreel, before`` (with ``--before SRC``): the same gateway run from another source tree
  (an export of an earlier commit's ``src``), side by side.

Each round makes ``--videos`` videos on every path, one at a time, the paths interleaved video
by video (in a shuffled order each time), so a busy moment of the machine falls on all three
alike. One client creates each video and polls every ``--poll`` seconds; the figure is the
time from sending the create to the first answer that says ``completed``. Medians per path,
and what each gateway adds to ``direct``.

``--sdk`` measures, on A directly, the official SDK's ``create_and_poll`` without an interval
(its pace is the server's ``openai-poll-after-ms``) against a client told of the end by
``/events`` (at once, and without the CPU a fast poller would take from the render),
interleaved: the ratio of their medians is what the hint costs a video.

LiteLLM is the benchmark's own dependency, never the project's: install it in a virtualenv of
its own (``python3 -m venv /work/venvs/litellm && /work/venvs/litellm/bin/pip install
'litellm[proxy]'``) and pass its executable with ``--litellm``; without it, that path is left
out.

Run: ``.venv/bin/python benchmarks/gateway_pace.py --litellm /work/venvs/litellm/bin/litellm``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx

MODEL = "openreel-sketch"
PROMPT = "a lighthouse at dusk"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.25)
    raise SystemExit(f"{url} did not come up")


def _openreel_env(data: Path, semantic: str) -> dict[str, str]:
    return os.environ | {
        "OPENREEL_DATA_DIR": str(data),
        "OPENREEL_MODERATION__SEMANTIC": semantic,
        "OPENREEL_RATE_REQUESTS_PER_MINUTE": "0",
        "OPENREEL_RATE_CREATES_PER_MINUTE": "0",
        "OPENREEL_QUOTA__SECONDS": "0",
        "OPENREEL_QUOTA__VIDEOS": "0",
    }


def _token(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "openreel", "token", "create", "bench"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().split()[-1]  # fmt: skip


@contextlib.contextmanager
def _servers(args: argparse.Namespace, tmp: Path) -> Iterator[dict[str, tuple[str, str, str]]]:
    """Starts A, B and LiteLLM; yields each path's (base URL, token, model)."""
    procs: list[subprocess.Popen[bytes]] = []
    log = (args.log / "servers.log").open("ab") if args.log else subprocess.DEVNULL
    try:
        a_port, b_port = _port(), _port()
        a_env = _openreel_env(tmp / "a", args.semantic)
        a_token = _token(a_env)
        serve = [sys.executable, "-m", "openreel", "serve"]
        procs.append(
            subprocess.Popen([*serve, "--port", str(a_port)], env=a_env, stdout=log, stderr=log)
        )
        a_url = f"http://127.0.0.1:{a_port}/v1"
        paths = {"direct": (a_url, a_token, MODEL)}
        b_env = _openreel_env(tmp / "b", args.semantic) | {
            "OPENREEL_UPSTREAM__URL": a_url,
            "OPENREEL_UPSTREAM__MODELS": json.dumps([MODEL]),
            "OPENREEL_PROVIDERS__UPSTREAM": a_token,
        }
        b_token = _token(b_env)
        procs.append(
            subprocess.Popen([*serve, "--port", str(b_port)], env=b_env, stdout=log, stderr=log)
        )
        paths["openreel"] = (f"http://127.0.0.1:{b_port}/v1", b_token, f"upstream/{MODEL}")

        def gateway(name: str, env: dict[str, str]) -> None:
            """Another B: its own data folder, port and token, A upstream."""
            port = _port()
            token = _token(env)
            procs.append(
                subprocess.Popen([*serve, "--port", str(port)], env=env, stdout=log, stderr=log)
            )
            paths[name] = (f"http://127.0.0.1:{port}/v1", token, f"upstream/{MODEL}")
            _wait_up(f"http://127.0.0.1:{port}/healthz", procs[-1])

        if args.pinned:
            # A gateway that pins A's signing certificate (A's identity is made here, before
            # A starts, as A would make it): A's videos pass on their signature alone.
            from openreel.media.certs import ensure_instance_identity
            from openreel.runtime.openers import KEYS_DIR

            pem = tmp / "a-ca.pem"
            pem.write_bytes(ensure_instance_identity(tmp / "a" / KEYS_DIR).anchor_pem)
            gateway(
                "openreel, pinned",
                b_env
                | {"OPENREEL_DATA_DIR": str(tmp / "p"), "OPENREEL_UPSTREAM__CERTIFICATE": str(pem)},
            )
        if args.before:
            gateway(
                "openreel, before",
                b_env
                | {"OPENREEL_DATA_DIR": str(tmp / "c"), "PYTHONPATH": str(args.before.resolve())},
            )
        if args.litellm:
            l_port, l_key = _port(), f"sk-{secrets.token_hex(32)}"
            config = tmp / "litellm.yaml"
            # LiteLLM's proxy fronts /v1/videos for a model_list entry whose model is
            # "openai/<id>" and whose api_base is the server's /v1 (docs.litellm.ai/docs/videos).
            config.write_text(
                "model_list:\n"
                f"  - model_name: {MODEL}\n"
                "    litellm_params:\n"
                f"      model: openai/{MODEL}\n"
                f"      api_base: {a_url}\n"
                f"      api_key: {a_token}\n"
                "general_settings:\n"
                f"  master_key: {l_key}\n"
            )
            procs.append(
                subprocess.Popen(
                    [
                        args.litellm,
                        "--config",
                        str(config),
                        "--port",
                        str(l_port),
                        "--host",
                        "127.0.0.1",
                        "--num_workers",
                        "1",
                    ],
                    # Offline: its price list ships with it (no fetch at start).
                    env=os.environ | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
                    stdout=log,
                    stderr=log,
                )
            )
            paths["litellm"] = (f"http://127.0.0.1:{l_port}/v1", l_key, MODEL)
            _wait_up(f"http://127.0.0.1:{l_port}/health/liveliness", procs[-1], timeout=240)
        _wait_up(f"http://127.0.0.1:{a_port}/healthz", procs[0])
        _wait_up(f"http://127.0.0.1:{b_port}/healthz", procs[1])
        yield paths
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _seen(client: httpx.Client, model: str, args: argparse.Namespace, poll: float) -> float:
    """Seconds from sending a create to the first answer that says completed."""
    body = {"model": model, "prompt": PROMPT, "seconds": args.seconds, "size": args.size}
    started = time.monotonic()
    created = client.post("/videos", json=body)
    created.raise_for_status()
    video = created.json()
    while video["status"] not in ("completed", "failed"):
        time.sleep(poll)
        answer = client.get(f"/videos/{video['id']}")
        answer.raise_for_status()
        video = answer.json()
    if video["status"] != "completed":
        raise SystemExit(f"a video failed: {video.get('error')}")
    return time.monotonic() - started


def _events_seen(client: httpx.Client, args: argparse.Namespace) -> float:
    """Seconds from sending a create to the ``completed`` event of the video's stream."""
    body = {"model": MODEL, "prompt": PROMPT, "seconds": args.seconds, "size": args.size}
    started = time.monotonic()
    created = client.post("/videos", json=body)
    created.raise_for_status()
    with client.stream("GET", f"/videos/{created.json()['id']}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:") and line.split(":", 1)[1].strip() in (
                "completed",
                "failed",
            ):
                if "completed" not in line:
                    raise SystemExit("a video failed")
                return time.monotonic() - started
    raise SystemExit("the event stream ended before the video did")


def _sdk_seen(url: str, token: str, args: argparse.Namespace) -> float:
    """Seconds the official SDK's create_and_poll takes without an interval."""
    import openai

    sdk = openai.OpenAI(base_url=url, api_key=token)
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        video = sdk.videos.create_and_poll(
            model=MODEL,
            prompt=PROMPT,
            seconds=args.seconds,
            size=args.size,  # type: ignore[arg-type]
        )
    if video.status != "completed":
        raise SystemExit(f"a video failed: {video.error}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", help="the litellm executable (its own virtualenv)")
    parser.add_argument("--videos", type=int, default=20, help="videos per path per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.2, help="the client's poll interval")
    parser.add_argument("--seconds", default="2")
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--semantic", default="off", help="semantic moderation on A and B")
    parser.add_argument("--sdk", action="store_true", help="also measure create_and_poll")
    parser.add_argument("--warm", type=int, default=3, help="unmeasured videos per path first")
    parser.add_argument("--log", type=Path, help="a folder for the servers' logs")
    parser.add_argument("--before", type=Path, help="another OpenReel src to run as a gateway")
    parser.add_argument(
        "--pinned", action="store_true", help="also a gateway that pins A's certificate"
    )
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, _servers(args, Path(folder)) as paths:
        clients = {
            name: httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            for name, (url, token, _) in paths.items()
        }
        for name, client in clients.items():  # first renders pay for warm-ups
            for _ in range(args.warm):
                _seen(client, paths[name][2], args, args.poll)
        names = list(paths)
        for _ in range(args.rounds):
            for _ in range(args.videos):
                random.shuffle(names)
                for name in names:
                    seconds = _seen(clients[name], paths[name][2], args, args.poll)
                    times.setdefault(name, []).append(seconds)
                if args.sdk:
                    url, token, _ = paths["direct"]
                    told = _events_seen(clients["direct"], args)
                    times.setdefault("direct, told by /events", []).append(told)
                    sdk = _sdk_seen(url, token, args)
                    times.setdefault("direct, SDK create_and_poll", []).append(sdk)
    load = os.getloadavg()
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end"
    )
    print(
        f"{args.rounds} rounds x {args.videos} videos of {args.seconds} s at {args.size} per "
        f"path, client polling every {args.poll} s; create to completed seen:"
    )
    direct = statistics.median(times["direct"])
    print("| path | p50 | p90 | added to direct at p50 |")
    print("| --- | --- | --- | --- |")
    order = ["direct", "litellm", "openreel", "openreel, pinned", "openreel, before"]
    for name, seen in sorted(
        times.items(), key=lambda i: order.index(i[0]) if i[0] in order else len(order)
    ):
        p50 = statistics.median(seen)
        p90 = statistics.quantiles(seen, n=10)[-1] if len(seen) >= 2 else p50
        added = "" if name.startswith("direct") else f"{1000 * (p50 - direct):+.0f} ms"
        print(f"| {name} | {1000 * p50:.0f} ms | {1000 * p90:.0f} ms | {added} |")
    if args.sdk:
        ratio = statistics.median(times["direct, SDK create_and_poll"]) / statistics.median(
            times["direct, told by /events"]
        )
        print(f"SDK create_and_poll / told by /events at p50: {ratio:.2f} (goal <= 1.3)")
    if args.log:
        (args.log / "times.json").write_text(json.dumps(times, indent=1))


if __name__ == "__main__":
    main()
