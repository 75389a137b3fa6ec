"""The sketch engine's soundscape: sound synthesised from a scene plan, locked to its frames.

``mix.py`` holds the entry point; the bed of ambient textures lives in ``bed.py``, the things
that happen (thunder, birds, vehicles) in ``events.py``, on-screen tracking in ``tracking.py``
and the seeded noise they are all made of in ``noise.py``.
"""

from __future__ import annotations

from openreel.backends.sketch.sound.mix import CEILING, SAMPLE_RATE, TARGET_LUFS, soundscape

__all__ = ["CEILING", "SAMPLE_RATE", "TARGET_LUFS", "soundscape"]
