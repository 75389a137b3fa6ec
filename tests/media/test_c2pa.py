"""Tests for openreel.media.c2pa: signing MP4s in place and reading the verdict back, offline."""

from __future__ import annotations

import dataclasses
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import numpy as np
import pytest
from numpy.typing import NDArray

import openreel
from openreel.errors import InvalidRequestError, MediaError
from openreel.media.c2pa import (
    GENERATION_ASSERTION,
    IPTC_DIGITAL_SOURCE_TYPE,
    ProvenanceClaim,
    prompt_sha256,
    sign_mp4,
    verify_mp4,
)
from openreel.media.certs import SigningIdentity, ensure_instance_identity
from openreel.media.encode import encode_video
from openreel.media.probe import probe

MakeFrames = Callable[[int, int, int], list[NDArray[np.uint8]]]

PROMPT = "a lighthouse at dusk, painted by the sea wind"
FRAMES = 6


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return ensure_instance_identity(tmp_path_factory.mktemp("identity"), organization="Test Studio")


@pytest.fixture
def clip(tmp_path: Path, make_frames: MakeFrames) -> Path:
    path = tmp_path / "clip.mp4"
    encode_video(make_frames(FRAMES, 64, 64), path, width=64, height=64, fps=24)
    return path


def _claim(**changes: Any) -> ProvenanceClaim:
    fields: dict[str, Any] = {
        "title": "video_abc.mp4",
        "digital_source_type": "algorithmicMedia",
        "model": "sketch-1",
        "backend": "sketch",
        "seed": 7,
        "prompt_sha256": prompt_sha256(PROMPT),
        "settings": {"width": 64, "height": 64, "fps": 24, "seconds": 0.25},
    }
    fields.update(changes)
    return ProvenanceClaim(**fields)


def _listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def _box(data: bytes, kind: bytes) -> tuple[int, int]:
    """Offset and size of the first top-level MP4 box of ``kind``."""
    offset = 0
    while offset + 8 <= len(data):
        size, found = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if found == kind:
            return offset, size
        offset += size
    raise AssertionError(f"no {kind!r} box")


# --- the claim -------------------------------------------------------------------------------


def test_claim_manifest_follows_the_c2pa_shape_for_generated_video() -> None:
    manifest = _claim(digital_source_type="trainedAlgorithmicMedia").manifest()

    assert manifest["claim_generator_info"] == [
        {"name": "OpenReel", "version": openreel.__version__}
    ]
    assert manifest["format"] == "video/mp4"
    assert manifest["title"] == "video_abc.mp4"
    actions = next(a for a in manifest["assertions"] if a["label"] == "c2pa.actions")
    (created,) = actions["data"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    assert created["softwareAgent"] == {"name": "OpenReel/sketch-1", "version": "0.1.0"}
    generation = next(a for a in manifest["assertions"] if a["label"] == GENERATION_ASSERTION)
    assert generation["data"] == {
        "model": "sketch-1",
        "backend": "sketch",
        "generator_version": openreel.__version__,
        "seed": 7,
        "settings": {"width": 64, "height": 64, "fps": 24, "seconds": 0.25},
        "prompt_sha256": prompt_sha256(PROMPT),
    }


@pytest.mark.parametrize(
    "value", ["AlgorithmicMedia", "digitalCapture", "", IPTC_DIGITAL_SOURCE_TYPE + "x", None]
)
def test_claim_rejects_unknown_digital_source_types(value: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _claim(digital_source_type=value)
    assert caught.value.param == "digital_source_type"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"title": ""}, "title"),
        ({"model": " "}, "model"),
        ({"prompt_sha256": "ABC"}, "prompt_sha256"),
        ({"prompt_sha256": prompt_sha256(PROMPT).upper()}, "prompt_sha256"),
        ({"prompt": "something else"}, "prompt_sha256"),
        ({"settings": {"nested": {"a": 1}}}, "settings"),
        ({"settings": {1: "x"}}, "settings"),
        ({"settings": {f"k{i}": i for i in range(33)}}, "settings"),
        ({"settings": {"long": "x" * 3000}}, "settings"),
        ({"settings": {"nan": float("nan")}}, "settings"),
    ],
)
def test_claim_validates_its_fields(changes: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _claim(**changes)
    assert caught.value.param == param


def test_claim_settings_are_copied() -> None:
    settings: dict[str, Any] = {"width": 64}
    claim = _claim(settings=settings)
    settings["width"] = 1
    assert claim.settings == {"width": 64}


# --- sign and verify -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["algorithmicMedia", "trainedAlgorithmicMedia"])
def test_signed_video_is_trusted_with_the_instance_ca(
    clip: Path, identity: SigningIdentity, source: str
) -> None:
    sign_mp4(clip, _claim(digital_source_type=source), identity)

    verdict = verify_mp4(clip, trust_anchors=[identity.anchor_pem])

    assert verdict.status == "Trusted"
    assert verdict.messages == ()
    assert verdict.signer_common_name == "Test Studio signer"
    assert verdict.signer_organization == "Test Studio"
    assert verdict.digital_source_type == source
    assert verdict.model == "sketch-1"
    assert verdict.backend == "sketch"
    assert verdict.seed == 7
    assert verdict.title == "video_abc.mp4"
    assert verdict.generation["prompt_sha256"] == prompt_sha256(PROMPT)
    assert verdict.generation["settings"] == {"width": 64, "height": 64, "fps": 24, "seconds": 0.25}
    assert "prompt" not in verdict.generation


def test_signed_video_is_valid_without_anchors(clip: Path, identity: SigningIdentity) -> None:
    sign_mp4(clip, _claim(), identity)

    verdict = verify_mp4(clip)

    assert verdict.status == "Valid"
    assert any(m.startswith("signingCredential.untrusted") for m in verdict.messages)
    assert verdict.model == "sketch-1"


def test_signed_video_is_only_valid_under_another_anchor(
    clip: Path, identity: SigningIdentity, tmp_path: Path
) -> None:
    stranger = ensure_instance_identity(tmp_path / "stranger")
    sign_mp4(clip, _claim(), identity)

    assert verify_mp4(clip, trust_anchors=[stranger.anchor_pem]).status == "Valid"
    both = [stranger.anchor_pem, identity.anchor_pem]
    assert verify_mp4(clip, trust_anchors=both).status == "Trusted"


def test_signed_video_still_plays(clip: Path, identity: SigningIdentity) -> None:
    size = clip.stat().st_size
    sign_mp4(clip, _claim(), identity)

    info = probe(clip)
    assert (info.frames, info.width, info.height) == (FRAMES, 64, 64)
    assert info.faststart
    assert 0 < clip.stat().st_size - size < 16_384


def test_a_flipped_byte_in_the_video_data_is_invalid(clip: Path, identity: SigningIdentity) -> None:
    sign_mp4(clip, _claim(), identity)
    data = bytearray(clip.read_bytes())
    offset, size = _box(bytes(data), b"mdat")
    data[offset + size // 2] ^= 0x01
    clip.write_bytes(bytes(data))

    verdict = verify_mp4(clip, trust_anchors=[identity.anchor_pem])

    assert verdict.status == "Invalid"
    assert any(m.startswith("assertion.bmffHash.mismatch") for m in verdict.messages)


def test_an_unsigned_video_is_missing(clip: Path) -> None:
    verdict = verify_mp4(clip)
    assert verdict.status == "Missing"
    assert verdict.signer_common_name is None
    assert verdict.model is None


@pytest.mark.parametrize(
    "damage",
    ["half", "inside-manifest", "last-bytes", "garbage", "empty"],
)
def test_damaged_files_read_invalid_without_raising(
    clip: Path, identity: SigningIdentity, damage: str
) -> None:
    sign_mp4(clip, _claim(), identity)
    data = clip.read_bytes()
    manifest_at, manifest_size = _box(data, b"uuid")
    damaged = {
        "half": data[: len(data) // 2],
        "inside-manifest": data[: manifest_at + manifest_size // 2],
        "last-bytes": data[:-10],
        "garbage": os.urandom(4096),
        "empty": b"",
    }[damage]
    clip.write_bytes(damaged)

    verdict = verify_mp4(clip, trust_anchors=[identity.anchor_pem])

    assert verdict.status == "Invalid"
    assert verdict.messages


def test_verify_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read"):
        verify_mp4(tmp_path / "nope.mp4")


def test_signing_again_replaces_the_manifest(clip: Path, identity: SigningIdentity) -> None:
    sign_mp4(clip, _claim(model="first"), identity)
    sign_mp4(clip, _claim(model="second"), identity)

    verdict = verify_mp4(clip, trust_anchors=[identity.anchor_pem])
    assert verdict.status == "Trusted"
    assert verdict.model == "second"
    assert b"first" not in clip.read_bytes()


def test_signing_keeps_the_file_mode(clip: Path, identity: SigningIdentity) -> None:
    clip.chmod(0o640)
    sign_mp4(clip, _claim(), identity)
    assert clip.stat().st_mode & 0o777 == 0o640


# --- the prompt stays private unless the operator opts in ------------------------------------


def test_the_prompt_is_not_in_the_file_when_only_its_hash_is_given(
    clip: Path, identity: SigningIdentity
) -> None:
    sign_mp4(clip, _claim(), identity)

    data = clip.read_bytes()
    assert PROMPT.encode() not in data
    assert b"lighthouse" not in data
    assert prompt_sha256(PROMPT).encode() in data


def test_the_prompt_is_embedded_when_the_operator_opts_in(
    clip: Path, identity: SigningIdentity
) -> None:
    sign_mp4(clip, _claim(prompt=PROMPT), identity)

    assert PROMPT.encode() in clip.read_bytes()
    verdict = verify_mp4(clip, trust_anchors=[identity.anchor_pem])
    assert verdict.status == "Trusted"
    assert verdict.generation["prompt"] == PROMPT
    assert verdict.generation["prompt_sha256"] == prompt_sha256(PROMPT)


# --- signing is atomic -----------------------------------------------------------------------


def test_a_refused_identity_leaves_the_original_untouched(
    clip: Path, identity: SigningIdentity
) -> None:
    # The CA certificate as the signer: its key is not the one given, and it is a CA.
    wrong = dataclasses.replace(identity, chain_pem=identity.anchor_pem)
    before, listing = clip.read_bytes(), _listing(clip.parent)

    with pytest.raises(MediaError, match="signing"):
        sign_mp4(clip, _claim(), wrong)

    assert clip.read_bytes() == before
    assert _listing(clip.parent) == listing
    assert verify_mp4(clip).status == "Missing"


def test_a_failed_rename_leaves_the_original_untouched(
    clip: Path, identity: SigningIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    before, listing = clip.read_bytes(), _listing(clip.parent)

    with pytest.raises(MediaError, match="Permission denied"):
        sign_mp4(clip, _claim(), identity)

    assert clip.read_bytes() == before
    assert _listing(clip.parent) == listing


def test_an_interrupted_signing_leaves_no_partial_file(
    clip: Path, identity: SigningIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    before, listing = clip.read_bytes(), _listing(clip.parent)

    with pytest.raises(KeyboardInterrupt):
        sign_mp4(clip, _claim(), identity)

    assert clip.read_bytes() == before
    assert _listing(clip.parent) == listing


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_signing_a_file_that_is_not_an_mp4_fails_cleanly(
    tmp_path: Path, identity: SigningIdentity, content: bytes
) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(content)

    with pytest.raises(MediaError):
        sign_mp4(path, _claim(), identity)

    assert path.read_bytes() == content
    assert _listing(tmp_path) == ["fake.mp4"]


def test_signing_a_missing_file_fails_cleanly(tmp_path: Path, identity: SigningIdentity) -> None:
    with pytest.raises(MediaError, match="cannot sign"):
        sign_mp4(tmp_path / "nope.mp4", _claim(), identity)
    assert _listing(tmp_path) == []


def _store(path: Path) -> dict[str, Any]:
    with path.open("rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
        store: dict[str, Any] = json.loads(reader.json())
    return store


def test_an_edit_names_its_source_as_parent_carrying_its_manifest(
    tmp_path: Path, make_frames: MakeFrames, identity: SigningIdentity
) -> None:
    source = tmp_path / "source.mp4"
    encode_video(make_frames(FRAMES, 64, 64), source, width=64, height=64, fps=24)
    sign_mp4(source, _claim(title="video_source.mp4"), identity)
    edited = tmp_path / "edited.mp4"
    encode_video(make_frames(FRAMES, 64, 64), edited, width=64, height=64, fps=24)

    sign_mp4(edited, _claim(parent_title="video_source.mp4"), identity, parent=source)

    verdict = verify_mp4(edited, trust_anchors=[identity.anchor_pem])
    assert verdict.status == "Trusted", verdict.messages
    # What a reader is told: what made it (on the c2pa.edited action) and what it came from.
    assert verdict.digital_source_type == "algorithmicMedia"
    assert (verdict.parent, verdict.parent_has_credentials) == ("video_source.mp4", True)
    store = _store(edited)
    active = store["manifests"][store["active_manifest"]]
    (parent,) = active["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["title"] == "video_source.mp4"
    # The source's own manifest travels with it: its generation assertion reads back.
    carried = store["manifests"][parent["active_manifest"]]
    assert carried["title"] == "video_source.mp4"
    actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))
    names = [action["action"] for action in actions["data"]["actions"]]
    assert names == ["c2pa.opened", "c2pa.edited"]


def test_an_unsigned_upload_is_a_parent_without_a_manifest(
    tmp_path: Path, make_frames: MakeFrames, identity: SigningIdentity
) -> None:
    upload = tmp_path / "upload.mp4"
    encode_video(make_frames(FRAMES, 64, 64), upload, width=64, height=64, fps=24)
    edited = tmp_path / "edited.mp4"
    encode_video(make_frames(FRAMES, 64, 64), edited, width=64, height=64, fps=24)

    sign_mp4(edited, _claim(parent_title="uploaded video.mp4"), identity, parent=upload)

    verdict = verify_mp4(edited, trust_anchors=[identity.anchor_pem])
    assert verdict.status == "Trusted"
    assert (verdict.parent, verdict.parent_has_credentials) == ("uploaded video.mp4", False)
    store = _store(edited)
    (parent,) = store["manifests"][store["active_manifest"]]["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert "active_manifest" not in parent
