"""Artifact files: uploads, videos and previews under one root folder, optionally in a bucket.

This is the only code that turns ids into paths (and object keys). Ids are checked against their exact shape
(``video_`` or ``file-`` and 32 hex digits) and file names come from a fixed set, so a path
can never be steered by user input; relative paths read back from the database are resolved
and refused if they would leave the root (a tampered row, a symbolic link).

Layout::

    root/jobs/<video id>/video.mp4, thumbnail.webp, spritesheet.jpg, input.png|jpg|webp
    root/jobs/<video id>/source.mp4|webm   (an uploaded video the job edits or extends)
    root/files/<file id>.png|jpg|webp
    root/characters/<character id>/clip.mp4|webm, cutout.png, frame.png

With a bucket (``remote``, an :class:`~openreel.storage.objects.S3ObjectStore`), the bucket
holds the shared copy of every file under the same relative paths as keys, and the root is
this machine's working area: renders write there, :meth:`ArtifactStore.publish` puts the
finished files in the bucket and drops the local copies, and :meth:`ArtifactStore.resolve`
fetches a file this machine never wrote. Downloads do not pass through the root at all
(:meth:`ArtifactStore.remote_object`), so an API server's disk does not fill with videos.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from openreel.errors import NotFoundError, OpenReelError
from openreel.media.partial import PARTIAL_PATTERN, partial_path
from openreel.storage.objects import RemoteObject, S3ObjectStore

__all__ = [
    "CHARACTER_FILE_NAMES",
    "JOB_FILE_NAMES",
    "UPLOAD_SUFFIXES",
    "ArtifactStore",
    "write_bytes_atomic",
]

log = logging.getLogger(__name__)

JOB_FILE_NAMES = frozenset(
    {
        "video.mp4",
        "thumbnail.webp",
        "spritesheet.jpg",
        "input.png",
        "input.jpg",
        "input.webp",
        "last_frame.png",
        "source.mp4",
        "source.webm",
    }
)
"""The only file names a job folder may hold."""

CHARACTER_FILE_NAMES = frozenset({"clip.mp4", "clip.webm", "cutout.png", "frame.png"})
"""The only file names a character's folder may hold."""

UPLOAD_SUFFIXES = frozenset({".png", ".jpg", ".webp"})
"""Suffixes an uploaded reference image may be stored under."""

_JOB_ID = re.compile(r"^video_[0-9a-f]{32}$")
_FILE_ID = re.compile(r"^file-[0-9a-f]{32}$")
_CHARACTER_ID = re.compile(r"^char_[0-9a-f]{32}$")
_LAYOUT = re.compile(
    r"^(jobs/video_[0-9a-f]{32}/(?:"
    + "|".join(re.escape(n) for n in sorted(JOB_FILE_NAMES))
    + r")|files/file-[0-9a-f]{32}(?:"
    + "|".join(re.escape(s) for s in sorted(UPLOAD_SUFFIXES))
    + r")|characters/char_[0-9a-f]{32}/(?:"
    + "|".join(re.escape(n) for n in sorted(CHARACTER_FILE_NAMES))
    + r"))$"
)
"""The only relative paths that may become object keys."""


_MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webm": "video/webm",
}


class ArtifactStore:
    """Maps job and file ids to paths under ``root`` and writes files atomically.

    Args:
        root: The artifact folder (usually ``data_dir / "artifacts"``); created if missing.
        remote: The bucket that holds the shared copy of every file; None keeps files on
            this machine only (one machine, the default).
    """

    def __init__(self, root: Path, remote: S3ObjectStore | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()
        self._remote = remote

    @property
    def root(self) -> Path:
        """The absolute, resolved root folder."""
        return self._root

    @property
    def remote(self) -> S3ObjectStore | None:
        """The bucket, when files are shared through one."""
        return self._remote

    def job_dir(self, job_id: str, *, create: bool = True) -> Path:
        """The folder of one job's files.

        Args:
            job_id: A video id.
            create: Create the folder if it does not exist (pass False for reads).

        Raises:
            NotFoundError: ``job_id`` is not a well-formed video id.
        """
        if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
            raise NotFoundError(f"no video with id {job_id!r}", param="video_id")
        folder = self._root / "jobs" / job_id
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def path(self, job_id: str, name: str, *, create: bool = True) -> Path:
        """Where a job's file called ``name`` lies.

        Args:
            job_id: A video id.
            name: One of :data:`JOB_FILE_NAMES`.
            create: Create the job folder if it does not exist.

        Raises:
            NotFoundError: Malformed id or a name outside the fixed set.
        """
        if name not in JOB_FILE_NAMES:
            raise NotFoundError(f"no artifact named {name!r}")
        return self.job_dir(job_id, create=create) / name

    def character_path(self, character_id: str, name: str) -> Path:
        """Where a character's file called ``name`` lies (its folder is created).

        Raises:
            NotFoundError: Malformed id or a name outside :data:`CHARACTER_FILE_NAMES`.
        """
        if not isinstance(character_id, str) or not _CHARACTER_ID.fullmatch(character_id):
            raise NotFoundError(f"no character with id {character_id!r}", param="character_id")
        if name not in CHARACTER_FILE_NAMES:
            raise NotFoundError(f"no character file named {name!r}")
        folder = self._root / "characters" / character_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def delete_character(self, character_id: str) -> None:
        """Removes a character's folder and its objects; a missing one is fine.

        Raises:
            NotFoundError: Malformed id.
        """
        if not isinstance(character_id, str) or not _CHARACTER_ID.fullmatch(character_id):
            raise NotFoundError(f"no character with id {character_id!r}", param="character_id")
        shutil.rmtree(self._root / "characters" / character_id, ignore_errors=True)
        self._delete_remote(
            [f"characters/{character_id}/{name}" for name in sorted(CHARACTER_FILE_NAMES)]
        )

    def upload_path(self, file_id: str, suffix: str) -> Path:
        """Where an uploaded file with this id is stored (``root/files/<id><suffix>``).

        Args:
            file_id: A file id (``file-`` + 32 hex digits).
            suffix: One of :data:`UPLOAD_SUFFIXES`.

        Raises:
            NotFoundError: Malformed id or an unknown suffix.
        """
        if not isinstance(file_id, str) or not _FILE_ID.fullmatch(file_id):
            raise NotFoundError(f"no file with id {file_id!r}", param="file_id")
        if suffix not in UPLOAD_SUFFIXES:
            raise NotFoundError(f"uploads are stored as {sorted(UPLOAD_SUFFIXES)}; got {suffix!r}")
        folder = self._root / "files"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{file_id}{suffix}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, in POSIX form, for storing in the database.

        Raises:
            ValueError: ``path`` is not inside the root (a bug in the caller).
        """
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root) or resolved == self._root:
            raise ValueError(f"{path} is not a file inside the artifact root {self._root}")
        return resolved.relative_to(self._root).as_posix()

    def resolve(self, relative: str) -> Path:
        """The absolute path of a relative path read back from the database.

        With a bucket, a file missing here (written on another machine, or already
        published) is fetched into the root first, atomically, so the path can be read.

        Raises:
            NotFoundError: The path is absolute, empty, or would leave the root (``..``,
                a symbolic link pointing outside); or it is in neither place.
            StorageError: The bucket failed.
        """
        path = self._local(relative)
        if self._remote is not None and not path.exists():
            self._remote.download(self._name(path), path)
        return path

    @contextlib.contextmanager
    def local_copy(self, relative: str) -> Iterator[Path]:
        """A readable local file of a stored path, for the length of a ``with`` block.

        A file already on this machine is used as it is. Otherwise (with a bucket) the
        object is fetched to a temporary file under ``root/tmp`` that is removed when the
        block ends, so a machine that needs a file only briefly (an API server counting the
        frames of a video to extend) keeps no copy of it.

        Raises:
            NotFoundError: Not a file of the layout, or in neither place.
            StorageError: The bucket failed.
        """
        path = self._local(relative)
        if self._remote is None or path.exists():
            yield path
            return
        temp = self._root / "tmp" / f"{secrets.token_hex(8)}{path.suffix}"
        try:
            self._remote.download(self._name(path), temp)
            yield temp
        finally:
            temp.unlink(missing_ok=True)

    def remote_object(self, relative: str) -> RemoteObject | None:
        """The bucket's copy of a stored file, for a download route; None without a bucket.

        Nothing is fetched or checked in the bucket: a missing object shows when it is read.
        Without a bucket nothing is checked either: the caller reads the file through
        :meth:`resolve`, which checks the path.

        Raises:
            NotFoundError: The path is not a file of the layout (with a bucket).
        """
        if self._remote is None:
            return None
        return RemoteObject(self._remote, self._name(self._local(relative)))

    def publish(self, job_id: str, names: Iterable[str]) -> None:
        """Puts a finished job's files in the bucket, then drops this machine's copies.

        Called by the worker before the job is marked completed, so a completed job always
        has its files in the bucket. The local copies go (the job's input image too, which
        was put when the job was submitted): the bucket serves every later read, and a
        worker's disk holds only the renders in progress. Without a bucket, nothing happens.

        Raises:
            NotFoundError: Malformed id or name.
            StorageError: An upload failed; the objects this call had put are removed.
        """
        if self._remote is None:
            return
        put: list[str] = []
        try:
            for name in names:
                path = self.path(job_id, name, create=False)
                key = self._name(path)
                self._remote.upload(key, path, _MEDIA_TYPES.get(path.suffix))
                put.append(key)
        except BaseException:
            with contextlib.suppress(Exception):
                self._remote.delete(put)
            raise
        shutil.rmtree(self.job_dir(job_id, create=False), ignore_errors=True)

    def _name(self, path: Path) -> str:
        """The layout path of ``path`` (also its object key under the prefix)."""
        name = self.relative(path)
        if not _LAYOUT.fullmatch(name):
            raise NotFoundError("the stored file path is not a file of the artifact store")
        return name

    def _local(self, relative: str) -> Path:
        """The absolute local path of a stored relative path, checked but not fetched."""
        candidate = Path(relative)
        if not relative or candidate.is_absolute() or ".." in candidate.parts:
            raise NotFoundError("the stored file path is not inside the artifact store")
        resolved = (self._root / candidate).resolve()
        if not resolved.is_relative_to(self._root) or resolved == self._root:
            raise NotFoundError("the stored file path is not inside the artifact store")
        return resolved

    def delete_job(self, job_id: str) -> None:
        """Removes a job's folder and everything in it, and its objects when there is a
        bucket; a missing folder or object is fine.

        Raises:
            NotFoundError: Malformed id.
        """
        # A worker may still be writing into the folder; whatever it adds after this sweep,
        # it removes itself once it sees the job is gone (VideoWorker.run).
        shutil.rmtree(self.job_dir(job_id, create=False), ignore_errors=True)
        self._delete_remote([f"jobs/{job_id}/{name}" for name in sorted(JOB_FILE_NAMES)])

    def remove_partials(self, job_id: str) -> None:
        """Removes the hidden temporary files a render of ``job_id`` left in its folder (a
        process killed mid-render); creates nothing.

        Raises:
            NotFoundError: Malformed id.
        """
        folder = self.job_dir(job_id, create=False)
        if folder.is_dir():
            for stale in folder.glob(PARTIAL_PATTERN):
                stale.unlink(missing_ok=True)

    def sweep_partials(self) -> int:
        """Removes half-written temporary files left by a process killed mid-write, and job
        folders left empty.

        Only safe while no writer runs, i.e. when the server starts holding the data-folder
        lock. Returns how many files were removed.
        """
        removed = 0
        # Renders leave them in job folders; fetches from a bucket anywhere in the layout.
        stale_files = [
            *self._root.glob(f"jobs/*/{PARTIAL_PATTERN}"),
            *self._root.glob(f"files/{PARTIAL_PATTERN}"),
            *self._root.glob(f"characters/*/{PARTIAL_PATTERN}"),
            *self._root.glob("tmp/*"),  # copies fetched for one use (local_copy)
        ]
        for stale in stale_files:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                removed += 1
        # A folder left empty: one whose only files were swept (a render started early for a
        # job whose row was never written, the process killed while moderation decided).
        for folder in self._root.glob("jobs/*/"):
            with contextlib.suppress(OSError):  # not empty, or gone
                folder.rmdir()
        return removed

    def delete_upload(self, relative: str) -> None:
        """Removes an uploaded file (and its object) by its stored relative path; a missing
        file is fine."""
        path = self._local(relative)
        path.unlink(missing_ok=True)
        if self._remote is not None:
            self._delete_remote([self._name(path)])

    def _delete_remote(self, names: list[str]) -> None:
        """Deletes objects; a bucket failure is logged with the keys, not raised.

        Like the local ``rmtree(ignore_errors=True)``: the record is already gone when files
        are deleted, so failing the request would only hide that (and a refused submission's
        own error); the log names what an operator may remove by hand.
        """
        if self._remote is None:
            return
        try:
            self._remote.delete(names)
        except OpenReelError as exc:
            log.error("could not delete %s from the artifact bucket: %s", names, exc.message)

    def write_bytes_atomic(self, path: Path, data: bytes) -> None:
        """Writes ``data`` to ``path`` so readers see the old file or the new one, never half.

        The bytes go to a temporary file in the same folder, are flushed to disk (fsync),
        then renamed over ``path`` (a rename within one file system is atomic). On any
        failure the temporary file is removed and the target left untouched. With a bucket
        the bytes are put there too, so other machines can read them; if that fails the
        local file is removed as well, so the write happened everywhere or nowhere.

        Raises:
            ValueError: ``path`` is not inside the root.
            NotFoundError: With a bucket, ``path`` is not a file of the layout.
            OSError: Writing failed.
            StorageError: The bucket refused or failed the upload.
        """
        if self._remote is None:
            self.relative(path)  # refuses anything outside the root
            write_bytes_atomic(path, data)
            return
        name = self._name(path)  # refuses anything outside the root or the layout
        write_bytes_atomic(path, data)
        try:
            self._remote.upload(name, io.BytesIO(data), _MEDIA_TYPES.get(path.suffix))
        except BaseException:
            path.unlink(missing_ok=True)
            raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` so readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder (created if missing), are flushed to
    disk, then renamed over ``path``; the rename is made durable too. On any failure the
    temporary file is removed and the target left untouched.

    Raises:
        OSError: Writing failed.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    temp = partial_path(path)
    try:
        with temp.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Makes the rename itself durable (best effort: not every platform can fsync a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
