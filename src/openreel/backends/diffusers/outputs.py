"""What a diffusers pipeline call gives back, as OpenReel's frames and sound: the float video
as uint8 frames, and LTX-2's waveform as a soundtrack, the calls of a chained clip joined
where their frames join.

Apart from the backend (backends/diffusers/backend.py), which makes the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from openreel.backends.base import Frame
from openreel.backends.diffusers.catalogue import ModelEntry
from openreel.backends.diffusers.plan import RenderPlan
from openreel.errors import BackendError
from openreel.media.audio import Soundtrack, join, samples_for

__all__ = ["joined_sound", "soundtrack_of_call", "to_frames"]


def to_frames(output: Any, count: int) -> list[Frame]:
    """The pipeline's float ``(1, F, H, W, 3)`` output in [0, 1] as ``count`` uint8 frames."""
    video = np.asarray(output)[0]
    return [
        np.clip(video[index] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        for index in range(min(count, len(video)))
    ]


def soundtrack_of_call(output: Any, pipe: Any, entry: ModelEntry) -> Soundtrack:
    """One call's sound: LTX-2's ``output.audio`` is the vocoder's waveform, shaped
    ``(batch, channels, samples)`` at ``vocoder.config.output_sampling_rate``.

    Raises:
        BackendError: The catalogue says the model makes sound and its pipeline gave none.
    """
    audio = getattr(output, "audio", None)
    vocoder = getattr(pipe, "vocoder", None)
    rate = getattr(getattr(vocoder, "config", None), "output_sampling_rate", None)
    if audio is None or rate is None:
        raise BackendError(
            f"model {entry.id} is catalogued as making sound (audio = true) but its pipeline "
            f"{type(pipe).__name__} returned no waveform and vocoder rate"
        )
    if hasattr(audio, "detach"):  # a torch tensor, perhaps bfloat16 on the GPU
        audio = audio.detach().float().cpu().numpy()
    return Soundtrack.of(np.asarray(audio)[0], int(rate))


def joined_sound(sounds: Sequence[Soundtrack], plan: RenderPlan) -> Soundtrack | None:
    """The calls' sounds as one, each starting where its call's frames start in the stitched
    picture (after the previous call's frames less the overlap), cross-faded there as
    :func:`openreel.media.audio.join` does; None when no call was made."""
    if not sounds:
        return None
    track = sounds[0]
    start = 0
    counts = plan.segments.frames
    for index, sound in enumerate(sounds[1:], start=1):
        start += counts[index - 1] - plan.segments.overlap
        track = join(track.fitted(samples_for(start, plan.fps)), sound)
    return track
