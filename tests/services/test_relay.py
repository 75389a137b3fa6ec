"""A gateway keeps an upstream OpenReel's labelled, signed video as it is, re-signed here.

The upstream's file is made by the sketch engine with another instance's identity; a
provider client that hands it back stands in for the upstream's wire (the loop around it is
the real one). The fast path must be taken only when the manifest is valid and names the same
label and the pixels show it; every other file is re-rendered and labelled here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import c2pa  # type: ignore[import-untyped]
import numpy as np
import pytest

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, RemoteJob
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import GenerationResult, VideoRequest
from openreel.media.c2pa import verify_mp4
from openreel.media.certs import ensure_instance_identity
from openreel.media.encode import EncoderSettings
from openreel.media.fingerprint import SecondSampler, fingerprint_file
from openreel.media.label import Labeler, LabelSpec
from openreel.media.probe import iter_frames
from openreel.services import generation
from openreel.services.generation import PreviewPaths, render_video
from openreel.trust.provenance import Provenance

LABEL = LabelSpec()
CAPS = BackendCapabilities(
    max_seconds=20, min_side=64, max_side=1920, fps_range=(1, 60), sizes=("320x180",)
)


def _request(**kw: Any) -> VideoRequest:
    args: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "seconds": 1.0,
        "width": 320,
        "height": 180,
        "fps": 12,
        "seed": 4,
        "model": "upstream/m",
    }
    return VideoRequest(**(args | kw))


@dataclass
class _Handing:
    """A provider whose every job is done at once and downloads as ``video``."""

    video: Path
    provider: str = "upstream"
    previews: PreviewPaths | None = None  # what it lends as the video's own, as OpenReel does
    signers: tuple[bytes, ...] = ()  # the upstream's certificates the operator pinned

    def submit(self, model: str, request: VideoRequest) -> str:
        return "job-1"

    def status(self, job_id: str) -> RemoteJob:
        return RemoteJob("succeeded", 100.0)

    def download(self, job_id: str, target: Path) -> None:
        target.write_bytes(self.video.read_bytes())

    def download_previews(self, job_id: str, thumbnail: Path, spritesheet: Path) -> None:
        if self.previews is not None:
            thumbnail.write_bytes(self.previews.thumbnail.read_bytes())
            spritesheet.write_bytes(self.previews.spritesheet.read_bytes())

    def cancel(self, job_id: str) -> None:
        pass


@pytest.fixture(scope="module")
def upstream_provenance(tmp_path_factory: pytest.TempPathFactory) -> Provenance:
    return Provenance(ensure_instance_identity(tmp_path_factory.mktemp("upstream-keys")))


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Provenance:
    return Provenance(ensure_instance_identity(tmp_path_factory.mktemp("gateway-keys")))


def _upstream_video(
    folder: Path,
    provenance: Provenance | None,
    label: LabelSpec | None,
    *,
    claimed: LabelSpec | None = None,
    name: str = "upstream.mp4",
    **asked: Any,
) -> Path:
    """What an upstream OpenReel serves: its sketch render, labelled and signed as given
    (``claimed`` signs a label the pixels may not show), its previews beside it."""
    out = folder / name
    request = _request(model="openreel-sketch", **asked)
    render_video(
        SketchBackend(),
        request,
        out,
        encoder=EncoderSettings(),
        label=label,
        previews=PreviewPaths.beside(out),
    )
    if provenance is not None:
        provenance.sign(out, SketchBackend(), request.with_seed(), label=claimed or label)
    return out


def _gateway(
    video: Path,
    out: Path,
    provenance: Provenance,
    label: LabelSpec = LABEL,
    *,
    lent: PreviewPaths | None = None,
    signers: tuple[bytes, ...] = (),
    sampler: SecondSampler | None = None,
    **asked: Any,
) -> GenerationResult:
    provider = _Handing(video, previews=lent, signers=signers)
    backend = HostedBackend("upstream", provider, (HostedModel("upstream/m", "m", CAPS),))
    return render_video(
        backend,
        _request(**asked),
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        label=label,
        provenance=provenance,
        sampler=sampler,
    )


def _frames(path: Path) -> list[np.ndarray[Any, Any]]:
    return list(iter_frames(path))


def _labelled_throughout(path: Path, label: LabelSpec = LABEL) -> bool:
    labeler = Labeler(label, 320, 180)
    return all(labeler.shown_in(frame) for frame in _frames(path))


def test_an_upstream_openreels_labelled_video_is_passed_on_and_re_signed_with_it_as_parent(
    tmp_path: Path, upstream_provenance: Provenance, ours: Provenance
) -> None:
    upstream = _upstream_video(tmp_path, upstream_provenance, LABEL)
    out = tmp_path / "video.mp4"
    result = _gateway(upstream, out, ours)
    assert result.interpretation.get("relayed") is True
    assert result.frames == 12
    # The same pictures, label and all, as the upstream made them.
    for kept, made in zip(_frames(out), _frames(upstream), strict=True):
        assert np.array_equal(kept, made)
    assert _labelled_throughout(out)
    verdict = verify_mp4(out)
    assert verdict.status == "Valid", verdict.messages
    assert verdict.generation["label"] == LABEL.as_dict()
    assert verdict.digital_source_type == "trainedAlgorithmicMedia"
    assert all(p.stat().st_size > 0 for p in PreviewPaths.beside(out).paths())
    with out.open("rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
        report = json.loads(reader.json())
    active = report["manifests"][report["active_manifest"]]
    (parent,) = active["ingredients"]
    assert parent["relationship"] == "parentOf"
    # The upstream's own manifest travels inside the ingredient.
    carried = report["manifests"][parent["active_manifest"]]
    upstream_generation = next(
        a["data"] for a in carried["assertions"] if a["label"] == "org.openreel.generation"
    )
    assert upstream_generation["backend"] == "sketch"
    actions = next(a["data"] for a in active["assertions"] if a["label"].startswith("c2pa.actions"))
    assert [a["action"] for a in actions["actions"]] == ["c2pa.opened"]


@pytest.mark.parametrize(
    "case",
    ["unlabelled", "another label", "claimed but not shown", "unsigned", "another corner"],
)
def test_any_other_upstream_video_is_re_rendered_with_this_servers_label(
    case: str, tmp_path: Path, upstream_provenance: Provenance, ours: Provenance
) -> None:
    other = LabelSpec(text="Made with AI")
    if case == "unlabelled":
        upstream = _upstream_video(tmp_path, upstream_provenance, None)
    elif case == "another label":
        upstream = _upstream_video(tmp_path, upstream_provenance, other)
    elif case == "claimed but not shown":
        upstream = _upstream_video(tmp_path, upstream_provenance, None, claimed=LABEL)
    elif case == "unsigned":
        upstream = _upstream_video(tmp_path, None, LABEL)
    else:
        upstream = _upstream_video(tmp_path, upstream_provenance, LABEL)
    out = tmp_path / "video.mp4"
    if case == "another corner":  # the same label, but a gateway's own label where it asks
        result = _gateway(upstream, out, ours, label=LabelSpec(corner="top-left"))
        assert "relayed" not in result.interpretation
        assert _labelled_throughout(out, LabelSpec(corner="top-left"))
        return
    result = _gateway(upstream, out, ours)
    assert "relayed" not in result.interpretation
    assert _labelled_throughout(out)
    if case == "another label":  # re-rendered: ours is burned in over theirs
        assert not any(Labeler(other, 320, 180).shown_in(f) for f in _frames(out))
    verdict = verify_mp4(out)
    assert verdict.status == "Valid"
    assert verdict.generation["label"] == LABEL.as_dict()


def test_the_label_test_tells_labelled_frames_from_others() -> None:
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
    labeler = Labeler(LABEL, 320, 180)
    assert labeler.shown_in(labeler.apply(picture.copy()))
    assert not labeler.shown_in(picture)
    assert not labeler.shown_in(np.full((180, 320, 3), 128, np.uint8))
    assert not labeler.shown_in(Labeler(LabelSpec(text="Made with AI"), 320, 180).apply(picture))


def test_an_upstreams_own_previews_are_kept_when_each_shows_its_frame(
    tmp_path: Path, upstream_provenance: Provenance, ours: Provenance
) -> None:
    upstream = _upstream_video(tmp_path, upstream_provenance, LABEL)
    lent = PreviewPaths.beside(upstream)
    out = tmp_path / "video.mp4"
    result = _gateway(upstream, out, ours, lent=lent)
    assert result.interpretation.get("relayed") is True
    kept = PreviewPaths.beside(out)
    # Taken as they are, not made again from the decoded frames (which differ by the codec).
    assert kept.thumbnail.read_bytes() == lent.thumbnail.read_bytes()
    assert kept.spritesheet.read_bytes() == lent.spritesheet.read_bytes()
    # Without them the gateway makes its own, from the same frames.
    again = tmp_path / "again.mp4"
    assert _gateway(upstream, again, ours).interpretation.get("relayed") is True
    assert PreviewPaths.beside(again).thumbnail.read_bytes() != lent.thumbnail.read_bytes()
    assert not list(tmp_path.glob(".*"))  # no partial file left


def test_previews_of_another_video_send_the_video_to_a_re_render(
    tmp_path: Path, upstream_provenance: Provenance, ours: Provenance
) -> None:
    upstream = _upstream_video(tmp_path, upstream_provenance, LABEL)
    other = _upstream_video(
        tmp_path, upstream_provenance, LABEL, name="other.mp4", prompt="a red car in the rain"
    )
    lent = PreviewPaths.beside(other)
    out = tmp_path / "video.mp4"
    result = _gateway(upstream, out, ours, lent=lent)
    assert "relayed" not in result.interpretation
    assert _labelled_throughout(out)
    assert PreviewPaths.beside(out).thumbnail.read_bytes() != lent.thumbnail.read_bytes()


def test_a_relay_needs_sound_exactly_when_the_request_asks_for_it(
    tmp_path: Path, upstream_provenance: Provenance, ours: Provenance
) -> None:
    upstream = _upstream_video(tmp_path, upstream_provenance, LABEL, audio=True)
    with av.open(str(upstream)) as container:
        assert container.streams.audio
    out = tmp_path / "video.mp4"
    result = _gateway(upstream, out, ours)  # asks for no sound
    assert "relayed" not in result.interpretation
    with av.open(str(out)) as container:
        assert not container.streams.audio  # re-rendered without the sound


@pytest.mark.parametrize("case", ["unsigned", "claimed but not shown"])
def test_only_a_video_that_claimed_the_label_and_lacks_it_is_warned_about(
    case: str,
    tmp_path: Path,
    upstream_provenance: Provenance,
    ours: Provenance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if case == "unsigned":  # any provider's plain video: no surprise, no warning
        upstream = _upstream_video(tmp_path, None, LABEL)
    else:
        upstream = _upstream_video(tmp_path, upstream_provenance, None, claimed=LABEL)
    with caplog.at_level(logging.INFO, logger="openreel.services.generation"):
        result = _gateway(upstream, tmp_path / "video.mp4", ours)
    assert "relayed" not in result.interpretation
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == (0 if case == "unsigned" else 1), warned


def test_one_frame_without_the_label_sends_the_video_to_a_re_render(
    tmp_path: Path,
    upstream_provenance: Provenance,
    ours: Provenance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    labelled = _frames(_upstream_video(tmp_path, None, LABEL, name="labelled.mp4"))
    bare = _frames(_upstream_video(tmp_path, None, None, name="bare.mp4"))
    upstream = tmp_path / "upstream.mp4"
    with av.open(str(upstream), "w") as container:  # every frame labelled but the sixth
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for index, picture in enumerate(labelled):
            chosen = bare[index] if index == 5 else picture
            container.mux(stream.encode(av.VideoFrame.from_ndarray(chosen, format="rgb24")))
        container.mux(stream.encode(None))
    upstream_provenance.sign(
        upstream, SketchBackend(), _request(model="openreel-sketch").with_seed(), label=LABEL
    )
    with caplog.at_level(logging.INFO, logger="openreel.services.generation"):
        result = _gateway(upstream, tmp_path / "video.mp4", ours)
    assert "relayed" not in result.interpretation
    assert any("frame 5 does not show the label" in r.getMessage() for r in caplog.records)
    assert _labelled_throughout(tmp_path / "video.mp4")


def _fingerprinted_upstream(folder: Path, provenance: Provenance) -> tuple[Path, SecondSampler]:
    """What a current upstream OpenReel serves: signed with its frames' fingerprint."""
    out = folder / "upstream.mp4"
    request = _request(model="openreel-sketch")
    sampler = SecondSampler(request.frame_count, request.fps)
    render_video(
        SketchBackend(),
        request,
        out,
        encoder=EncoderSettings(),
        label=LABEL,
        previews=PreviewPaths.beside(out),
        provenance=provenance,
        sampler=sampler,
    )
    return out, sampler


def test_a_video_signed_under_a_pinned_certificate_is_passed_on_without_decoding(
    tmp_path: Path,
    upstream_provenance: Provenance,
    ours: Provenance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream, made = _fingerprinted_upstream(tmp_path, upstream_provenance)
    recorded = verify_mp4(upstream).generation["fingerprint"]
    assert recorded["hashes"] == "".join(f"{h:016x}" for h in made.hashes())
    pinned = (upstream_provenance.identity.anchor_pem,)

    def decoded(*_: object, **__: object) -> None:
        raise AssertionError("a pinned signer's video was decoded")

    monkeypatch.setattr(generation, "relay", decoded)
    out = tmp_path / "video.mp4"
    sampler = SecondSampler(12, 12)
    result = _gateway(
        upstream, out, ours, lent=PreviewPaths.beside(upstream), signers=pinned, sampler=sampler
    )
    assert result.interpretation.get("relayed") is True
    assert result.interpretation["label_checked"] == "signature"
    assert sampler.hashes() == made.hashes() == fingerprint_file(out).hashes
    verdict = verify_mp4(out)
    assert verdict.status == "Valid"
    assert verdict.parent_has_credentials
    assert verdict.generation["fingerprint"] == recorded  # passed on to the next gateway
    assert PreviewPaths.beside(out).thumbnail.read_bytes() == (
        PreviewPaths.beside(upstream).thumbnail.read_bytes()
    )


@pytest.mark.parametrize("case", ["another signer", "no fingerprint recorded"])
def test_any_other_video_is_read_frame_by_frame_though_a_certificate_is_pinned(
    case: str,
    tmp_path: Path,
    upstream_provenance: Provenance,
    ours: Provenance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case == "another signer":  # valid, and claims the label, but not the pinned signer's
        upstream, _ = _fingerprinted_upstream(tmp_path, ours)
    else:  # an upstream that records no fingerprint (an older OpenReel)
        upstream = _upstream_video(tmp_path, upstream_provenance, LABEL)
    read = []
    real = generation.relay

    def reading(*args: Any, **kwargs: Any) -> int:
        read.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(generation, "relay", reading)
    pinned = (upstream_provenance.identity.anchor_pem,)
    result = _gateway(upstream, tmp_path / "video.mp4", ours, signers=pinned)
    assert result.interpretation.get("relayed") is True
    assert result.interpretation["label_checked"] == "frames"
    assert len(read) == 1  # every frame checked for the label
