"""Characters (``/v1/videos/characters``): made from an uploaded clip, used by naming them.

A character is a name and a figure cut out of a clip (``media.cutout``). Its owner's prompts
that name it get it (``VideoRequest.character``); everyone else's do not, and its id reads as
unknown to them. The name passes the same name lists as prompts (public figures, artists who
opted out); the clip passes the same checks as every uploaded video. A refused character
leaves no file and no row.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from openreel.domain import CharacterRef, Principal, check_text
from openreel.errors import InvalidRequestError
from openreel.media.cutout import cut_out
from openreel.media.partial import partial_path
from openreel.media.uploaded import UploadLimits, check_video
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.characters import CharacterPage, CharacterStore, StoredCharacter

__all__ = ["MAX_NAME_CHARS", "CharacterService"]

MAX_NAME_CHARS = 80
"""Longest character name."""


class CharacterService:
    """Makes, reads, lists and deletes characters, and finds the one a prompt names.

    Args:
        store: The records.
        artifacts: Where clips and cut-outs are kept.
        limits: What an uploaded clip may be.
        screen_name: Refuses a name by policy (``Admission.screen_name``).
    """

    def __init__(
        self,
        store: CharacterStore,
        artifacts: ArtifactStore,
        limits: UploadLimits,
        screen_name: Callable[[str], None],
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._limits = limits
        self._screen_name = screen_name

    def create(self, principal: Principal, name: str, data: bytes) -> StoredCharacter:
        """Checks the name and the clip, cuts the character out and keeps it.

        Raises:
            InvalidRequestError: A bad name (empty, too long, one the principal already uses)
                or a bad clip (naming ``video``: see ``media.uploaded.check_video``), or a
                clip with no figure to cut out.
            ModerationBlockedError: The name is refused by the name lists.
        """
        name = " ".join(name.split())
        if not name:
            raise InvalidRequestError.for_value("name", name, "must not be empty")
        check_text("name", name)
        if len(name) > MAX_NAME_CHARS:
            raise InvalidRequestError(
                f"name must be at most {MAX_NAME_CHARS} characters; got {len(name)}", param="name"
            )
        if any(c.name.casefold() == name.casefold() for c in self._store.all_of(principal.id)):
            raise InvalidRequestError.for_value(
                "name", name, "is already the name of one of your characters"
            )
        self._screen_name(name)
        character_id = CharacterStore.new_id()
        try:
            staged = partial_path(self._artifacts.character_path(character_id, "clip.mp4"))
            staged.write_bytes(data)
            info = check_video(staged, self._limits)
            cut = cut_out(staged, info.frames)
            clip = self._artifacts.character_path(character_id, f"clip.{info.suffix}")
            self._artifacts.write_bytes_atomic(clip, data)
            staged.unlink(missing_ok=True)
            cutout = self._artifacts.character_path(character_id, "cutout.png")
            self._artifacts.write_bytes_atomic(cutout, cut.cutout_png)
            frame = self._artifacts.character_path(character_id, "frame.png")
            self._artifacts.write_bytes_atomic(frame, cut.frame_png)
            return self._store.create(
                character_id,
                principal.id,
                name,
                clip_path=self._artifacts.relative(clip),
                cutout_path=self._artifacts.relative(cutout),
                frame_path=self._artifacts.relative(frame),
            )
        except BaseException:
            self._artifacts.delete_character(character_id)
            raise

    def get(self, principal: Principal, character_id: str) -> StoredCharacter:
        """The principal's character (404 for unknown ids and other people's)."""
        return self._store.get(character_id, principal.id)

    def list(self, principal: Principal, *, after: str | None, limit: int) -> CharacterPage:
        """A page of the principal's characters, newest first."""
        return self._store.list(principal.id, after=after, limit=limit)

    def delete(self, principal: Principal, character_id: str) -> StoredCharacter:
        """Deletes the principal's character and its files."""
        character = self.get(principal, character_id)
        self._store.delete(character.id)
        self._artifacts.delete_character(character.id)
        return character

    def named_in(self, principal: Principal, prompt: str) -> CharacterRef | None:
        """The principal's character whose name the prompt uses (the longest name first,
        as whole words, in any case), or None."""
        folded = prompt.casefold()
        characters = sorted(self._store.all_of(principal.id), key=lambda c: -len(c.name))
        for character in characters:
            pattern = rf"(?<!\w){re.escape(character.name.casefold())}(?!\w)"
            if re.search(pattern, folded):
                return CharacterRef(
                    id=character.id,
                    name=character.name,
                    cutout=character.cutout_path,
                    frame=character.frame_path,
                )
        return None
