"""ArtistStore: the artists' opt-out registry (who asked that prompts not imitate their style).

An entry is a name, its aliases and the artist's choice: refuse style imitation (the default)
or allow it. Artists may file a request themselves (``pending`` until an admin approves it);
admins add entries directly. Names are stored with a folded key, so one person has one entry
however their name is spelled. Every change is audited in its own transaction; the audit rows
name the entry id, never the list.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from openreel.errors import ConflictError, InvalidRequestError, NotFoundError
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import ARTISTS, Database

__all__ = ["MAX_ALIASES", "ArtistEntry", "ArtistStatus", "ArtistStore"]

ArtistStatus = Literal["active", "pending"]
MAX_ALIASES = 20
_MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class ArtistEntry:
    """One artist in the registry.

    Attributes:
        id: ``art_...``.
        name: The name as the artist gave it (named in refusals).
        aliases: Other spellings and names they are known by.
        allow_style: The artist allows prompts in their style (the entry then refuses nothing).
        status: ``active`` entries are enforced; ``pending`` ones wait for an admin.
        source: Where the request came from (form, email, an imported registry).
        contact: How to reach the artist; never shown to users.
        created_at: Unix seconds.
        created_by: Principal who filed it (None: the command line).
        updated_at: Unix seconds of the last change.
    """

    id: str
    name: str
    aliases: tuple[str, ...]
    allow_style: bool
    status: ArtistStatus
    source: str | None
    contact: str | None
    created_at: float
    created_by: str | None
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for admins."""
        return {
            "id": self.id,
            "object": "artist_optout",
            "name": self.name,
            "aliases": list(self.aliases),
            "allow_style": self.allow_style,
            "status": self.status,
            "source": self.source,
            "contact": self.contact,
            "created_at": int(self.created_at),
            "created_by": self.created_by,
            "updated_at": int(self.updated_at),
        }


class ArtistStore:
    """Add, approve, change, remove and list opt-outs.

    Args:
        db: The database.
        fold: How names are folded into keys (the moderation normaliser's ``fold``), passed in
            so storage stays below services.
        clock: Unix seconds.
        audit: Where changes are recorded.
    """

    def __init__(
        self,
        db: Database,
        fold: Callable[[str], str],
        clock: Callable[[], float] = time.time,
        audit: AuditStore | None = None,
    ) -> None:
        self._db = db
        self._fold = fold
        self._clock = clock
        self._audit = audit

    def add(
        self,
        name: str,
        aliases: Sequence[str] = (),
        *,
        allow_style: bool = False,
        status: ArtistStatus = "active",
        source: str | None = None,
        contact: str | None = None,
        by: str | None = None,
    ) -> ArtistEntry:
        """Registers an artist.

        Raises:
            InvalidRequestError: An empty or overlong name or alias, too many aliases, or an
                unknown status (each names the field and the value).
            ConflictError: The name is registered already (the message gives the entry id).
        """
        name = _checked_name("name", name)
        clean = self._aliases(name, aliases)
        if status not in ("active", "pending"):
            raise InvalidRequestError.for_value("status", status, "must be active or pending")
        now = self._clock()
        entry = ArtistEntry(
            id="art_" + secrets.token_hex(12),
            name=name,
            aliases=clean,
            allow_style=bool(allow_style),
            status=status,
            source=_optional("source", source),
            contact=_optional("contact", contact),
            created_at=now,
            created_by=by,
            updated_at=now,
        )
        key = self._key(name)
        with self._db.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(ARTISTS).values(_row(entry, key)))
            except IntegrityError:
                existing = conn.execute(
                    sa.select(ARTISTS.c.id).where(ARTISTS.c.key == key)
                ).scalar_one()
                raise ConflictError(
                    f"artist {name!r} is registered already as {existing}", param="name"
                ) from None
            self._log(conn, "artist.add", entry.id, by, {"status": status})
        return entry

    def update(
        self,
        entry_id: str,
        *,
        aliases: Sequence[str] | None = None,
        allow_style: bool | None = None,
        status: ArtistStatus | None = None,
        by: str | None = None,
    ) -> ArtistEntry:
        """Changes an entry's aliases, choice or status (approving a request: ``active``).

        Raises:
            NotFoundError: No such entry.
            InvalidRequestError: As for :meth:`add`.
        """
        with self._db.begin() as conn:
            row = conn.execute(sa.select(ARTISTS).where(ARTISTS.c.id == entry_id)).first()
            if row is None:
                raise NotFoundError(f"no artist opt-out {entry_id!r}", param="id")
            current = _entry(row._mapping)
            values: dict[str, Any] = {"updated_at": self._clock()}
            if aliases is not None:
                values["aliases"] = json.dumps(list(self._aliases(current.name, aliases)))
            if allow_style is not None:
                values["allow_style"] = bool(allow_style)
            if status is not None:
                if status not in ("active", "pending"):
                    raise InvalidRequestError.for_value(
                        "status", status, "must be active or pending"
                    )
                values["status"] = status
            conn.execute(sa.update(ARTISTS).where(ARTISTS.c.id == entry_id).values(values))
            changed = sorted(k for k in values if k != "updated_at")
            self._log(conn, "artist.update", entry_id, by, {"changed": changed})
            row = conn.execute(sa.select(ARTISTS).where(ARTISTS.c.id == entry_id)).one()
        return _entry(row._mapping)

    def remove(self, entry_id: str, *, by: str | None = None) -> bool:
        """Deletes an entry; returns whether there was one."""
        with self._db.begin() as conn:
            result = conn.execute(sa.delete(ARTISTS).where(ARTISTS.c.id == entry_id))
            if result.rowcount:
                self._log(conn, "artist.remove", entry_id, by, None)
        return bool(result.rowcount)

    def get(self, entry_id: str) -> ArtistEntry:
        """One entry.

        Raises:
            NotFoundError: No such entry.
        """
        with self._db.query() as conn:
            row = conn.execute(sa.select(ARTISTS).where(ARTISTS.c.id == entry_id)).first()
        if row is None:
            raise NotFoundError(f"no artist opt-out {entry_id!r}", param="id")
        return _entry(row._mapping)

    def list(self, *, status: ArtistStatus | None = None) -> list[ArtistEntry]:
        """Entries, by name."""
        query = sa.select(ARTISTS).order_by(ARTISTS.c.key)
        if status is not None:
            query = query.where(ARTISTS.c.status == status)
        with self._db.query() as conn:
            rows = conn.execute(query).all()
        return [_entry(row._mapping) for row in rows]

    def count_in_force(self) -> int:
        """Opt-outs enforced now: active entries that refuse style imitation (a count, never
        the names; the public transparency report shows it)."""
        query = (
            sa.select(sa.func.count())
            .select_from(ARTISTS)
            .where(ARTISTS.c.status == "active", ARTISTS.c.allow_style.is_(False))
        )
        with self._db.query() as conn:
            return int(conn.execute(query).scalar_one())

    def version(self) -> tuple[int, float]:
        """(entries, last change): cheap to read, changes whenever the registry does.

        Readers that compile the registry into matchers re-read it only when this changes.
        """
        query = sa.select(sa.func.count(), sa.func.max(ARTISTS.c.updated_at))
        with self._db.query() as conn:
            count, latest = conn.execute(query).one()
        return int(count), float(latest or 0.0)

    def _key(self, name: str, param: str = "name") -> str:
        key = self._fold(name)
        if not any(ch.isalnum() for ch in key):
            raise InvalidRequestError.for_value(param, name, "must contain letters")
        return key[:_MAX_NAME]

    def _aliases(self, name: str, aliases: Sequence[str]) -> tuple[str, ...]:
        if isinstance(aliases, str) or not isinstance(aliases, Sequence):
            raise InvalidRequestError.for_value("aliases", aliases, "must be a list of names")
        if len(aliases) > MAX_ALIASES:
            raise InvalidRequestError.for_value(
                "aliases", len(aliases), f"must hold at most {MAX_ALIASES} names"
            )
        seen = {self._key(name)}
        clean: list[str] = []
        for given in aliases:
            alias = _checked_name("aliases", given)
            key = self._key(alias, "aliases")
            if key not in seen:
                seen.add(key)
                clean.append(alias)
        return tuple(clean)

    def _log(
        self,
        conn: sa.Connection,
        action: str,
        entry_id: str,
        by: str | None,
        detail: dict[str, Any] | None,
    ) -> None:
        if self._audit is not None:
            entry = AuditEntry(action=action, actor_id=by, target_id=entry_id, detail=detail)
            self._audit.append(conn, entry)


def _checked_name(param: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > _MAX_NAME:
        raise InvalidRequestError.for_value(
            param, value, f"must be a name of 1 to {_MAX_NAME} characters"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError.for_value(param, value, "must be valid Unicode text") from None
    return text


def _optional(param: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise InvalidRequestError.for_value(param, value, "must be text of at most 500 characters")
    return value.strip() or None


def _row(entry: ArtistEntry, key: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "key": key,
        "name": entry.name,
        "aliases": json.dumps(list(entry.aliases)),
        "allow_style": entry.allow_style,
        "status": entry.status,
        "source": entry.source,
        "contact": entry.contact,
        "created_at": entry.created_at,
        "created_by": entry.created_by,
        "updated_at": entry.updated_at,
    }


def _entry(row: sa.RowMapping) -> ArtistEntry:
    status = str(row["status"])
    if status not in ("active", "pending"):
        raise ValueError(f"unknown artist opt-out status in the database: {status!r}")
    return ArtistEntry(
        id=str(row["id"]),
        name=str(row["name"]),
        aliases=tuple(str(a) for a in json.loads(row["aliases"])),
        allow_style=bool(row["allow_style"]),
        status="active" if status == "active" else "pending",
        source=row["source"],
        contact=row["contact"],
        created_at=float(row["created_at"]),
        created_by=row["created_by"],
        updated_at=float(row["updated_at"]),
    )
