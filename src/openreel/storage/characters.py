"""Records of characters: a name, whose it is, and where its clip and cut-out lie.

The files live in the artifact store (``ArtifactStore.character_path``); this table says whose
they are. A character belongs to one principal and is invisible to everyone else, like a video:
another principal's id reads as unknown.
"""

from __future__ import annotations

import builtins
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from openreel.errors import InvalidRequestError, NotFoundError
from openreel.storage.db import CHARACTERS, Database

__all__ = ["CharacterPage", "CharacterStore", "StoredCharacter"]


@dataclass(frozen=True, slots=True)
class StoredCharacter:
    """A character's record.

    Attributes:
        id: ``char_`` + 32 hex digits.
        owner_id: The principal who made it.
        name: The name prompts use for it.
        clip_path: The uploaded clip, relative to the artifact store.
        cutout_path: The cut-out (RGBA PNG), relative to the artifact store.
        frame_path: The clip's clearest frame (PNG), relative to the artifact store.
        created_at: Unix seconds.
    """

    id: str
    owner_id: str
    name: str
    clip_path: str
    cutout_path: str
    frame_path: str
    created_at: float


@dataclass(frozen=True, slots=True)
class CharacterPage:
    """One page of a principal's characters, newest first."""

    items: builtins.list[StoredCharacter]
    has_more: bool


class CharacterStore:
    """Reads and writes character records.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    @staticmethod
    def new_id() -> str:
        """A fresh character id, for naming its folder before the record is written."""
        return "char_" + secrets.token_hex(16)

    def create(
        self,
        character_id: str,
        owner_id: str,
        name: str,
        *,
        clip_path: str,
        cutout_path: str,
        frame_path: str,
    ) -> StoredCharacter:
        """Records a character whose files are already saved."""
        record = StoredCharacter(
            id=character_id,
            owner_id=owner_id,
            name=name,
            clip_path=clip_path,
            cutout_path=cutout_path,
            frame_path=frame_path,
            created_at=self._clock(),
        )
        with self._db.begin() as conn:
            conn.execute(
                sa.insert(CHARACTERS).values(
                    id=record.id,
                    owner_id=record.owner_id,
                    name=record.name,
                    clip_path=record.clip_path,
                    cutout_path=record.cutout_path,
                    frame_path=record.frame_path,
                    created_at=record.created_at,
                )
            )
        return record

    def get(self, character_id: str, owner_id: str | None) -> StoredCharacter:
        """The character, if ``owner_id`` owns it (None: any owner, for admins).

        Raises:
            NotFoundError: No such character, or another principal's (indistinguishable).
        """
        query = sa.select(CHARACTERS).where(CHARACTERS.c.id == character_id)
        if owner_id is not None:
            query = query.where(CHARACTERS.c.owner_id == owner_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no character with id {character_id!r}", param="character_id")
        return _stored(row._mapping)

    def list(self, owner_id: str, *, after: str | None = None, limit: int = 20) -> CharacterPage:
        """The owner's characters, newest first; ``after`` is the last id of the page before.

        Raises:
            InvalidRequestError: ``after`` is not one of the owner's characters.
        """
        query = sa.select(CHARACTERS).where(CHARACTERS.c.owner_id == owner_id)
        with self._db.read() as conn:
            if after is not None:
                anchor = conn.execute(
                    sa.select(CHARACTERS.c.created_at).where(
                        CHARACTERS.c.id == after, CHARACTERS.c.owner_id == owner_id
                    )
                ).first()
                if anchor is None:
                    raise InvalidRequestError.for_value(
                        "after", after, "must be the id of one of your characters"
                    )
                when = anchor._mapping["created_at"]
                query = query.where(
                    sa.or_(
                        CHARACTERS.c.created_at < when,
                        sa.and_(CHARACTERS.c.created_at == when, CHARACTERS.c.id < after),
                    )
                )
            query = query.order_by(CHARACTERS.c.created_at.desc(), CHARACTERS.c.id.desc())
            rows = conn.execute(query.limit(limit + 1)).all()
        items = [_stored(row._mapping) for row in rows[:limit]]
        return CharacterPage(items, has_more=len(rows) > limit)

    def all_of(self, owner_id: str) -> builtins.list[StoredCharacter]:
        """Every character of the owner (a prompt may name any of them)."""
        query = sa.select(CHARACTERS).where(CHARACTERS.c.owner_id == owner_id)
        with self._db.read() as conn:
            return [_stored(row._mapping) for row in conn.execute(query)]

    def delete(self, character_id: str) -> None:
        """Removes the record (the caller removes the files).

        Raises:
            NotFoundError: No such character.
        """
        with self._db.begin() as conn:
            result = conn.execute(sa.delete(CHARACTERS).where(CHARACTERS.c.id == character_id))
        if result.rowcount != 1:
            raise NotFoundError(f"no character with id {character_id!r}", param="character_id")


def _stored(row: RowMapping) -> StoredCharacter:
    return StoredCharacter(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        name=str(row["name"]),
        clip_path=str(row["clip_path"]),
        cutout_path=str(row["cutout_path"]),
        frame_path=str(row["frame_path"]),
        created_at=float(row["created_at"]),
    )
