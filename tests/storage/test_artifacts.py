"""ArtifactStore: ids become paths only in this one place, and never escape the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openreel.domain import Job
from openreel.errors import NotFoundError
from openreel.media.partial import partial_path
from openreel.storage.artifacts import ArtifactStore

JOB = "video_" + "ab" * 16
FILE = "file-" + "cd" * 16


def test_artifacts_job_paths_live_under_the_root(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    video = store.path(JOB, "video.mp4")
    assert video == store.root / "jobs" / JOB / "video.mp4"
    assert video.parent.is_dir()
    assert store.relative(video) == f"jobs/{JOB}/video.mp4"
    assert store.resolve(f"jobs/{JOB}/video.mp4") == video
    upload = store.upload_path(FILE, ".png")
    assert upload == store.root / "files" / f"{FILE}.png"


@pytest.mark.parametrize(
    "job_id",
    [
        "../etc",
        "video_../../x",
        "video_" + "AB" * 16,
        "video_" + "a" * 31,
        "",
        "video_" + "a" * 32 + "/",
    ],
)
def test_artifacts_refuse_bad_job_ids(tmp_path: Path, job_id: str) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(NotFoundError):
        store.job_dir(job_id)
    with pytest.raises(NotFoundError):
        store.delete_job(job_id)


def test_artifacts_refuse_bad_names_file_ids_and_suffixes(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    for name in ("../video.mp4", "video.mp4/..", "evil.sh", "VIDEO.MP4"):
        with pytest.raises(NotFoundError):
            store.path(JOB, name)
    with pytest.raises(NotFoundError):
        store.upload_path("file-../../x", ".png")
    with pytest.raises(NotFoundError):
        store.upload_path(FILE, ".png/../../x")


@pytest.mark.parametrize(
    "relative", ["../outside.mp4", "jobs/../../outside.mp4", "/etc/passwd", "", "."]
)
def test_artifacts_resolve_refuses_escapes(tmp_path: Path, relative: str) -> None:
    store = ArtifactStore(tmp_path / "root")
    with pytest.raises(NotFoundError):
        store.resolve(relative)


def test_artifacts_resolve_refuses_symlinks_out(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "root")
    (tmp_path / "secret").write_text("x")
    (store.root / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(NotFoundError):
        store.resolve("link")


def test_artifacts_relative_refuses_outside_paths(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "root")
    with pytest.raises(ValueError, match="not a file inside"):
        store.relative(tmp_path / "elsewhere.mp4")


def test_artifacts_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    target = store.path(JOB, "thumbnail.webp")
    store.write_bytes_atomic(target, b"old")
    store.write_bytes_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert os.listdir(target.parent) == ["thumbnail.webp"]
    with pytest.raises(ValueError, match="not a file inside"):
        store.write_bytes_atomic(tmp_path.parent / "x.bin", b"x")


def test_artifacts_write_atomic_leaves_no_temp_on_failure(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    target = store.path(JOB, "video.mp4")
    target.mkdir()  # renaming a file over a folder fails
    with pytest.raises(IsADirectoryError):
        store.write_bytes_atomic(target, b"data")
    assert os.listdir(target.parent) == ["video.mp4"]
    assert target.is_dir()


def test_artifacts_delete_job_removes_folder_and_tolerates_missing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.write_bytes_atomic(store.path(JOB, "video.mp4"), b"x")
    store.delete_job(JOB)
    assert not (store.root / "jobs" / JOB).exists()
    store.delete_job(JOB)
    upload = store.upload_path(FILE, ".jpg")
    store.write_bytes_atomic(upload, b"x")
    store.delete_upload(store.relative(upload))
    assert not upload.exists()
    store.delete_upload(store.relative(upload))


def _finished_and_partial(store: ArtifactStore) -> tuple[Path, Path]:
    """A job's finished video, and a half-written file beside it (named as writers name them)."""
    video = store.path(JOB, "video.mp4")
    video.write_bytes(b"finished")
    stale = partial_path(video)
    stale.write_bytes(b"half")
    return video, stale


def test_artifacts_sweep_partials_removes_only_temp_files(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    video, stale = _finished_and_partial(store)
    assert store.sweep_partials() == 1
    assert not stale.exists()
    assert video.read_bytes() == b"finished"
    assert store.sweep_partials() == 0
    assert ArtifactStore(tmp_path / "empty").sweep_partials() == 0


def test_artifacts_sweep_removes_job_folders_left_empty(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    orphan = Job.new_id()  # an early start killed before its row was written
    store.path(orphan, "video.mp4").with_name(".video.0123456789ab.part.mp4").write_bytes(b"x")
    kept = store.path(JOB, "video.mp4")
    kept.write_bytes(b"finished")
    assert store.sweep_partials() == 1
    assert not store.job_dir(orphan, create=False).exists()
    assert kept.read_bytes() == b"finished"


def test_artifacts_remove_partials_of_one_job_keeps_its_finished_files(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    video, stale = _finished_and_partial(store)
    store.remove_partials(JOB)
    assert not stale.exists()
    assert video.read_bytes() == b"finished"
    other = Job.new_id()
    store.remove_partials(other)  # no folder: nothing to do, and none made
    assert not store.job_dir(other, create=False).exists()
