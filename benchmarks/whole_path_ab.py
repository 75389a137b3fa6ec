"""Benchmark: the whole-path figure of benchmarks/api.py for two versions of the code, in one run.

On a shared two-core machine the direct render swings by 30% from one minute to the next, so
the whole-path ratio of two separate runs cannot show a change of a few percent. This starts
two ``openreel serve`` processes side by side, one from each source tree (``PYTHONPATH``),
and takes turns: a video through each server while the client polls every 20 ms, the same
work rendered in-process (the baseline of benchmarks/api.py: ``render_video`` with the label,
C2PA signing and the content fingerprints), then a video through each server while following
``/events``. The order of the two servers flips every round. Medians; ratios to the direct
render; the worker's own time and the claim wait from each server's job rows. With
``--pause``, every timed video starts after that much idle, as in benchmarks/api.py (a server
woken from idle is the harder case); without, they run back to back.

Run: ``.venv/bin/python benchmarks/whole_path_ab.py --base /path/to/old/src --runs 15``
(``--new`` defaults to this checkout's ``src``; ``--base-env``/``--new-env NAME=VALUE`` set
a setting for one server only, to compare settings of one tree). Export the old tree with
``git archive COMMIT src | tar -x -C /tmp/old``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent


def _api_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_api", HERE / "api.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {HERE / 'api.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the old tree's src folder")
    parser.add_argument("--new", type=Path, default=HERE.parent / "src", help="the new src")
    parser.add_argument("--runs", type=int, default=15, help="videos each way per server")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds of idle before each timed video (benchmarks/api.py waits 0.05 s)",
    )
    for side in ("base", "new"):
        parser.add_argument(
            f"--{side}-env",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"an environment variable for the {side} server only (repeatable)",
        )
    args = parser.parse_args()
    extra = {
        side: dict(item.split("=", 1) for item in getattr(args, f"{side}_env"))
        for side in ("base", "new")
    }
    bench = _api_module()

    import baseline
    from openreel.config import Settings
    from openreel.runtime import Runtime
    from openreel.storage.db import Database
    from openreel.storage.jobs import JobStore

    sides = {"base": args.base.resolve(), "new": args.new.resolve()}
    with tempfile.TemporaryDirectory(prefix="openreel-ab-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        clients: dict[str, httpx.Client] = {}
        for name, src in sides.items():
            env = bench._server_env(folder / name) | {"PYTHONPATH": str(src)} | extra[name]
            token = bench._mint(env)
            port = bench._free_port()
            url = f"http://{bench.HOST}:{port}"
            serve = [sys.executable, "-m", "openreel", "serve", "--port", str(port)]
            stack.enter_context(
                bench._process([*serve, "--workers", "1"], env, url, folder / f"{name}.log")
            )
            clients[name] = stack.enter_context(
                httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            )

        runtime = Runtime.from_settings(Settings(data_dir=folder / "direct-data"))
        wanted = baseline.request()

        def direct(run: int) -> None:
            baseline.render(runtime, wanted, folder / f"direct-{run}.mp4")

        def through(name: str, follow: bool) -> tuple[str, float]:
            client = clients[name]
            time.sleep(args.pause)
            started = time.perf_counter()
            video_id: str = bench._create(client, size="640x360", seconds=1)
            if follow:
                bench._follow(client, video_id)
            else:
                bench._poll(client, video_id, "completed")
            client.get(f"/v1/videos/{video_id}/content").raise_for_status()
            return video_id, time.perf_counter() - started

        # Untimed warm-up: model loads, imports, the signers' first use.
        for name in sides:
            for _ in range(2):
                through(name, follow=False)
        for run in (-1, -2):
            direct(run)
        times: dict[str, list[float]] = {"direct": []}
        ids: dict[str, list[str]] = {name: [] for name in sides}
        for run in range(args.runs):
            order = list(sides) if run % 2 == 0 else list(reversed(sides))
            for follow in (False, True):
                for name in order:
                    video_id, seconds = through(name, follow)
                    ids[name].append(video_id)
                    times.setdefault(f"{name}_{'events' if follow else 'poll'}", []).append(seconds)
                if not follow:
                    time.sleep(args.pause)
                    started = time.perf_counter()
                    direct(run)
                    times["direct"].append(time.perf_counter() - started)

        medians = {key: statistics.median(values) for key, values in times.items()}
        report: dict[str, Any] = {
            "runs": args.runs,
            "sides": {k: str(v) for k, v in sides.items()},
            "env": extra,
            "pause_s": args.pause,
        }
        report |= {f"{key}_median_s": round(value, 3) for key, value in medians.items()}
        for key, value in medians.items():
            if key != "direct":
                report[f"{key}_ratio"] = round(value / medians["direct"], 2)
        for name in sides:
            db = Database.for_data_dir(folder / name)
            try:
                jobs = [JobStore(db).get(video_id) for video_id in ids[name]]
            finally:
                db.dispose()
            worker = [
                j.completed_at - j.started_at for j in jobs if j.completed_at and j.started_at
            ]
            wait = [j.started_at - j.created_at for j in jobs if j.started_at]
            report[f"{name}_worker_median_s"] = round(statistics.median(worker), 3)
            report[f"{name}_claim_wait_median_s"] = round(statistics.median(wait), 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
