"""Provenance: every finished video is signed with the instance's C2PA identity, last.

:func:`render_video` calls :meth:`Provenance.sign` after the video and its previews are
written; nothing touches the file afterwards, so the manifest stays valid. The claim names the
model and backend, the seed and a few settings, and the prompt's SHA-256 rather than the prompt
(manifests are public), unless the operator opts in to publishing prompts.
:func:`verify_stored` reads those credentials back from a video the server holds.

The content registry lives here too: the fingerprint of every video (SHA-256 plus one
perceptual hash a second) so the server can say whether it made a file it is shown.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openreel.backends.base import VideoBackend
from openreel.domain import VideoRequest
from openreel.media.c2pa import (
    ProvenanceClaim,
    ProvenanceVerdict,
    prompt_sha256,
    sign_mp4,
    verify_mp4,
)
from openreel.media.certs import SigningIdentity
from openreel.media.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    Match,
    SecondSampler,
    compare,
    file_sha256,
    fingerprint_file,
)
from openreel.media.label import LabelSpec
from openreel.storage.content import ContentRecord, ContentStore
from openreel.storage.objects import RemoteObject

__all__ = ["ContentRegistry", "LookupMatch", "Provenance", "verify_stored"]

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

    def sign(
        self,
        video: Path,
        backend: VideoBackend,
        request: VideoRequest,
        *,
        title: str | None = None,
        parent: Path | None = None,
        label: LabelSpec | None = None,
        relayed: bool = False,
        fingerprint: Sequence[int] | None = None,
    ) -> None:
        """Signs ``video`` in place (atomically), titled ``title`` (its file name by default:
        pass the final name when signing a file still under a staging name).

        ``parent`` is the video this one was made from (an edit's or an extension's source):
        the manifest names it as its parent ingredient, carrying its own manifest if it had one.
        ``relayed`` says ``video`` is ``parent`` passed on unchanged (a gateway keeping its
        OpenReel upstream's labelled video, ``services.relay``). ``label`` is the visible
        label the frames carry, recorded so that a server receiving the video can tell.
        ``fingerprint`` is the frames' pHash a second (the content registry's), recorded so
        that a gateway trusting this server's signature can register the video without
        decoding it.

        Raises:
            MediaError: Signing failed; the file is left as it was.
        """
        source = getattr(backend, "digital_source_type", TRAINED)
        claim = ProvenanceClaim(
            title=title or video.name,
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
            parent_title=None if parent is None else _parent_title(request, parent, relayed),
            parent_action=(
                "relayed" if relayed else "extended" if request.operation == "extend" else "edited"
            ),
            label=None if label is None else label.as_dict(),
            fingerprint=None
            if fingerprint is None
            else {
                "version": FINGERPRINT_VERSION,
                "fps": float(request.fps),
                "hashes": Fingerprint.hex_of(fingerprint),
            },
        )
        sign_mp4(video, claim, self.identity, parent=parent)


def _parent_title(request: VideoRequest, parent: Path, relayed: bool) -> str:
    """Our own source by its id's file name, an upload as what it is."""
    if relayed:
        return "upstream video.mp4"
    if request.source is not None and request.source.video_id is not None:
        return f"{request.source.video_id}.mp4"
    if request.source is not None:
        return f"uploaded video{parent.suffix}"
    if parent.parent.name.startswith("video_"):  # our own video's file, in its job's folder
        return f"{parent.parent.name}.mp4"
    return parent.name


def verify_stored(source: Path | RemoteObject, trust_anchors: Sequence[bytes]) -> ProvenanceVerdict:
    """Reads the C2PA credentials of a video this server holds, where it is kept.

    A file on this machine is read in place. An object in the bucket is copied to a private
    temporary file first (the manifest check reads the whole file) and that copy is removed
    afterwards, so checking a stored video never costs the caller a download and an upload.

    Raises:
        NotFoundError: The object is not in the bucket.
        StorageError: The bucket failed.
    """
    anchors = list(trust_anchors)
    if isinstance(source, Path):
        return verify_mp4(source, trust_anchors=anchors)
    handle, name = tempfile.mkstemp(prefix="openreel-verify-", suffix=".mp4")
    copy = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in source.open().chunks:
                out.write(chunk)
        return verify_mp4(copy, trust_anchors=anchors)
    finally:
        copy.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class LookupMatch:
    """A registered video that an uploaded file matches.

    Attributes:
        video_id: The registered video (shown only to its owner and to admins).
        exact: The file is byte for byte the one this server served.
        distance: Mean differing bits per compared second (of 64); 0 for exact copies.
        matched_seconds: Seconds whose hashes matched.
        compared_seconds: Seconds compared.
        created_at: When the video was made.
        owner_id: Who made it.
    """

    video_id: str
    exact: bool
    distance: float
    matched_seconds: int
    compared_seconds: int
    created_at: float
    owner_id: str


class ContentRegistry:
    """Fingerprints of what this server made, and the "did we make this?" question.

    ``fingerprint`` is called by the worker while a video renders (a sampler fed with the
    labelled frames) and after signing (the SHA-256 of the file as served); ``lookup``
    answers for an uploaded file: first by SHA-256 (an untouched copy), then by per-second
    perceptual hashes (a re-encoded, rescaled or slightly trimmed copy).
    """

    def __init__(self, store: ContentStore) -> None:
        self._store = store

    @staticmethod
    def sampler(total_frames: int, fps: float) -> SecondSampler:
        """A sampler for a video of ``total_frames`` at ``fps``, to feed while rendering."""
        return SecondSampler(total_frames, fps)

    @staticmethod
    def record(
        job_id: str, owner_id: str, video: Path, sampler: SecondSampler, now: float
    ) -> ContentRecord:
        """The registry row for a finished, signed video (hashes its file now).

        Raises:
            MediaError: The file cannot be read, or the sampler missed a frame.
        """
        fingerprint = sampler.fingerprint(file_sha256(video))
        return ContentRecord(
            job_id=job_id,
            owner_id=owner_id,
            sha256=fingerprint.sha256,
            fps=fingerprint.fps,
            version=FINGERPRINT_VERSION,
            hashes=fingerprint.to_hex(),
            created_at=now,
        )

    def lookup(self, path: Path) -> list[LookupMatch]:
        """Registered videos that ``path`` is a copy of, best first (empty: none).

        Raises:
            MediaError: ``path`` is not a readable video (the message names what is wrong).
        """
        exact = self._store.by_sha256(file_sha256(path))
        if exact:
            return [_match(record, None) for record in exact]
        query = fingerprint_file(path)
        found: list[LookupMatch] = []
        for record in self._store.scan(FINGERPRINT_VERSION):
            match = compare(query.hashes, Fingerprint.from_hex(record.hashes))
            if match is not None and match.similar:
                found.append(_match(record, match))
        found.sort(key=lambda m: (-m.matched_seconds, m.distance))
        return found

    def count(self) -> int:
        """Videos registered."""
        return self._store.count()


def _match(record: ContentRecord, match: Match | None) -> LookupMatch:
    if match is None:  # an exact copy: every second of it matches
        seconds = len(Fingerprint.from_hex(record.hashes))
        match = Match(distance=0.0, matched_seconds=seconds, compared_seconds=seconds, offset=0)
        exact = True
    else:
        exact = False
    return LookupMatch(
        video_id=record.job_id,
        exact=exact,
        distance=round(match.distance, 2),
        matched_seconds=match.matched_seconds,
        compared_seconds=match.compared_seconds,
        created_at=record.created_at,
        owner_id=record.owner_id,
    )
