"""The in-process baseline the benchmarks set the API against: a sketch video made the way the
server's worker makes it (default encoder, the visible label, the C2PA signature, previews and
the content registry's fingerprints and file hash), with no server around it.

Imported by the benchmark scripts (``import baseline``: they run with ``benchmarks/`` first on
``sys.path``); not a benchmark itself.
"""

from __future__ import annotations

import time
from pathlib import Path

from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import VideoRequest
from openreel.media.fingerprint import SecondSampler
from openreel.runtime import Runtime
from openreel.services.generation import PreviewPaths
from openreel.services.render_process import RenderCall, render_in_thread
from openreel.trust.provenance import ContentRegistry

PROMPT = "a lighthouse on a stormy coast at dusk"
SEED = 7


def request(width: int = 640, height: int = 360, seconds: int = 1) -> VideoRequest:
    """The benchmarks' video: the lighthouse prompt, seed 7, 24 fps."""
    return VideoRequest(
        prompt=PROMPT, seconds=seconds, width=width, height=height, fps=24, seed=SEED
    )


def call(runtime: Runtime, wanted: VideoRequest, out: Path) -> RenderCall:
    """What the server's worker hands its render: previews beside ``out``, a fresh sampler."""
    return RenderCall(
        SketchBackend(),
        wanted,
        out,
        encoder=runtime.encoder,
        previews=PreviewPaths.beside(out),
        label=runtime.label,
        provenance=runtime.provenance,
        sampler=SecondSampler(wanted.frame_count, wanted.fps),
    )


def render(runtime: Runtime, wanted: VideoRequest, out: Path) -> None:
    """Makes ``out`` in this thread as the worker would, content-registry record included."""
    made = call(runtime, wanted, out)
    render_in_thread(made, progress=lambda done, total: None, cancelled=lambda: False)
    assert made.sampler is not None
    ContentRegistry.record(out.stem, "bench", out, made.sampler, time.time())
