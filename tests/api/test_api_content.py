"""``GET /v1/videos/{id}/content``: variants, media types, HTTP Range, and when it is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from openreel.api import downloads
from openreel.media.probe import probe

if TYPE_CHECKING:
    from tests.api.conftest import Api


def test_content_video_variant_is_an_mp4(api: Api) -> None:
    video = api.make(size="160x96", fps=12)
    for params in ({}, {"variant": "video"}):
        response = api.client.get(
            f"/v1/videos/{video['id']}/content", params=params, headers=api.auth()
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["accept-ranges"] == "bytes"
        assert int(response.headers["content-length"]) == len(response.content)
        assert response.content[4:8] == b"ftyp"
    out = api.data_dir / "out.mp4"
    out.write_bytes(response.content)
    info = probe(out)
    assert (info.width, info.height, info.codec, info.frames) == (160, 96, "h264", 12)


def test_content_thumbnail_is_webp_and_spritesheet_is_jpeg(api: Api) -> None:
    video = api.make()
    thumbnail = api.client.get(
        f"/v1/videos/{video['id']}/content?variant=thumbnail", headers=api.auth()
    )
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"
    assert thumbnail.content[:4] == b"RIFF"
    assert thumbnail.content[8:12] == b"WEBP"
    sprites = api.client.get(
        f"/v1/videos/{video['id']}/content?variant=spritesheet", headers=api.auth()
    )
    assert sprites.status_code == 200
    assert sprites.headers["content-type"] == "image/jpeg"
    assert sprites.content[:3] == b"\xff\xd8\xff"


def test_content_unknown_variant_is_400_naming_variant(api: Api) -> None:
    video = api.make()
    for variant in ("gif", "VIDEO", ""):
        response = api.client.get(
            f"/v1/videos/{video['id']}/content", params={"variant": variant}, headers=api.auth()
        )
        error = api.error(response, 400, param="variant", code="invalid_value")
        assert "variant" in error["message"]


def test_content_before_completion_is_409_with_a_clear_message(api: Api) -> None:
    running = api.start_long()
    queued = api.create()
    for video_id, status in ((running["id"], "in_progress"), (queued["id"], "queued")):
        for variant in ("video", "thumbnail", "spritesheet"):
            response = api.client.get(
                f"/v1/videos/{video_id}/content", params={"variant": variant}, headers=api.auth()
            )
            error = api.error(response, 409, code="invalid_state")
            assert status in error["message"]
            assert "completed" in error["message"]


def test_content_range_request_returns_206_with_the_right_bytes(api: Api) -> None:
    video = api.make()
    url = f"/v1/videos/{video['id']}/content"
    full = api.content(video["id"])
    size = len(full)
    assert size > 100
    response = api.client.get(url, headers=api.auth() | {"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-9/{size}"
    assert response.headers["content-type"] == "video/mp4"
    assert response.content == full[:10]
    middle = api.client.get(url, headers=api.auth() | {"Range": "bytes=20-59"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 20-59/{size}"
    assert middle.content == full[20:60]
    tail = api.client.get(url, headers=api.auth() | {"Range": "bytes=-16"})
    assert tail.status_code == 206
    assert tail.content == full[-16:]
    open_ended = api.client.get(url, headers=api.auth() | {"Range": f"bytes={size - 5}-"})
    assert open_ended.status_code == 206
    assert open_ended.content == full[-5:]
    assert open_ended.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"


def test_content_unsatisfiable_range_is_enveloped_416(api: Api) -> None:
    video = api.make()
    size = len(api.content(video["id"]))
    response = api.client.get(
        f"/v1/videos/{video['id']}/content", headers=api.auth() | {"Range": f"bytes={size}-"}
    )
    error = api.error(response, 416, code="range_not_satisfiable")
    assert str(size) in error["message"]
    assert response.headers["content-range"] == f"bytes */{size}"


def test_content_malformed_range_is_enveloped_400(api: Api) -> None:
    video = api.make()
    response = api.client.get(
        f"/v1/videos/{video['id']}/content", headers=api.auth() | {"Range": "bytes=abc"}
    )
    error = api.error(response, 400)
    assert "range" in error["message"].lower()


def test_content_of_a_cancelled_video_is_409(api: Api) -> None:
    running = api.start_long()
    api.client.post(f"/v1/videos/{running['id']}/cancel", headers=api.auth())
    assert api.wait(running["id"])["status"] == "failed"
    error = api.error(
        api.client.get(f"/v1/videos/{running['id']}/content", headers=api.auth()),
        409,
        code="invalid_state",
    )
    assert "failed" in error["message"]


def test_small_files_read_at_once_answer_exactly_as_streamed_ones(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file read in one go (the fast path) and the same file streamed by
    ``FileResponse`` (the path for large files) give the same bytes and the same headers."""
    video = api.make(size="160x96", fps=12)
    answers = {}
    small = downloads.SMALL_FILE_BYTES
    for limit in (small, 0):
        monkeypatch.setattr(downloads, "SMALL_FILE_BYTES", limit)
        for variant in ("video", "thumbnail", "spritesheet"):
            response = api.client.get(
                f"/v1/videos/{video['id']}/content", params={"variant": variant}, headers=api.auth()
            )
            assert response.status_code == 200, response.text
            answers[limit, variant] = response
    headers = ("content-type", "content-length", "content-disposition", "etag", "last-modified")
    for variant in ("video", "thumbnail", "spritesheet"):
        whole, streamed = answers[small, variant], answers[0, variant]
        assert whole.content == streamed.content
        assert whole.headers["accept-ranges"] == streamed.headers["accept-ranges"] == "bytes"
        assert {h: whole.headers[h] for h in headers} == {h: streamed.headers[h] for h in headers}
        assert whole.headers["content-disposition"].startswith("inline; filename=")


def test_a_file_gone_from_the_data_folder_is_an_enveloped_404(api: Api) -> None:
    video = api.make(size="160x96", fps=12)
    (api.job_dir(video["id"]) / "video.mp4").unlink()
    response = api.client.get(f"/v1/videos/{video['id']}/content", headers=api.auth())
    error = api.error(response, 404)
    assert "no longer stored" in error["message"]
