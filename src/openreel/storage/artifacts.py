"""Artifact files on local disk: uploads, videos and previews under one root folder.

This is the only code that turns ids into paths. Ids are checked against their exact shape
(``video_`` or ``file-`` and 32 hex digits) and file names come from a fixed set, so a path
can never be steered by user input; relative paths read back from the database are resolved
and refused if they would leave the root (a tampered row, a symbolic link).

Layout::

    root/jobs/<video id>/video.mp4, thumbnail.webp, spritesheet.jpg, input.png|jpg|webp
    root/files/<file id>.png|jpg|webp

Imports: errors only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from openreel.errors import NotFoundError

__all__ = ["JOB_FILE_NAMES", "UPLOAD_SUFFIXES", "ArtifactStore", "write_bytes_atomic"]

JOB_FILE_NAMES = frozenset(
    {"video.mp4", "thumbnail.webp", "spritesheet.jpg", "input.png", "input.jpg", "input.webp"}
)
"""The only file names a job folder may hold."""

UPLOAD_SUFFIXES = frozenset({".png", ".jpg", ".webp"})
"""Suffixes an uploaded reference image may be stored under."""

_JOB_ID = re.compile(r"^video_[0-9a-f]{32}$")
_FILE_ID = re.compile(r"^file-[0-9a-f]{32}$")


class ArtifactStore:
    """Maps job and file ids to paths under ``root`` and writes files atomically.

    Args:
        root: The artifact folder (usually ``data_dir / "artifacts"``); created if missing.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        """The absolute, resolved root folder."""
        return self._root

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

        Raises:
            NotFoundError: The path is absolute, empty, or would leave the root (``..``,
                a symbolic link pointing outside).
        """
        candidate = Path(relative)
        if not relative or candidate.is_absolute() or ".." in candidate.parts:
            raise NotFoundError("the stored file path is not inside the artifact store")
        resolved = (self._root / candidate).resolve()
        if not resolved.is_relative_to(self._root) or resolved == self._root:
            raise NotFoundError("the stored file path is not inside the artifact store")
        return resolved

    def delete_job(self, job_id: str) -> None:
        """Removes a job's folder and everything in it; a missing folder is fine.

        Raises:
            NotFoundError: Malformed id.
        """
        # A worker may still be writing into the folder; whatever it adds after this sweep,
        # it removes itself once it sees the job is gone (JobService.run).
        shutil.rmtree(self.job_dir(job_id, create=False), ignore_errors=True)

    def sweep_partials(self) -> int:
        """Removes half-written temporary files left by a process killed mid-write.

        Only safe while no writer runs, i.e. when the server starts holding the data-folder
        lock. Returns how many files were removed.
        """
        removed = 0
        jobs = self._root / "jobs"
        if not jobs.is_dir():
            return 0
        for stale in jobs.glob("*/.*.part*"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                removed += 1
        return removed

    def delete_upload(self, relative: str) -> None:
        """Removes an uploaded file by its stored relative path; a missing file is fine."""
        self.resolve(relative).unlink(missing_ok=True)

    def write_bytes_atomic(self, path: Path, data: bytes) -> None:
        """Writes ``data`` to ``path`` so readers see the old file or the new one, never half.

        The bytes go to a temporary file in the same folder, are flushed to disk (fsync),
        then renamed over ``path`` (a rename within one file system is atomic). On any
        failure the temporary file is removed and the target left untouched.

        Raises:
            ValueError: ``path`` is not inside the root.
            OSError: Writing failed.
        """
        self.relative(path)  # refuses anything outside the root
        write_bytes_atomic(path, data)


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
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
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
