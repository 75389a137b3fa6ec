"""Provenance over HTTP: verify a video's C2PA credentials, and ask "did this server make it?".

``GET /v1/videos/{id}/provenance`` checks a video the server holds, by its id, with the
download's access rules. ``POST /v1/provenance/verify`` reads the manifest of an uploaded file
(Trusted: signed by this server's own CA); ``POST /v1/provenance/lookup`` asks the content
registry, which still knows a video once it was re-encoded at another size, and after the
video itself was deleted. Both take a multipart ``file``. Clips the server did not make are
written here with PyAV.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np
import pytest
from tests.api.conftest import Api

if TYPE_CHECKING:
    from tests.s3 import S3Server

SMALL: dict[str, Any] = {"model": "openreel-sketch", "seconds": "2", "size": "640x360", "fps": 12}
"""A signed, registered video that renders in well under a second."""

HD: dict[str, Any] = {"model": "openreel-sketch", "seconds": "2", "size": "1280x720", "fps": 12}
"""A 720p video, to be copied at 480p."""


# ----- helpers ---------------------------------------------------------------------------------


def _post(api: Api, route: str, data: bytes, who: str = "alice", name: str = "clip.mp4") -> Any:
    return api.client.post(
        f"/v1/provenance/{route}",
        files={"file": (name, data, "video/mp4")},
        headers=api.auth(who),
    )


def _verify(api: Api, data: bytes, who: str = "alice") -> dict[str, Any]:
    response = _post(api, "verify", data, who)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["object"] == "provenance.verification"
    return report


def _lookup(api: Api, data: bytes, who: str = "alice") -> dict[str, Any]:
    response = _post(api, "lookup", data, who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert result["object"] == "provenance.lookup"
    assert result["made_here"] is bool(result["matches"])
    return result


def _boxes(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Top-level MP4 boxes: (type, start of the payload, end of the box)."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = len(data) - offset
        assert size >= header, f"broken box {kind!r} at {offset}"
        yield kind, offset + header, offset + size
        offset += size


def _flip_mdat_byte(data: bytes) -> bytes:
    """``data`` with one byte in the middle of the media data inverted."""
    mdat = [(start, end) for kind, start, end in _boxes(data) if kind == b"mdat"]
    assert len(mdat) == 1, [kind for kind, _, _ in _boxes(data)]
    start, end = mdat[0]
    middle = (start + end) // 2
    changed = bytearray(data)
    changed[middle] ^= 0xFF
    return bytes(changed)


def _synthetic(path: Path, *, seconds: int = 3, size: tuple[int, int] = (640, 360)) -> bytes:
    """A clip this server never made: diagonal stripes drifting over a noise field."""
    width, height = size
    fps = 12
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * fps):
            stripes = ((xs + ys + index * 9) // 40 % 2).astype(np.uint8) * 255
            frame = noise // 3
            frame[..., 0] = np.maximum(frame[..., 0], stripes)
            frame[: height // 2, : width // 3, 2] = 255 - index * 5
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in stream.encode(video):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def _reencode(source: Path, target: Path, *, width: int, height: int, crf: int) -> bytes:
    """A scaled-down copy of ``source`` at another quality (the manifest does not survive)."""
    with av.open(str(source)) as reader, av.open(str(target), mode="w") as writer:
        decoded = reader.streams.video[0]
        rate = Fraction(decoded.average_rate or 24)
        stream = writer.add_stream("libx264", rate=rate, options={"crf": str(crf)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, frame in enumerate(reader.decode(decoded)):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = index, 1 / rate
            for packet in stream.encode(scaled):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)
    return target.read_bytes()


# ----- verify ----------------------------------------------------------------------------------


def test_verify_trusts_our_video_and_finds_a_flipped_byte(api: Api, tmp_path: Path) -> None:
    video = api.make(prompt="a red kite over green hills", **SMALL)
    data = api.content(video["id"])
    report = _verify(api, data)
    assert report["status"] == "Trusted", report
    assert report["signer"]
    assert report["model"] == "openreel-sketch"
    assert report["digital_source_type"] == "algorithmicMedia"
    assert report["seed"] == video["seed"]
    assert _verify(api, data, "bob")["status"] == "Trusted"  # anyone may ask

    altered = _flip_mdat_byte(data)
    assert len(altered) == len(data)
    assert altered != data
    broken = _verify(api, altered)
    assert broken["status"] == "Invalid", broken
    assert broken["messages"], broken

    missing = _verify(api, _synthetic(tmp_path / "plain.mp4"))
    assert missing["status"] == "Missing", missing
    assert (missing["signer"], missing["model"], missing["digital_source_type"]) == (
        None,
        None,
        None,
    )


def test_verify_and_lookup_refuse_bad_uploads(api: Api, tmp_path: Path) -> None:
    clip = _synthetic(tmp_path / "plain.mp4", seconds=1, size=(96, 64))
    for route in ("verify", "lookup"):
        url = f"/v1/provenance/{route}"
        no_file = api.client.post(
            url, files={"other": ("clip.mp4", clip, "video/mp4")}, headers=api.auth()
        )
        assert "file" in api.error(no_file, 400, param="file")["message"]
        text_field = api.client.post(
            url,
            data={"file": "clip.mp4"},
            files={"other": ("clip.mp4", clip, "video/mp4")},
            headers=api.auth(),
        )
        assert "text field" in api.error(text_field, 400, param="file")["message"]
        urlencoded = api.client.post(url, data={"file": "clip.mp4"}, headers=api.auth())
        api.error(urlencoded, 415)
        as_json = api.client.post(url, json={"file": "clip.mp4"}, headers=api.auth())
        assert "multipart/form-data" in api.error(as_json, 415)["message"]
        empty = _post(api, route, b"")
        assert "empty" in api.error(empty, 400, param="file")["message"]
        anonymous = api.client.post(url, files={"file": ("clip.mp4", clip, "video/mp4")})
        api.error(anonymous, 401)


def test_verify_a_file_that_is_not_a_video_is_invalid(api: Api) -> None:
    report = _verify(api, b"hello, this is plain text and no video at all")
    assert report["status"] == "Invalid", report
    assert report["signer"] is None


# ----- by id -----------------------------------------------------------------------------------


def _by_id(api: Api, video_id: str, who: str | None = "alice") -> Any:
    headers = api.auth(who) if who else {}
    return api.client.get(f"/v1/videos/{video_id}/provenance", headers=headers)


def test_provenance_by_id_reads_the_stored_file_as_verify_reads_its_download(api: Api) -> None:
    video = api.make(prompt="a paper lantern drifting over a river", **SMALL)
    response = _by_id(api, video["id"])
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "Trusted", report
    assert report["seed"] == video["seed"]
    assert report["model"] == "openreel-sketch"
    assert report == _verify(api, api.content(video["id"]))  # the same check, no round trip
    admin = _by_id(api, video["id"], "root")
    assert admin.status_code == 200, admin.text
    assert admin.json() == report


def test_provenance_by_id_follows_the_downloads_access_rules(api: Api) -> None:
    video = api.make(prompt="a paper lantern drifting over a river", **SMALL)
    # Another person's video does not exist for them, exactly as its content does not.
    theirs = api.error(_by_id(api, video["id"], "bob"), 404, param="video_id")
    content = api.client.get(f"/v1/videos/{video['id']}/content", headers=api.auth("bob"))
    assert api.error(content, 404, param="video_id")["message"] == theirs["message"]
    api.error(_by_id(api, video["id"], None), 401)
    api.error(_by_id(api, "video_doesnotexist", "alice"), 404, param="video_id")
    running = api.start_long()
    unfinished = api.error(_by_id(api, running["id"]), 409, param="video_id")
    assert "completed" in unfinished["message"]
    deleted = api.client.delete(f"/v1/videos/{video['id']}", headers=api.auth())
    assert deleted.status_code == 200, deleted.text
    api.error(_by_id(api, video["id"]), 404, param="video_id")


def test_provenance_by_id_of_a_video_in_a_bucket_leaves_no_copy_behind(
    make_api: Callable[..., Api],
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = make_api(storage=s3_server.config(s3_bucket))
    video = api.make(prompt="a paper lantern drifting over a river", **SMALL)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    response = _by_id(api, video["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Trusted", response.json()
    assert response.json()["seed"] == video["seed"]
    assert list(scratch.iterdir()) == []  # the fetched copy is gone
    assert [p for p in (api.data_dir / "artifacts").rglob("*") if p.is_file()] == []
    api.error(_by_id(api, video["id"], "bob"), 404, param="video_id")


# ----- lookup ----------------------------------------------------------------------------------


def test_lookup_exact_copy_shows_the_id_to_its_owner_and_admins(api: Api) -> None:
    video = api.make(prompt="a lighthouse on a rocky coast at dusk", **SMALL)
    data = api.content(video["id"])

    mine = _lookup(api, data)
    assert mine["made_here"] is True
    [match] = mine["matches"]
    assert match["video_id"] == video["id"]
    assert match["exact"] is True
    assert match["distance"] == 0
    assert match["matched_seconds"] == match["compared_seconds"] == 2
    assert match["created_at"] >= video["created_at"]

    theirs = _lookup(api, data, "bob")
    assert theirs["made_here"] is True
    assert [m["video_id"] for m in theirs["matches"]] == [None]
    assert theirs["matches"][0]["exact"] is True

    admin = _lookup(api, data, "root")
    assert [m["video_id"] for m in admin["matches"]] == [video["id"]]


def test_lookup_finds_a_rescaled_reencoded_copy_and_not_an_unrelated_clip(
    api: Api, tmp_path: Path
) -> None:
    video = api.make(prompt="a small boat on a calm lake at sunset", **HD)
    original = tmp_path / "original.mp4"
    original.write_bytes(api.content(video["id"]))
    copy = _reencode(original, tmp_path / "copy.mp4", width=854, height=480, crf=30)
    assert copy != original.read_bytes()
    assert _verify(api, copy)["status"] == "Missing"  # the manifest is gone; the registry is not

    found = _lookup(api, copy)
    assert found["made_here"] is True, found
    [match] = found["matches"]
    assert match["video_id"] == video["id"]
    assert match["exact"] is False
    assert 0 <= match["distance"] <= 6, match
    assert match["matched_seconds"] == match["compared_seconds"] == 2, match
    assert _lookup(api, copy, "bob")["matches"][0]["video_id"] is None

    unrelated = _lookup(api, _synthetic(tmp_path / "other.mp4", size=(1280, 720)))
    assert unrelated == {"object": "provenance.lookup", "made_here": False, "matches": []}


def test_lookup_still_knows_a_deleted_video(api: Api, tmp_path: Path) -> None:
    video = api.make(prompt="a windmill turning in a field of tulips", **SMALL)
    data = api.content(video["id"])
    original = tmp_path / "original.mp4"
    original.write_bytes(data)
    copy = _reencode(original, tmp_path / "copy.mp4", width=480, height=270, crf=28)
    deleted = api.client.delete(f"/v1/videos/{video['id']}", headers=api.auth())
    assert deleted.status_code == 200, deleted.text
    api.error(api.client.get(f"/v1/videos/{video['id']}", headers=api.auth()), 404)
    assert not api.job_dir(video["id"]).exists()

    exact = _lookup(api, data)
    assert exact["made_here"] is True
    assert [(m["video_id"], m["exact"]) for m in exact["matches"]] == [(video["id"], True)]
    rescaled = _lookup(api, copy, "root")
    assert [(m["video_id"], m["exact"]) for m in rescaled["matches"]] == [(video["id"], False)]
    assert _verify(api, data)["status"] == "Trusted"  # the file still carries its credentials


def test_lookup_of_a_file_that_is_not_a_video_is_a_clear_400(api: Api, tmp_path: Path) -> None:
    cut = _synthetic(tmp_path / "plain.mp4", seconds=1, size=(96, 64))[:1000]
    for junk in (b"hello, this is plain text and no video at all", cut):
        error = api.error(_post(api, "lookup", junk, name="a.mp4"), 400, param="file")
        assert error["type"] == "invalid_request_error"
        assert "video" in error["message"]
        assert "openreel-upload-" not in error["message"]  # no server-side temporary path
        assert _verify(api, junk)["status"] in {"Invalid", "Missing"}  # never a 500


def test_upload_over_the_body_limit_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(max_body_bytes=100_000)
    for route in ("verify", "lookup"):
        too_big = _post(api, route, bytes(150_000))
        assert "100000" in api.error(too_big, 413, code="payload_too_large")["message"]


def test_lookup_finds_a_1080p_video_scaled_to_720p_among_other_server_videos(
    api: Api, tmp_path: Path
) -> None:
    full_hd: dict[str, Any] = {**HD, "size": "1920x1080", "seconds": "3"}
    video = api.make(prompt="a lighthouse on a stormy coast at dusk, slow push-in", **full_hd)
    other = api.make(prompt="a red fox trotting through a snowy forest at noon", **full_hd)
    original = tmp_path / "original.mp4"
    original.write_bytes(api.content(video["id"]))
    copy = _reencode(original, tmp_path / "720p.mp4", width=1280, height=720, crf=28)

    found = _lookup(api, copy)
    assert found["made_here"] is True, found
    assert [m["video_id"] for m in found["matches"]] == [video["id"]], (found, other["id"])
    assert found["matches"][0]["exact"] is False
    assert found["matches"][0]["matched_seconds"] == 3
