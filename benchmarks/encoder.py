"""Benchmark: x264 presets and CRF on sketch-engine frames: speed vs file size vs quality.

Renders the README's 10-second 1080p24 clip once into memory, then encodes it with each
setting and reports encode time, file size and PSNR against the source frames (decoded back).
This is how the default (``superfast``, CRF 20) was chosen.

Run: ``.venv/bin/python benchmarks/encoder.py``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import VideoRequest
from openreel.media.encode import EncoderSettings, encode_video
from openreel.media.probe import iter_frames

SETTINGS = [
    ("ultrafast", 20),
    ("superfast", 20),
    ("superfast", 23),
    ("veryfast", 20),
    ("veryfast", 23),
    ("faster", 20),
]


def main() -> None:
    request = VideoRequest(prompt="a lighthouse on a stormy coast at dusk, slow push-in", seed=7)
    frames = list(SketchBackend().generate(request))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset, crf in SETTINGS:
            path = Path(tmp) / f"{preset}-{crf}.mp4"
            started = time.perf_counter()
            encode_video(
                frames,
                path,
                width=request.width,
                height=request.height,
                fps=request.fps,
                settings=EncoderSettings(preset=preset, crf=crf),
            )
            seconds = time.perf_counter() - started
            psnr = [
                cv2.PSNR(src, dec)
                for src, dec in zip(frames[::8], list(iter_frames(path))[::8], strict=True)
            ]
            rows.append(
                {
                    "preset": preset,
                    "crf": crf,
                    "encode_s": round(seconds, 2),
                    "size_kb": path.stat().st_size // 1024,
                    "psnr_db": round(float(np.median(psnr)), 2),
                }
            )
            print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
