"""What a diffusers pipeline is given besides the prompt, made from what the request has: the
reference image at the model's native size, a first frame drawn by the sketch engine for
models that start every clip from an image, and an edit's source frames.

Apart from the backend (backends/diffusers/backend.py), which only decides when each is needed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from openreel.backends.base import Frame
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.fit import cover
from openreel.media.probe import iter_frames

__all__ = ["decode_reference", "sketch_first_frame", "source_frames"]


def decode_reference(
    image: ImageInput, width: int, height: int, param: str = "input_reference"
) -> Any:
    """The reference image as an RGB PIL image filling the native size (centre crop)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            rgb = np.asarray(opened.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError):
        raise InvalidRequestError(
            f"{param} could not be decoded as an image", param=param
        ) from None
    return Image.fromarray(cover(rgb, width, height))


def sketch_first_frame(request: VideoRequest, width: int, height: int) -> Any:
    """The first frame of the sketch engine's take on the prompt, for models that start
    every clip from an image (Stable Video Diffusion takes no text at all)."""
    from PIL import Image

    from openreel.backends.sketch.backend import SketchBackend

    sketch = SketchBackend()
    model = sketch.models[0]
    low_fps = sketch.capabilities(model).fps_range[0]
    landscape = width >= height
    still = VideoRequest(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        seconds=1.0,
        fps=low_fps,
        width=640 if landscape else 360,
        height=360 if landscape else 640,
        seed=request.seed,
        model=model,
    )
    frame = next(iter(sketch.generate(still)))
    return Image.fromarray(cover(np.ascontiguousarray(frame[..., :3]), width, height))


def source_frames(path: Path, width: int, height: int, count: int) -> list[Frame]:
    """``count`` frames of the source spread evenly over it, covering ``width`` x ``height``
    (the model's native size and frame count for one pass)."""
    frames = [cover(frame, width, height) for frame in iter_frames(path)]
    if not frames:
        raise InvalidRequestError("video has no frames to edit", param="video")
    last = len(frames) - 1
    return [frames[round(i * last / max(count - 1, 1))] for i in range(count)]
