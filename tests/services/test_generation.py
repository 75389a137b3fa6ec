from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openreel.backends.sketch import backend as sketch_backend
from openreel.backends.sketch.backend import SketchBackend
from openreel.domain import GenerationResult, SourceVideo, VideoRequest
from openreel.errors import CancelledError, MediaError
from openreel.media.c2pa import verify_mp4
from openreel.media.certs import ensure_instance_identity
from openreel.media.encode import EncoderSettings
from openreel.media.label import Labeler, LabelSpec
from openreel.media.previews import PreviewCollector
from openreel.media.probe import iter_frames, probe
from openreel.media.uploaded import fitted_frames
from openreel.services.generation import PreviewPaths, render_video
from openreel.trust.provenance import Provenance


def _request(**kw: object) -> VideoRequest:
    args: dict[str, object] = {
        "prompt": "a ship at sea at dawn",
        "seconds": 1.0,
        "width": 128,
        "height": 72,
        "fps": 12,
        "seed": 5,
    }
    return VideoRequest(**(args | kw))  # type: ignore[arg-type]


def _with_previews(out: Path, **options: Any) -> GenerationResult:
    """Renders the test request to ``out`` with its previews beside it."""
    return render_video(
        SketchBackend(),
        _request(),
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        **options,
    )


def test_generation_writes_video_and_previews(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    seen: list[tuple[int, int]] = []
    result = render_video(
        SketchBackend(),
        _request(),
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [a.kind for a in result.artifacts] == ["video", "thumbnail", "spritesheet"]
    assert result.frames == 12
    assert seen[-1] == (12, 12)
    assert probe(out).frames == 12
    assert result.interpretation["plan"]["subjects"][0]["kind"] == "ship"


def test_generation_fixes_a_random_seed_when_none_is_given(tmp_path: Path) -> None:
    result = render_video(
        SketchBackend(), _request(seed=None), tmp_path / "a.mp4", encoder=EncoderSettings()
    )
    assert result.request.seed is not None


def test_generation_prefix_frames_come_first_and_count_in_progress(tmp_path: Path) -> None:
    prefix = [np.full((72, 128, 3), 200, np.uint8) for _ in range(6)]
    seen: list[tuple[int, int]] = []
    out = tmp_path / "ext.mp4"
    render_video(
        SketchBackend(),
        _request(frame_offset=6),
        out,
        encoder=EncoderSettings(),
        prefix=prefix,
        prefix_frames=6,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert probe(out).frames == 18
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert seen[-1] == (18, 18)
    first = next(iter_frames(out))
    assert abs(float(first.mean()) - 200) < 6


def test_generation_cancel_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    calls = iter(range(100))
    with pytest.raises(CancelledError):
        _with_previews(out, cancelled=lambda: next(calls) > 3)
    assert list(tmp_path.iterdir()) == []


def test_generation_cancel_while_finishing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel that comes after the last frame, while the previews are made, still takes
    everything back: the last question is asked just before anything is kept."""
    asked_after_frames: list[bool] = []
    finishing = {"now": False}
    write_spritesheet = PreviewCollector.write_spritesheet

    def slow(self: PreviewCollector, path: Path) -> object:
        finishing["now"] = True
        return write_spritesheet(self, path)

    def cancelled() -> bool:
        asked_after_frames.append(finishing["now"])
        return finishing["now"]

    monkeypatch.setattr(PreviewCollector, "write_spritesheet", slow)
    out = tmp_path / "late.mp4"
    with pytest.raises(CancelledError):
        _with_previews(out, cancelled=cancelled)
    assert asked_after_frames[-1] is True
    assert list(tmp_path.iterdir()) == []


def test_generation_failed_previews_take_the_video_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: PreviewCollector, path: Path) -> None:
        raise MediaError("disk full")

    monkeypatch.setattr(PreviewCollector, "write_spritesheet", broken)
    out = tmp_path / "p.mp4"
    with pytest.raises(MediaError):
        _with_previews(out)
    assert list(tmp_path.iterdir()) == []


def _signed(out: Path, keys: Path) -> Provenance:
    """Renders ``out`` with previews, signed with an identity made in ``keys``."""
    provenance = Provenance(ensure_instance_identity(keys))
    render_video(
        SketchBackend(),
        _request(),
        out,
        encoder=EncoderSettings(),
        previews=PreviewPaths.beside(out),
        provenance=provenance,
    )
    return provenance


def test_generation_commits_signed_files_under_their_final_names_only(tmp_path: Path) -> None:
    """Made under hidden staging names and renamed at the end: the finished files carry
    their own names (also in the signed manifest) and no staging file is left."""
    out = tmp_path / "clip.mp4"
    provenance = _signed(out, tmp_path / "keys")
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == ["clip.mp4", "clip.spritesheet.jpg", "clip.thumbnail.webp"]
    verdict = verify_mp4(out, trust_anchors=[provenance.identity.anchor_pem])
    assert verdict.status == "Trusted"
    assert verdict.title == "clip.mp4"


def test_generation_that_fails_while_signing_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise MediaError("the signer is broken")

    monkeypatch.setattr(Provenance, "sign", broken)
    with pytest.raises(MediaError):
        _signed(tmp_path / "clip.mp4", tmp_path / "keys")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == []


def _labelled_source(path: Path, label: LabelSpec | None, **encoder: Any) -> list[Any]:
    """A 1 s 320x180 sketch video as a source to extend; its decoded frames."""
    render_video(
        SketchBackend(),
        _request(width=320, height=180),
        path,
        encoder=EncoderSettings(**encoder),
        label=label,
    )
    return list(iter_frames(path))


def _extend(source: Path, out: Path, label: LabelSpec) -> list[Any]:
    render_video(
        SketchBackend(),
        _request(width=320, height=180, frame_offset=12),
        out,
        encoder=EncoderSettings(),
        prefix=fitted_frames(source, 320, 180, 12),
        prefix_frames=12,
        prefix_file=source,
        label=label,
        previews=PreviewPaths.beside(out),
    )
    return list(iter_frames(out))


def test_an_extension_of_our_own_labelled_video_copies_its_pictures(tmp_path: Path) -> None:
    label = LabelSpec()
    source = _labelled_source(tmp_path / "ours.mp4", label)
    frames = _extend(tmp_path / "ours.mp4", tmp_path / "ext.mp4", label)
    assert len(frames) == 24
    # Bit for bit: an encode again would never decode to the same pixels.
    assert all(np.array_equal(a, b) for a, b in zip(frames[:12], source, strict=True))
    labeler = Labeler(label, 320, 180)
    assert all(labeler.shown_in(frame) for frame in frames)
    assert probe(tmp_path / "ext.mp4").frames == 24


@pytest.mark.parametrize("case", ["unlabelled", "coded otherwise"])
def test_an_extension_of_any_other_video_encodes_it_again_with_the_label(
    case: str, tmp_path: Path
) -> None:
    label = LabelSpec()
    if case == "unlabelled":  # our encoder's stream, but no label: it must be burned in
        source = _labelled_source(tmp_path / "src.mp4", None)
    else:  # labelled, but x264's fastest preset writes other parameter sets
        source = _labelled_source(tmp_path / "src.mp4", label, preset="ultrafast")
    frames = _extend(tmp_path / "src.mp4", tmp_path / "ext.mp4", label)
    assert len(frames) == 24
    assert not any(np.array_equal(a, b) for a, b in zip(frames[:12], source, strict=True))
    labeler = Labeler(label, 320, 180)
    assert all(labeler.shown_in(frame) for frame in frames)


def test_an_extension_whose_pictures_are_copied_reads_its_source_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copying the source's packets decodes every frame of it already (for the label, the
    previews and fingerprints): the sketch engine's dissolve starts from the last of those,
    the very picture it would have decoded the file again for."""
    label = LabelSpec()
    path = tmp_path / "ours.mp4"
    _labelled_source(path, label)
    source = SourceVideo(path=str(path), frames=12, fps=12, width=320, height=180)
    request = _request(width=320, height=180, frame_offset=12, operation="extend", source=source)
    decoded = sketch_backend.last_frame(path, 320, 180)

    def no_second_read(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the source was decoded a second time")

    monkeypatch.setattr(sketch_backend, "last_frame", no_second_read)
    render_video(
        SketchBackend(),
        request,
        tmp_path / "ext.mp4",
        encoder=EncoderSettings(),
        prefix=fitted_frames(path, 320, 180, 12),
        prefix_frames=12,
        prefix_file=path,
        label=label,
    )
    assert probe(tmp_path / "ext.mp4").frames == 24
    # The picture handed on is the one a decode of the file gives: the same dissolve.
    given = replace(request, source=replace(source, last_picture=decoded))
    monkeypatch.undo()
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            SketchBackend().generate(given), SketchBackend().generate(request), strict=True
        )
    )
