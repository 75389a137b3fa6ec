"""Provenance: every finished video is signed with the instance's C2PA identity, last.

:func:`render_video` calls :meth:`Provenance.sign` after the video and its previews are
written; nothing touches the file afterwards, so the manifest stays valid. The claim names the
model and backend, the seed and a few settings, and the prompt's SHA-256 rather than the prompt
(manifests are public), unless the operator opts in to publishing prompts.

Imports: media (c2pa, certs), backends.base, domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openreel.backends.base import VideoBackend
from openreel.domain import VideoRequest
from openreel.media.c2pa import ProvenanceClaim, prompt_sha256, sign_mp4
from openreel.media.certs import SigningIdentity

__all__ = ["Provenance"]

PROCEDURAL = "algorithmicMedia"
TRAINED = "trainedAlgorithmicMedia"


@dataclass(frozen=True, slots=True)
class Provenance:
    """How this instance signs what it makes.

    Attributes:
        identity: The signing certificate chain and key.
        publish_prompts: Put the prompt itself in the manifest (off: only its hash).
    """

    identity: SigningIdentity
    publish_prompts: bool = False

    def sign(self, video: Path, backend: VideoBackend, request: VideoRequest) -> None:
        """Signs ``video`` in place (atomically).

        Raises:
            MediaError: Signing failed; the file is left as it was.
        """
        source = getattr(backend, "digital_source_type", TRAINED)
        claim = ProvenanceClaim(
            title=video.name,
            digital_source_type=source,
            model=request.model,
            backend=backend.name,
            seed=int(request.seed or 0),
            prompt_sha256=prompt_sha256(request.prompt),
            prompt=request.prompt if self.publish_prompts else None,
            settings={
                "width": request.width,
                "height": request.height,
                "fps": request.fps,
                "seconds": request.seconds,
            },
        )
        sign_mp4(video, claim, self.identity)
