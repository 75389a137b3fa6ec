"""Runtime: the composition root that turns Settings into live objects.

Nothing in the package builds its own collaborators from globals; the CLI (and later the server)
builds one Runtime and passes its parts down.

Imports: config, backends, media.
"""

from __future__ import annotations

from dataclasses import dataclass

from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.config import Settings
from openreel.media.encode import EncoderSettings

__all__ = ["Runtime", "build_registry"]


def build_registry(settings: Settings) -> BackendRegistry:
    """Registers every backend this installation can serve."""
    del settings  # later backends (diffusers, hosted) read their own settings here
    registry = BackendRegistry()
    registry.register("sketch", SketchBackend.models, SketchBackend)
    return registry


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a command needs, built from settings.

    Attributes:
        settings: The settings it was built from.
        registry: Model id -> backend.
        encoder: Encoder settings for every video written.
    """

    settings: Settings
    registry: BackendRegistry
    encoder: EncoderSettings

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Builds the runtime."""
        encoder = EncoderSettings(preset=settings.encoder.preset, crf=settings.encoder.crf)
        return cls(settings=settings, registry=build_registry(settings), encoder=encoder)
