"""Benchmark: what a gateway spends finishing an upstream OpenReel's video, kept or re-rendered.

An upstream OpenReel's 2 s 640x360 sketch video, labelled and signed with another identity, is
handed to this server's hosted loop by a provider that returns it at once; ``render_video``
then finishes it as a gateway does (previews, fingerprints, the label, the signature), the two
ways alternating: ``relay`` (kept as it is and re-signed, ``services/relay.py``) and
``re-render`` (the same call with the relay turned off: decoded, labelled and encoded again).
Prints the median wall and CPU time (the process's, its threads included) of each.

Run: ``.venv/bin/python benchmarks/relay.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import VideoRequest
from openreel.media.certs import ensure_instance_identity
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.services import generation
from openreel.services.generation import PreviewPaths, render_video
from openreel.trust.provenance import ContentRegistry, Provenance


@dataclass
class _Done:
    """A provider whose every job is done at once and downloads as ``video``."""

    video: Path
    provider: str = "upstream"

    def submit(self, model: str, request: VideoRequest) -> str:
        return "job"

    def status(self, job_id: str) -> RemoteJob:
        return RemoteJob("succeeded", 100.0)

    def download(self, job_id: str, target: Path) -> None:
        target.write_bytes(self.video.read_bytes())

    def cancel(self, job_id: str) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    label = LabelSpec()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        upstream = Provenance(ensure_instance_identity(root / "upstream-keys"))
        ours = Provenance(ensure_instance_identity(root / "gateway-keys"))
        asked = VideoRequest(
            prompt="a lighthouse at dusk", seconds=2.0, width=640, height=360, fps=24, seed=3
        )
        made = root / "upstream.mp4"
        render_video(SketchBackend(), asked, made, encoder=EncoderSettings(), label=label)
        upstream.sign(made, SketchBackend(), asked, label=label)
        caps = BackendCapabilities(
            max_seconds=20, min_side=64, max_side=1920, fps_range=(1, 60), sizes=("640x360",)
        )
        backend = HostedBackend("upstream", _Done(made), (HostedModel("upstream/m", "m", caps),))
        request = VideoRequest(
            prompt=asked.prompt, seconds=2.0, width=640, height=360, fps=24, seed=3,
            model="upstream/m",
        )  # fmt: skip
        relayable = generation.relayable
        modes = ("relay", "re-render")
        wall: dict[str, list[float]] = {mode: [] for mode in modes}
        cpu: dict[str, list[float]] = {mode: [] for mode in modes}
        for run in range(args.runs + 1):  # the first pair warms up and is not counted
            for mode in modes:
                generation.relayable = relayable if mode == "relay" else (lambda *_: False)
                out = root / "video.mp4"
                started, used = time.perf_counter(), time.process_time()
                result = render_video(
                    backend,
                    request,
                    out,
                    encoder=EncoderSettings(),
                    previews=PreviewPaths.beside(out),
                    label=label,
                    provenance=ours,
                    sampler=ContentRegistry.sampler(request.frame_count, request.fps),
                )
                if run:
                    wall[mode].append(time.perf_counter() - started)
                    cpu[mode].append(time.process_time() - used)
                if result.interpretation.get("relayed", False) != (mode == "relay"):
                    raise SystemExit(f"{mode} did not take its path")
        generation.relayable = relayable
    load = os.getloadavg()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load[0]:.1f}; {args.runs} runs each, alternating"
    )
    for mode in modes:
        print(
            f"{mode:>9}: wall {1000 * statistics.median(wall[mode]):.0f} ms, "
            f"CPU {1000 * statistics.median(cpu[mode]):.0f} ms (medians)"
        )


if __name__ == "__main__":
    main()
