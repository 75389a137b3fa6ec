"""ContentStore: the content registry, what every video this server made looks like.

One row per finished video: the SHA-256 of the file as served (signed, labelled) and one
perceptual hash per second (media/fingerprint.py). Rows are written in the transaction that
completes the job and kept when the video is deleted, so "did this server make this?" still
has an answer after the files are gone.

Lookups by SHA-256 use an index; near-copy lookups read the hashes in pages and compare in
Python (numpy popcounts), which is linear in the number of videos but quick for the videos
one server makes. A server with far more would want an index of hash bands; the table keeps
the hashes as text so one can be added later.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openreel.storage.db import CONTENT, Database

__all__ = ["ContentRecord", "ContentStore", "record_content"]

_PAGE = 2000


@dataclass(frozen=True, slots=True)
class ContentRecord:
    """One registered video.

    Attributes:
        job_id: The video's id.
        owner_id: Who made it.
        sha256: SHA-256 of the file as served.
        fps: Its frame rate.
        version: The fingerprint scheme that made ``hashes``.
        hashes: One 64-bit perceptual hash per second, 16 hex digits each.
        created_at: Unix seconds.
    """

    job_id: str
    owner_id: str
    sha256: str
    fps: float
    version: int
    hashes: str
    created_at: float


def record_content(conn: Connection, record: ContentRecord) -> None:
    """Writes (or replaces) a video's row inside the caller's transaction."""
    remove, add = _record_statements()
    conn.execute(remove, {"video": record.job_id})
    conn.execute(
        add,
        {
            "job_id": record.job_id,
            "owner_id": record.owner_id,
            "sha256": record.sha256,
            "fps": record.fps,
            "version": record.version,
            "hashes": record.hashes,
            "created_at": record.created_at,
        },
    )


@functools.cache
def _record_statements() -> tuple[sa.Delete, sa.Insert]:
    """Built on first use and kept: they run in the completion of every video."""
    return sa.delete(CONTENT).where(CONTENT.c.job_id == sa.bindparam("video")), sa.insert(CONTENT)


class ContentStore:
    """Reads of the content registry."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def by_sha256(self, sha256: str) -> list[ContentRecord]:
        """Videos whose file had exactly this SHA-256 (normally one)."""
        query = sa.select(CONTENT).where(CONTENT.c.sha256 == sha256.lower())
        with self._db.query() as conn:
            rows = conn.execute(query.order_by(CONTENT.c.created_at)).all()
        return [_record(row._mapping) for row in rows]

    def scan(self, version: int) -> Iterator[ContentRecord]:
        """Every registered video fingerprinted with scheme ``version``, in pages."""
        after = ""
        while True:
            query = (
                sa.select(CONTENT)
                .where(CONTENT.c.version == version, CONTENT.c.job_id > after)
                .order_by(CONTENT.c.job_id)
                .limit(_PAGE)
            )
            with self._db.query() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield _record(row._mapping)
            if len(rows) < _PAGE:
                return
            after = str(rows[-1]._mapping["job_id"])

    def count(self) -> int:
        """Registered videos."""
        with self._db.query() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(CONTENT)).scalar_one())


def _record(row: sa.RowMapping) -> ContentRecord:
    return ContentRecord(
        job_id=str(row["job_id"]),
        owner_id=str(row["owner_id"]),
        sha256=str(row["sha256"]),
        fps=float(row["fps"]),
        version=int(row["version"]),
        hashes=str(row["hashes"]),
        created_at=float(row["created_at"]),
    )
