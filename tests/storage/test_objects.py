"""S3ObjectStore against a real S3-compatible server (moto on loopback, tests/support/s3.py)."""

from __future__ import annotations

import io
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from openreel.config import StorageConfig
from openreel.errors import (
    ConfigurationError,
    NotFoundError,
    RangeNotSatisfiableError,
    StorageError,
)
from openreel.storage.objects import CHUNK_BYTES, S3ObjectStore

if TYPE_CHECKING:
    from tests.support.s3 import S3Server

MIB = 1024 * 1024
NAME = "jobs/video_" + "a" * 32 + "/video.mp4"


def _store(s3_server: S3Server, bucket: str, **overrides: object) -> S3ObjectStore:
    return S3ObjectStore(s3_server.config(bucket, **overrides))


def test_objects_put_read_download_delete(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = _store(s3_server, s3_bucket)
    store.check()
    data = bytes(range(256)) * 40
    source = tmp_path / "source.mp4"
    source.write_bytes(data)
    store.upload(NAME, source, "video/mp4")
    store.upload("files/file-" + "b" * 32 + ".png", io.BytesIO(b"png bytes"), "image/png")
    assert s3_server.keys(s3_bucket) == {NAME, "files/file-" + "b" * 32 + ".png"}
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=NAME)
    assert head["ContentType"] == "video/mp4"
    assert store.exists(NAME)

    whole = store.open(NAME)
    assert (whole.length, whole.size, whole.content_range) == (len(data), len(data), None)
    assert b"".join(whole.chunks) == data
    part = store.open(NAME, "bytes=100-199")
    assert (part.length, part.size) == (100, len(data))
    assert part.content_range == f"bytes 100-199/{len(data)}"
    assert b"".join(part.chunks) == data[100:200]
    tail = store.open(NAME, "bytes=-16")
    assert b"".join(tail.chunks) == data[-16:]

    target = tmp_path / "copy" / "video.mp4"
    store.download(NAME, target)
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["video.mp4"]  # no temp left

    # A relayed object arrives in bounded chunks, never as one read of the whole body.
    big = "jobs/video_" + "f" * 32 + "/video.mp4"
    store.upload(big, io.BytesIO(b"\x07" * MIB), "video/mp4")
    chunks = list(store.open(big).chunks)
    assert len(chunks) >= 4
    assert max(len(c) for c in chunks) <= CHUNK_BYTES
    assert sum(len(c) for c in chunks) == MIB
    store.delete([big])

    store.delete([NAME, "jobs/video_" + "c" * 32 + "/video.mp4"])  # a missing one is fine
    assert not store.exists(NAME)
    assert s3_server.keys(s3_bucket) == {"files/file-" + "b" * 32 + ".png"}


def test_objects_keys_live_under_the_prefix(s3_server: S3Server, s3_bucket: str) -> None:
    store = _store(s3_server, s3_bucket, prefix="tenant/one")
    store.upload(NAME, io.BytesIO(b"x"), None)
    assert s3_server.keys(s3_bucket) == {f"tenant/one/{NAME}"}
    assert b"".join(store.open(NAME).chunks) == b"x"
    store.delete([NAME])
    assert s3_server.keys(s3_bucket) == set()


@pytest.mark.parametrize(
    "name", ["", "../x", "jobs/../x", "/abs", "a//b", ".hidden", "a b", "jobs/./x", "a\\b", "é"]
)
def test_objects_refuse_malformed_names(s3_server: S3Server, s3_bucket: str, name: str) -> None:
    store = _store(s3_server, s3_bucket)
    with pytest.raises(NotFoundError):
        store.key(name)
    with pytest.raises(NotFoundError):
        store.upload(name, io.BytesIO(b"x"), None)
    assert s3_server.keys(s3_bucket) == set()


def test_objects_large_file_goes_up_in_parts(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = _store(s3_server, s3_bucket, multipart_mb=5)
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x01" * (11 * MIB))
    small = tmp_path / "small.mp4"
    small.write_bytes(b"\x02" * (4 * MIB))
    store.upload(NAME, big, "video/mp4")
    store.upload("jobs/video_" + "d" * 32 + "/video.mp4", small, "video/mp4")
    client = s3_server.client()
    big_etag = client.head_object(Bucket=s3_bucket, Key=NAME)["ETag"]
    small_etag = client.head_object(Bucket=s3_bucket, Key="jobs/video_" + "d" * 32 + "/video.mp4")[
        "ETag"
    ]
    assert big_etag.strip('"').endswith("-3"), big_etag  # 5 + 5 + 1 MiB
    assert "-" not in small_etag, small_etag  # below the threshold: one PUT
    assert client.head_object(Bucket=s3_bucket, Key=NAME)["ContentLength"] == 11 * MIB


class _Failing(io.RawIOBase):
    """A stream that breaks after ``limit`` bytes, as a disk or a pipe can."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.sent >= self.limit:
            raise OSError("the disk went away")
        n = min(len(buffer), self.limit - self.sent)
        buffer[:n] = b"\x03" * n
        self.sent += n
        return n


def test_objects_failed_multipart_upload_leaves_no_object(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = _store(s3_server, s3_bucket, multipart_mb=5)
    store.upload(NAME, io.BytesIO(b"the old video"), "video/mp4")
    source = _Failing(7 * MIB)
    with pytest.raises(StorageError) as caught:
        store.upload(NAME, io.BufferedReader(source), "video/mp4")
    assert source.sent > 5 * MIB  # a first part went up before it broke
    assert s3_bucket in caught.value.message
    client = s3_server.client()
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert b"".join(store.open(NAME).chunks) == b"the old video"

    other = "jobs/video_" + "e" * 32 + "/video.mp4"
    with pytest.raises(StorageError):
        store.upload(other, io.BufferedReader(_Failing(7 * MIB)), "video/mp4")
    assert not store.exists(other)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_objects_missing_object_is_not_found(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = _store(s3_server, s3_bucket)
    with pytest.raises(NotFoundError):
        store.open(NAME)
    with pytest.raises(NotFoundError):
        store.download(NAME, tmp_path / "x" / "video.mp4")
    assert list((tmp_path / "x").iterdir()) == []  # no partial file left
    assert not store.exists(NAME)


def test_objects_range_past_the_end_is_416_with_the_size(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = _store(s3_server, s3_bucket)
    store.upload(NAME, io.BytesIO(b"x" * 100), None)
    for byte_range in ("bytes=100-", "bytes=500-600", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiableError) as caught:
            store.open(NAME, byte_range)
        assert caught.value.size == 100
        assert caught.value.http_status == 416


def test_objects_presigned_url_serves_the_object_and_expires(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = _store(s3_server, s3_bucket)
    store.upload(NAME, io.BytesIO(b"video bytes"), "application/octet-stream")
    url = store.presign(
        NAME, seconds=120, media_type="video/mp4", disposition='inline; filename="v.mp4"'
    )
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"video bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-disposition"] == 'inline; filename="v.mp4"'
    # moto does not enforce expiry itself; the signed query is what S3 enforces.
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at.timestamp() - time.time()) < 60
    assert query["X-Amz-Signature"][0]
    assert "ResponseContentDisposition" not in url  # passed as the signed response-* params
    assert query["response-content-disposition"] == ['inline; filename="v.mp4"']


def test_objects_no_such_bucket_names_the_setting(s3_server: S3Server) -> None:
    store = _store(s3_server, "no-such-bucket")
    with pytest.raises(ConfigurationError) as caught:
        store.check()
    message = caught.value.message
    assert "OPENREEL_STORAGE__BUCKET='no-such-bucket'" in message
    assert "no such bucket" in message
    assert s3_server.endpoint in message


def test_objects_unreachable_endpoint_names_the_setting_and_value(s3_bucket: str) -> None:
    from tests.support.s3 import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    config = StorageConfig(
        bucket=s3_bucket,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id=SecretStr("id"),
        secret_access_key=SecretStr("very-secret"),
    )
    with pytest.raises(ConfigurationError) as caught:
        S3ObjectStore(config).check()
    message = caught.value.message
    assert f"OPENREEL_STORAGE__ENDPOINT_URL={endpoint!r}" in message
    assert "does not answer" in message
    assert "very-secret" not in message
    assert "Traceback" not in message


def test_objects_missing_credentials_name_the_settings(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = StorageConfig(bucket=s3_bucket, endpoint_url=s3_server.endpoint, region="us-east-1")
    with pytest.raises(ConfigurationError) as caught:
        S3ObjectStore(config).check()
    message = caught.value.message
    assert "OPENREEL_STORAGE__ACCESS_KEY_ID" in message
    assert "OPENREEL_STORAGE__SECRET_ACCESS_KEY" in message


def test_objects_without_boto3_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConfigurationError) as caught:
        S3ObjectStore(StorageConfig(bucket="some-bucket"))
    assert "pip install 'openreel[s3]'" in caught.value.message


def test_storage_config_keeps_keys_secret_and_checks_its_values() -> None:
    config = StorageConfig(
        bucket="b-1",
        prefix="a/b",
        access_key_id=SecretStr("AKIDSECRET"),
        secret_access_key=SecretStr("s3cr3t"),
    )
    assert config.prefix == "a/b/"
    assert "AKIDSECRET" not in repr(config)
    assert "s3cr3t" not in repr(config)
    assert "s3cr3t" not in config.model_dump_json()
    assert (config.downloads, config.presign_seconds, config.multipart_mb) == ("stream", 300, 8)
    for bad in (
        {"prefix": "../up"},
        {"prefix": "/abs"},
        {"bucket": "b", "access_key_id": SecretStr("only half")},
        {"multipart_mb": 4},
        {"downloads": "copy"},
        {"endpoint_url": "ftp://host"},
    ):
        with pytest.raises(ValueError, match="validation error"):
            StorageConfig(**bad)  # type: ignore[arg-type]
