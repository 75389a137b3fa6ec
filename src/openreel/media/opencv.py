"""How many threads OpenCV may use inside one call: a process-wide choice, made at start-up.

OpenCV splits a drawing, resize or colour conversion over a pool of its own threads, and the
pool's threads busy-wait (``sched_yield``) for the next call after each one. For the frames
OpenReel draws and labels, the split saves less than the waiting costs
(benchmarks/opencv_threads.py). In a server the spinning pool also takes a core from everything
else the process does while a video renders (answering clients, moderating the next prompt).
Parallel work comes from the render workers (one video each) and the encoder's own threads
instead.
"""

from __future__ import annotations

import cv2

__all__ = ["use_opencv_threads"]


def use_opencv_threads(count: int | None) -> None:
    """Lets OpenCV use ``count`` threads per call (1: none of its own); None keeps its default.

    Raises:
        ValueError: ``count`` is below 1.
    """
    if count is None:
        return
    if count < 1:
        raise ValueError(f"count must be at least 1 or None; got {count!r}")
    cv2.setNumThreads(count)
