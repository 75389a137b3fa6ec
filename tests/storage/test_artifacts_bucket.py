"""ArtifactStore with a bucket: the shared copy every machine reads (moto on loopback)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openreel.config import Settings
from openreel.errors import ConfigurationError, NotFoundError, StorageError
from openreel.runtime import open_artifacts
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.objects import S3ObjectStore

if TYPE_CHECKING:
    from tests.support.s3 import S3Server

JOB = "video_" + "1" * 32
FILE = "file-" + "2" * 32


def _pair(s3_server: S3Server, bucket: str, tmp_path: Path) -> tuple[ArtifactStore, ArtifactStore]:
    """Two machines' stores: separate local roots, one bucket."""
    remote = S3ObjectStore(s3_server.config(bucket))
    return (
        ArtifactStore(tmp_path / "one", remote),
        ArtifactStore(tmp_path / "two", S3ObjectStore(s3_server.config(bucket))),
    )


def test_bucket_writes_are_read_on_another_machine(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, two = _pair(s3_server, s3_bucket, tmp_path)
    upload = one.upload_path(FILE, ".png")
    one.write_bytes_atomic(upload, b"an image")
    reference = one.path(JOB, "input.jpg")
    one.write_bytes_atomic(reference, b"a reference")
    assert s3_server.keys(s3_bucket) == {f"files/{FILE}.png", f"jobs/{JOB}/input.jpg"}
    client = s3_server.client()
    assert client.head_object(Bucket=s3_bucket, Key=f"files/{FILE}.png")["ContentType"] == (
        "image/png"
    )
    assert upload.read_bytes() == b"an image"  # the writer keeps its copy

    fetched = two.resolve(one.relative(upload))
    assert fetched == two.root / "files" / f"{FILE}.png"
    assert fetched.read_bytes() == b"an image"
    assert two.resolve(one.relative(reference)).read_bytes() == b"a reference"
    assert not list(two.root.rglob(".*"))  # no temporary files left


def test_bucket_publish_uploads_then_drops_the_local_copies(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, two = _pair(s3_server, s3_bucket, tmp_path)
    one.write_bytes_atomic(one.path(JOB, "input.png"), b"reference")
    for name, data in (("video.mp4", b"mp4"), ("thumbnail.webp", b"webp")):
        one.path(JOB, name).write_bytes(data)
    one.publish(JOB, ["video.mp4", "thumbnail.webp"])
    assert s3_server.keys(s3_bucket) == {
        f"jobs/{JOB}/input.png",
        f"jobs/{JOB}/video.mp4",
        f"jobs/{JOB}/thumbnail.webp",
    }
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=f"jobs/{JOB}/video.mp4")
    assert head["ContentType"] == "video/mp4"
    assert not one.job_dir(JOB, create=False).exists()
    # Every machine, the writer included, now reads the bucket's copy.
    assert one.resolve(f"jobs/{JOB}/video.mp4").read_bytes() == b"mp4"
    assert two.resolve(f"jobs/{JOB}/thumbnail.webp").read_bytes() == b"webp"
    remote = two.remote_object(f"jobs/{JOB}/video.mp4")
    assert remote is not None
    assert b"".join(remote.open().chunks) == b"mp4"


def test_bucket_publish_of_a_missing_file_takes_back_what_it_put(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, _ = _pair(s3_server, s3_bucket, tmp_path)
    one.path(JOB, "video.mp4").write_bytes(b"mp4")
    with pytest.raises(StorageError):
        one.publish(JOB, ["video.mp4", "spritesheet.jpg"])  # no spritesheet was written
    assert s3_server.keys(s3_bucket) == set()
    assert one.path(JOB, "video.mp4").read_bytes() == b"mp4"  # kept for the retry


def test_bucket_deletes_remove_the_objects(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, two = _pair(s3_server, s3_bucket, tmp_path)
    other = "video_" + "3" * 32
    for job in (JOB, other):
        one.write_bytes_atomic(one.path(job, "input.webp"), b"ref")
        one.path(job, "video.mp4").write_bytes(b"mp4")
        one.publish(job, ["video.mp4"])
    upload = one.upload_path(FILE, ".jpg")
    one.write_bytes_atomic(upload, b"jpg")
    two.resolve(f"jobs/{JOB}/video.mp4")  # a cached copy on the other machine
    two.delete_job(JOB)
    assert not two.job_dir(JOB, create=False).exists()
    assert s3_server.keys(s3_bucket) == {
        f"jobs/{other}/input.webp",
        f"jobs/{other}/video.mp4",
        f"files/{FILE}.jpg",
    }
    two.delete_upload(one.relative(upload))
    assert f"files/{FILE}.jpg" not in s3_server.keys(s3_bucket)
    two.delete_job(JOB)  # already gone: fine
    with pytest.raises(NotFoundError):
        two.resolve(f"jobs/{JOB}/video.mp4")
    assert not list(two.root.rglob(".*"))


def test_bucket_resolve_and_remote_object_refuse_paths_outside_the_layout(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, _ = _pair(s3_server, s3_bucket, tmp_path)
    for relative in (
        "../x",
        "/etc/passwd",
        "jobs/video_x/video.mp4",
        f"jobs/{JOB}/other.mp4",
        f"files/{FILE}.gif",
        "keys/ca.pem",
    ):
        with pytest.raises(NotFoundError):
            one.resolve(relative)
        with pytest.raises(NotFoundError):
            one.remote_object(relative)
    assert ArtifactStore(tmp_path / "local").remote_object(f"jobs/{JOB}/video.mp4") is None


def test_bucket_failed_write_leaves_no_local_file(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = ArtifactStore(tmp_path / "one", S3ObjectStore(s3_server.config("gone-bucket")))
    path = store.upload_path(FILE, ".png")
    with pytest.raises(ConfigurationError, match="gone-bucket"):
        store.write_bytes_atomic(path, b"png")
    assert not path.exists()


def test_open_artifacts_builds_the_configured_store(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    local = open_artifacts(Settings(data_dir=tmp_path / "a"))
    assert local.remote is None
    assert local.root == (tmp_path / "a" / "artifacts").resolve()
    shared = open_artifacts(Settings(data_dir=tmp_path / "b", storage=s3_server.config(s3_bucket)))
    assert shared.remote is not None
    assert shared.remote.bucket == s3_bucket
    with pytest.raises(ConfigurationError, match="OPENREEL_STORAGE__BUCKET='missing-bucket'"):
        open_artifacts(
            Settings(data_dir=tmp_path / "c", storage=s3_server.config("missing-bucket"))
        )


def test_bucket_failed_delete_is_logged_not_raised(
    s3_server: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ArtifactStore(tmp_path / "one", S3ObjectStore(s3_server.config("gone-bucket")))
    store.path(JOB, "video.mp4").write_bytes(b"mp4")
    store.delete_job(JOB)  # the video's row is already gone: its deletion must not fail
    assert not store.job_dir(JOB, create=False).exists()
    assert f"jobs/{JOB}/video.mp4" in caplog.text
    assert "gone-bucket" in caplog.text


def test_bucket_local_copy_is_temporary_unless_the_file_is_here(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    one, two = _pair(s3_server, s3_bucket, tmp_path)
    one.path(JOB, "video.mp4").write_bytes(b"mp4")
    with one.local_copy(f"jobs/{JOB}/video.mp4") as here:
        assert here == one.path(JOB, "video.mp4", create=False)  # no fetch, no copy
    assert here.exists()
    one.publish(JOB, ["video.mp4"])
    with two.local_copy(f"jobs/{JOB}/video.mp4") as fetched:
        assert fetched.read_bytes() == b"mp4"
        assert fetched.parent == two.root / "tmp"
    assert not fetched.exists()
    assert [p for p in two.root.rglob("*") if p.is_file()] == []
    with pytest.raises(NotFoundError), two.local_copy(f"jobs/{'video_' + '9' * 32}/video.mp4"):
        pass
    assert [p for p in two.root.rglob("*") if p.is_file()] == []
