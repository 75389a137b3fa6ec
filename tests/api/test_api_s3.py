"""Artifacts in an S3-compatible bucket (moto on loopback): what the API and workers do with it.

Each test builds real servers with ``OPENREEL_STORAGE__*`` pointing at a fresh bucket, on
SQLite and on PostgreSQL like every API test. "Another machine" is a second server with its
own data folder sharing the first one's database and bucket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from openreel.media.probe import probe
from openreel.runtime import Server
from openreel.storage.db import DATABASE_FILE

if TYPE_CHECKING:
    from tests.api.conftest import Api
    from tests.support.s3 import S3Server


def _keys(s3_server: S3Server, bucket: str, video_id: str) -> set[str]:
    prefix = f"jobs/{video_id}/"
    return {k.removeprefix(prefix) for k in s3_server.keys(bucket) if k.startswith(prefix)}


def _object(s3_server: S3Server, bucket: str, key: str) -> bytes:
    body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"]
    with body:
        data: bytes = body.read()
    return data


def _local_files(api: Api) -> list[Path]:
    root = api.data_dir / "artifacts"
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def second_machine(tmp_path: Path) -> Iterator[Callable[[Api], Server]]:
    """Starts render workers "on another machine" for a server: own data folder, same
    database and bucket; stopped at teardown."""
    started: list[Server] = []

    def start(api: Api) -> Server:
        settings = api.server.settings
        url = settings.database_url
        if url is None:  # SQLite: the first server's file
            url = SecretStr(f"sqlite:///{(api.data_dir / DATABASE_FILE).resolve()}")
        other = settings.model_copy(
            update={"data_dir": tmp_path / f"machine{len(started)}", "database_url": url}
        )
        server = Server.open(other)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.close(timeout=10.0)


def test_s3_finished_video_is_in_the_bucket_and_streams_with_ranges(
    make_api: Callable[..., Api], s3_server: S3Server, s3_bucket: str
) -> None:
    api = make_api(storage=s3_server.config(s3_bucket))
    video = api.make()
    assert _keys(s3_server, s3_bucket, video["id"]) == {
        "video.mp4",
        "thumbnail.webp",
        "spritesheet.jpg",
    }
    assert _local_files(api) == []  # published, then dropped from the working area
    for variant, name, media_type, magic in (
        ("video", "video.mp4", "video/mp4", (4, b"ftyp")),
        ("thumbnail", "thumbnail.webp", "image/webp", (8, b"WEBP")),
        ("spritesheet", "spritesheet.jpg", "image/jpeg", (0, b"\xff\xd8\xff")),
    ):
        response = api.client.get(
            f"/v1/videos/{video['id']}/content", params={"variant": variant}, headers=api.auth()
        )
        assert response.status_code == 200, response.text
        stored = _object(s3_server, s3_bucket, f"jobs/{video['id']}/{name}")
        assert response.content == stored
        assert response.headers["content-type"] == media_type
        assert response.headers["content-length"] == str(len(stored))
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-disposition"] == (
            f'inline; filename="{video["id"]}-{name}"'
        )
        offset, marker = magic
        assert response.content[offset : offset + len(marker)] == marker

    url = f"/v1/videos/{video['id']}/content"
    full = api.content(video["id"])
    size = len(full)
    for header, expected, content_range in (
        ("bytes=0-9", full[:10], f"bytes 0-9/{size}"),
        ("bytes=20-59", full[20:60], f"bytes 20-59/{size}"),
        ("bytes=-16", full[-16:], f"bytes {size - 16}-{size - 1}/{size}"),
        (f"bytes={size - 5}-", full[-5:], f"bytes {size - 5}-{size - 1}/{size}"),
    ):
        response = api.client.get(url, headers=api.auth() | {"Range": header})
        assert response.status_code == 206, (header, response.text)
        assert response.content == expected
        assert response.headers["content-range"] == content_range
        assert response.headers["content-length"] == str(len(expected))
        assert response.headers["content-type"] == "video/mp4"
    past = api.client.get(url, headers=api.auth() | {"Range": f"bytes={size}-"})
    error = api.error(past, 416, code="range_not_satisfiable")
    assert str(size) in error["message"]
    assert past.headers["content-range"] == f"bytes */{size}"
    malformed = api.client.get(url, headers=api.auth() | {"Range": "bytes=abc"})
    assert "range" in api.error(malformed, 400)["message"].lower()
    assert _local_files(api) == []  # streamed straight through: nothing cached on the server
    # Someone else's video stays a 404, bucket or not.
    api.error(api.client.get(url, headers=api.auth("bob")), 404)


def test_s3_presign_mode_redirects_to_a_short_lived_url(
    make_api: Callable[..., Api], s3_server: S3Server, s3_bucket: str
) -> None:
    api = make_api(
        storage=s3_server.config(s3_bucket, downloads="presign", presign_seconds=90),
    )
    video = api.make()
    for variant, name, media_type in (
        ("video", "video.mp4", "video/mp4"),
        ("thumbnail", "thumbnail.webp", "image/webp"),
    ):
        response = api.client.get(
            f"/v1/videos/{video['id']}/content",
            params={"variant": variant},
            headers=api.auth(),
            follow_redirects=False,
        )
        assert response.status_code == 307, response.text
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        assert location.startswith(f"{s3_server.endpoint}/{s3_bucket}/jobs/{video['id']}/{name}?")
        query = parse_qs(urlsplit(location).query)
        assert query["X-Amz-Expires"] == ["90"]
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert abs(signed.timestamp() - time.time()) < 60  # valid for 90 s from now
        fetched = httpx.get(location)
        assert fetched.status_code == 200
        assert fetched.content == _object(s3_server, s3_bucket, f"jobs/{video['id']}/{name}")
        assert fetched.headers["content-type"] == media_type
        assert fetched.headers["content-disposition"] == (
            f'inline; filename="{video["id"]}-{name}"'
        )
    # The redirect is only for the owner.
    other = api.client.get(
        f"/v1/videos/{video['id']}/content", headers=api.auth("bob"), follow_redirects=False
    )
    api.error(other, 404)


def test_s3_delete_removes_the_objects(
    make_api: Callable[..., Api], s3_server: S3Server, s3_bucket: str
) -> None:
    api = make_api(storage=s3_server.config(s3_bucket))
    image = api.data_url(api.image())
    kept = api.make()
    video = api.make(input_reference={"image_url": image})
    assert _keys(s3_server, s3_bucket, video["id"]) == {
        "input.png",
        "video.mp4",
        "thumbnail.webp",
        "spritesheet.jpg",
    }
    response = api.client.delete(f"/v1/videos/{video['id']}", headers=api.auth())
    assert response.status_code == 200, response.text
    assert _keys(s3_server, s3_bucket, video["id"]) == set()
    assert len(_keys(s3_server, s3_bucket, kept["id"])) == 3  # only that video's


def test_s3_video_is_rendered_and_extended_on_a_machine_that_wrote_nothing(
    make_api: Callable[..., Api],
    s3_server: S3Server,
    s3_bucket: str,
    second_machine: Callable[[Api], Server],
) -> None:
    api = make_api(storage=s3_server.config(s3_bucket))
    api.server.queue.stop(10.0)  # this machine only serves the API from here on
    uploaded = api.client.post(
        "/v1/files",
        files={"file": ("ref.png", api.image((0, 0, 255)), "image/png")},
        data={"purpose": "vision"},
        headers=api.auth(),
    )
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    assert f"files/{file_id}.png" in s3_server.keys(s3_bucket)
    # The upload's local copy is gone too: the API server reads it back from the bucket.
    for path in _local_files(api):
        path.unlink()
    body: dict[str, Any] = {"input_reference": {"file_id": file_id}}
    source = api.create(**body)
    assert "input.png" in _keys(s3_server, s3_bucket, source["id"])
    for path in _local_files(api):  # the worker must take the input image from the bucket
        path.unlink()

    worker = second_machine(api)
    done = api.wait(source["id"])
    assert done["status"] == "completed", done
    worker_root = Path(worker.settings.data_dir) / "artifacts"
    assert not (worker_root / "jobs" / source["id"]).exists()  # published, then dropped
    assert _local_files(api) == []
    first = api.content(source["id"])
    assert first == _object(s3_server, s3_bucket, f"jobs/{source['id']}/video.mp4")

    response = api.client.post(
        "/v1/videos/extensions",
        json={"prompt": "the boat sails on", "seconds": "1", "video": {"id": source["id"]}},
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    assert _local_files(api) == []  # the source's frames were counted from a temporary copy
    extension = api.wait(response.json()["id"])
    assert extension["status"] == "completed", extension
    out = api.data_dir / "extension.mp4"
    out.write_bytes(api.content(extension["id"]))
    info = probe(out)
    assert info.frames == 16  # 8 frames of the source + 8 new ones
    # The worker read the source from a temporary copy and kept nothing.
    assert [p for p in worker_root.rglob("*") if p.is_file()] == []
    assert _keys(s3_server, s3_bucket, extension["id"]) == {
        "video.mp4",
        "thumbnail.webp",
        "spritesheet.jpg",
    }
