"""Small video files for the tests of uploads, edits, extensions and characters."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from openreel.media.encode import VideoWriter

__all__ = ["FIGURE_YELLOW", "audio_only", "field_clip", "figure_clip", "yellow_share"]

FIGURE_YELLOW = (250, 200, 20)
"""The body colour of :func:`figure_clip`'s figure."""


def field_clip(
    path: Path, *, frames: int = 12, size: tuple[int, int] = (128, 80), fps: int = 8
) -> bytes:
    """An MP4 of a bright green field under a blue sky with a red square moving across."""
    width, height = size
    with VideoWriter(path, width=width, height=height, fps=fps) as writer:
        for index in range(frames):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[: height // 2] = (90, 150, 230)
            frame[height // 2 :] = (60, 200, 70)
            x = 4 + index * 4
            frame[height // 3 : height // 3 + 16, x : x + 16] = (230, 30, 30)
            writer.write(frame)
    return path.read_bytes()


def figure_clip(path: Path) -> bytes:
    """A yellow figure with a magenta head walking across a still, grainy field (320x192)."""
    width, height = 320, 192
    rng = np.random.default_rng(0)
    field = np.zeros((height, width, 3), np.uint8)
    field[:] = (70, 140, 200)
    field[height // 2 :] = (60, 170, 80)
    grain = rng.integers(-10, 10, (height, width, 3))
    field = np.clip(field.astype(int) + grain, 0, 255).astype(np.uint8)
    with VideoWriter(path, width=width, height=height, fps=12) as writer:
        for index in range(36):
            frame = field.copy()
            x = 30 + index * 6
            cv2.rectangle(frame, (x, 60), (x + 40, 150), FIGURE_YELLOW, -1)
            cv2.circle(frame, (x + 20, 45), 16, (230, 40, 200), -1)
            writer.write(frame)
    return path.read_bytes()


def yellow_share(frame: np.ndarray) -> float:
    """How much of ``frame`` has :data:`FIGURE_YELLOW`'s colour (within coding noise)."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return float(((r > 200) & (g > 150) & (b < 100)).mean())


def audio_only(path: Path) -> bytes:
    """An MP4 holding one AAC stream and no picture."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        silence = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        silence.sample_rate = 44100
        for index in range(20):
            silence.pts = index * 1024
            for packet in stream.encode(silence):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()
