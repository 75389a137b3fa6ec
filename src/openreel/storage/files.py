"""Records of uploaded files (reference images sent before the video request that uses them).

The bytes live in the artifact store (``ArtifactStore.upload_path``); this table says whose
they are, what they are and where they lie. A file belongs to one principal and is invisible
to everyone else, like a video.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from openreel.errors import ConflictError, NotFoundError
from openreel.storage.db import FILES, Database

__all__ = ["FileStore", "StoredFile"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded file's record (the OpenAI file object, plus where it lies).

    Attributes:
        id: ``file-`` + 32 hex digits.
        owner_id: The principal who uploaded it.
        filename: Name the client gave it (shown only, never used as a path).
        media_type: Its MIME type.
        bytes: Its length in bytes.
        path: Path relative to the artifact store.
        created_at: Unix seconds.
    """

    id: str
    owner_id: str
    filename: str
    media_type: str
    bytes: int
    path: str
    created_at: float


class FileStore:
    """Reads and writes uploaded-file records.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    @staticmethod
    def new_id() -> str:
        """A fresh file id, for callers that must name the file on disk before recording it."""
        return "file-" + secrets.token_hex(16)

    def create(
        self,
        owner_id: str,
        filename: str,
        media_type: str,
        data_path: str,
        bytes: int,  # named like the OpenAI file object's field
        *,
        file_id: str | None = None,
    ) -> StoredFile:
        """Records an uploaded file whose bytes are already saved.

        Args:
            owner_id: The uploader.
            filename: Name the client gave it.
            media_type: Its MIME type.
            data_path: Where it lies, relative to the artifact store.
            bytes: Its length.
            file_id: The id used to name the file on disk (from :meth:`new_id`); a new one
                when None.

        Raises:
            ConflictError: The id is already recorded.
        """
        record = StoredFile(
            id=file_id or self.new_id(),
            owner_id=owner_id,
            filename=filename,
            media_type=media_type,
            bytes=bytes,
            path=data_path,
            created_at=self._clock(),
        )
        try:
            with self._db.begin() as conn:
                conn.execute(
                    sa.insert(FILES).values(
                        id=record.id,
                        owner_id=record.owner_id,
                        filename=record.filename,
                        media_type=record.media_type,
                        bytes=record.bytes,
                        path=record.path,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError as exc:
            raise ConflictError(f"file {record.id} already exists") from exc
        return record

    def get(self, file_id: str, owner_id: str | None) -> StoredFile:
        """The file with this id, if ``owner_id`` owns it (None: any owner, for admins).

        Raises:
            NotFoundError: No such file, or another principal's (indistinguishable on
                purpose, so ids do not leak).
        """
        query = sa.select(FILES).where(FILES.c.id == file_id)
        if owner_id is not None:
            query = query.where(FILES.c.owner_id == owner_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no file with id {file_id!r}", param="file_id")
        return _stored_file(row._mapping)

    def delete(self, file_id: str) -> None:
        """Removes the record (the caller removes the bytes).

        Raises:
            NotFoundError: No such file.
        """
        with self._db.begin() as conn:
            result = conn.execute(sa.delete(FILES).where(FILES.c.id == file_id))
        if result.rowcount != 1:
            raise NotFoundError(f"no file with id {file_id!r}", param="file_id")


def _stored_file(row: RowMapping) -> StoredFile:
    return StoredFile(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        filename=str(row["filename"]),
        media_type=str(row["media_type"]),
        bytes=int(row["bytes"]),
        path=str(row["path"]),
        created_at=float(row["created_at"]),
    )
