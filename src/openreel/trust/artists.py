"""ArtistService: the artists' opt-out registry as admins, artists and the moderator see it.

Admins add entries (enforced at once), change or remove them; anyone with a token may file a
request on an artist's behalf, which waits as ``pending`` until an admin approves it, so the
registry cannot be used to block arbitrary words. Every change tells the style check to
re-read the registry, so it applies to the very next prompt in this process (other processes
see it within the check's refresh interval).
"""

from __future__ import annotations

from collections.abc import Sequence

from openreel.errors import ConflictError
from openreel.storage.artists import ArtistEntry, ArtistStatus, ArtistStore
from openreel.trust.moderation import ArtistStyleCheck

__all__ = ["ArtistService"]


class ArtistService:
    """Registry operations that keep the moderator current."""

    def __init__(self, store: ArtistStore, check: ArtistStyleCheck | None = None) -> None:
        self._store = store
        self._check = check

    def _changed(self) -> None:
        if self._check is not None:
            self._check.invalidate()

    def add(
        self,
        name: str,
        aliases: Sequence[str] = (),
        *,
        allow_style: bool = False,
        source: str | None = None,
        contact: str | None = None,
        by: str | None = None,
    ) -> ArtistEntry:
        """An admin registers an artist; enforced from the next prompt."""
        entry = self._store.add(
            name,
            aliases,
            allow_style=allow_style,
            status="active",
            source=source,
            contact=contact,
            by=by,
        )
        self._changed()
        return entry

    def request(
        self,
        name: str,
        aliases: Sequence[str] = (),
        *,
        contact: str | None = None,
        by: str | None = None,
    ) -> ArtistEntry:
        """Files an opt-out request; it is enforced once an admin approves it.

        Raises:
            ConflictError: The name is registered or requested already (without the entry's
                id: requesters do not see the registry).
        """
        try:
            return self._store.add(
                name, aliases, status="pending", source="request", contact=contact, by=by
            )
        except ConflictError:
            raise ConflictError(
                f"an opt-out for {name.strip()!r} is registered or requested already",
                param="name",
            ) from None

    def update(
        self,
        entry_id: str,
        *,
        aliases: Sequence[str] | None = None,
        allow_style: bool | None = None,
        status: ArtistStatus | None = None,
        by: str | None = None,
    ) -> ArtistEntry:
        """Changes aliases, the artist's choice, or approves a request (``active``)."""
        entry = self._store.update(
            entry_id, aliases=aliases, allow_style=allow_style, status=status, by=by
        )
        self._changed()
        return entry

    def remove(self, entry_id: str, *, by: str | None = None) -> bool:
        """Deletes an entry; returns whether there was one."""
        removed = self._store.remove(entry_id, by=by)
        self._changed()
        return removed

    def get(self, entry_id: str) -> ArtistEntry:
        """One entry (NotFoundError when there is none)."""
        return self._store.get(entry_id)

    def list(self, *, status: ArtistStatus | None = None) -> list[ArtistEntry]:
        """Entries by name."""
        return self._store.list(status=status)
