"""Benchmark: what a gateway spends finishing an upstream OpenReel's video, kept or re-rendered.

An upstream OpenReel's 2 s 640x360 sketch video, labelled and signed with another identity, is
handed to this server's hosted loop by a provider that returns it at once; ``render_video``
then finishes it as a gateway does (previews, fingerprints, the label, the signature), four
ways alternating: ``relay, pinned`` (the upstream's certificate pinned: taken on its signed
word, nothing decoded), ``relay`` (kept as it is and re-signed, ``services/relay.py``, with the
upstream's own previews lent beside it and checked against the frames), ``relay, own
previews`` (the same without them: the previews made here from the decoded frames) and
``re-render`` (the same call with the relay turned off: decoded, labelled and encoded again).
Prints the median wall and CPU time (the process's, its threads included) of each.

Run: ``.venv/bin/python benchmarks/relay.py [--runs 15] [--size 640x360] [--seconds 2]``.
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
from openreel.domain import GenerationResult, VideoRequest
from openreel.media.certs import ensure_instance_identity
from openreel.media.encode import EncoderSettings
from openreel.media.label import LabelSpec
from openreel.services import generation
from openreel.services.generation import PreviewPaths, render_video
from openreel.services.relay import NotRelayableError
from openreel.trust.provenance import ContentRegistry, Provenance


@dataclass
class _Done:
    """A provider whose every job is done at once and downloads as ``video``."""

    video: Path
    provider: str = "upstream"
    lend_previews: bool = True
    signers: tuple[bytes, ...] = ()  # certificates pinned for this upstream

    def submit(self, model: str, request: VideoRequest) -> str:
        return "job"

    def status(self, job_id: str) -> RemoteJob:
        return RemoteJob("succeeded", 100.0)

    def download(self, job_id: str, target: Path) -> None:
        target.write_bytes(self.video.read_bytes())

    def download_previews(self, job_id: str, thumbnail: Path, spritesheet: Path) -> None:
        """Lends the upstream's own previews, as an OpenReel upstream does."""
        if self.lend_previews:
            made = PreviewPaths.beside(self.video)
            thumbnail.write_bytes(made.thumbnail.read_bytes())
            spritesheet.write_bytes(made.spritesheet.read_bytes())

    def cancel(self, job_id: str) -> None:
        pass


def _never(*_: object, **__: object) -> GenerationResult:
    """The relay turned off: every video is re-rendered."""
    raise NotRelayableError("the relay is off in this run", claimed=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    label = LabelSpec()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        upstream = Provenance(ensure_instance_identity(root / "upstream-keys"))
        ours = Provenance(ensure_instance_identity(root / "gateway-keys"))
        sides = {"width": width, "height": height}
        asked = VideoRequest(
            prompt="a lighthouse at dusk", seconds=args.seconds, fps=24, seed=3, **sides
        )
        made = root / "upstream.mp4"
        render_video(  # as an upstream OpenReel makes it: labelled, signed, fingerprinted
            SketchBackend(),
            asked,
            made,
            encoder=EncoderSettings(),
            label=label,
            previews=PreviewPaths.beside(made),
            provenance=upstream,
            sampler=ContentRegistry.sampler(asked.frame_count, asked.fps),
        )
        caps = BackendCapabilities(
            max_seconds=20, min_side=64, max_side=1920, fps_range=(1, 60), sizes=(args.size,)
        )
        provider = _Done(made)
        backend = HostedBackend("upstream", provider, (HostedModel("upstream/m", "m", caps),))
        request = VideoRequest(
            prompt=asked.prompt, seconds=args.seconds, fps=24, seed=3, model="upstream/m", **sides
        )
        relayed = generation._relayed
        modes = ("relay, pinned", "relay", "relay, own previews", "re-render")
        wall: dict[str, list[float]] = {mode: [] for mode in modes}
        cpu: dict[str, list[float]] = {mode: [] for mode in modes}
        for run in range(args.runs + 1):  # the first round warms up and is not counted
            for mode in modes:
                relaying = mode.startswith("relay")
                generation._relayed = relayed if relaying else _never  # type: ignore[assignment]
                provider.lend_previews = mode in ("relay", "relay, pinned")
                provider.signers = (
                    (upstream.identity.anchor_pem,) if mode == "relay, pinned" else ()
                )
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
                checked = "signature" if mode == "relay, pinned" else "frames"
                if result.interpretation.get("relayed", False) != relaying or (
                    relaying and result.interpretation["label_checked"] != checked
                ):
                    raise SystemExit(f"{mode} did not take its path")
        generation._relayed = relayed  # type: ignore[assignment]
    load = os.getloadavg()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load[0]:.1f}; {args.runs} runs each, alternating"
    )
    for mode in modes:
        print(
            f"{mode:>19}: wall {1000 * statistics.median(wall[mode]):.0f} ms, "
            f"CPU {1000 * statistics.median(cpu[mode]):.0f} ms (medians)"
        )


if __name__ == "__main__":
    main()
