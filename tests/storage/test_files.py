"""FileStore: records of uploaded reference images, visible only to their owner."""

from __future__ import annotations

import re

import pytest

from openreel.errors import ConflictError, NotFoundError
from openreel.storage.db import Database
from openreel.storage.files import FileStore

from .conftest import FakeClock


def test_files_create_and_get_by_owner(db: Database, clock: FakeClock) -> None:
    files = FileStore(db, clock)
    stored = files.create("usr_a", "boat.png", "image/png", "files/x.png", 123)
    assert re.fullmatch(r"file-[0-9a-f]{32}", stored.id)
    assert stored.created_at == clock.now
    assert files.get(stored.id, "usr_a") == stored
    assert files.get(stored.id, None) == stored  # admins


def test_files_other_owner_and_missing_look_the_same(db: Database) -> None:
    files = FileStore(db)
    stored = files.create("usr_a", "boat.png", "image/png", "files/x.png", 123)
    with pytest.raises(NotFoundError, match=stored.id):
        files.get(stored.id, "usr_b")
    with pytest.raises(NotFoundError):
        files.get("file-" + "0" * 32, "usr_a")


def test_files_id_chosen_before_saving(db: Database) -> None:
    files = FileStore(db)
    file_id = FileStore.new_id()
    stored = files.create(
        "usr_a", "a.webp", "image/webp", f"files/{file_id}.webp", 9, file_id=file_id
    )
    assert stored.id == file_id
    with pytest.raises(ConflictError):
        files.create("usr_a", "a.webp", "image/webp", "p", 9, file_id=file_id)
    files.delete(file_id)
    with pytest.raises(NotFoundError):
        files.delete(file_id)
