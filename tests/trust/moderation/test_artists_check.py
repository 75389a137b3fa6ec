"""Artists' opt-outs: style requests refused, mentions allowed, the registry's rules and refresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openreel.errors import ConflictError, InvalidRequestError, NotFoundError
from openreel.storage.artists import MAX_ALIASES, ArtistEntry, ArtistStore
from openreel.storage.audit import AuditStore
from openreel.storage.db import Database
from openreel.trust.moderation import ArtistStyleCheck, fold, normalise
from openreel.trust.moderation.base import Refusal

NAME = "Zoë Vermillion-Hart"
ALIASES = ["ZVH", "Zoe Hart"]


class FakeClock:
    """Seconds that move only when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TickingClock(FakeClock):
    """Unix seconds one second apart on every reading, as changes made at different moments."""

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.for_data_dir(tmp_path / "data")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def audit(db: Database) -> AuditStore:
    return AuditStore(db, TickingClock(1_700_000_000.0))


@pytest.fixture
def store(db: Database, audit: AuditStore) -> ArtistStore:
    return ArtistStore(db, fold, clock=TickingClock(1_700_000_000.0), audit=audit)


@pytest.fixture
def check_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def check(store: ArtistStore, check_clock: FakeClock) -> ArtistStyleCheck:
    return ArtistStyleCheck(store, refresh_s=2.0, clock=check_clock)


@pytest.fixture
def artist(store: ArtistStore) -> ArtistEntry:
    return store.add(NAME, ALIASES, by="usr_admin")


def refused(check: ArtistStyleCheck, text: str) -> Refusal | None:
    return check.check(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "a forest in the style of Zoë Vermillion-Hart",
        "a forest in the painterly style of Zoe Vermillion-Hart",
        "a city at night by Zoe Vermillion-Hart",
        "a Zoe Vermillion-Hart-like forest",
        "a ZOE VERMILLION-HART-esque forest",
        "a forest in Zoë Vermillion-Hart's style",
        "a forest inspired by zoe vermillion hart",
        "a forest in the style of ZVH",
        "a forest in the style of zoe hart",
        "a Zoe Hart-esque harbour",
        "a forest in the style of ZOË VERMILLION HART",
        "a forest painted by Z0e Verm1llion-Hart",
    ],
)
def test_artists_style_requests_are_refused(
    check: ArtistStyleCheck, artist: ArtistEntry, text: str
) -> None:
    refusal = refused(check, text)
    assert refusal is not None, text
    assert refusal.category == "living_artist_style"
    assert refusal.check == "artists"
    assert refusal.rule == artist.id
    assert NAME in refusal.reason
    assert "opt-out registry" in refusal.reason


@pytest.mark.parametrize(
    "text",
    [
        "a documentary about Zoë Vermillion-Hart",
        "an interview with Zoe Hart in her studio",
        "a forest at dawn, soft light",
        "a forest in the style of Zoe Hartley",  # another name that starts alike
        "a forest in the style of Monet",
    ],
)
def test_artists_other_mentions_are_allowed(
    check: ArtistStyleCheck, artist: ArtistEntry, text: str
) -> None:
    assert refused(check, text) is None


def test_artists_empty_registry_refuses_nothing(check: ArtistStyleCheck) -> None:
    assert check.name == "artists"
    assert refused(check, "a forest in the style of Zoe Hart") is None


def test_artists_allow_style_entries_refuse_nothing(
    store: ArtistStore, check: ArtistStyleCheck
) -> None:
    store.add(NAME, ALIASES, allow_style=True)
    for text in ("a forest in the style of Zoe Hart", "a ZVH-esque forest", "by ZVH"):
        assert refused(check, text) is None


def test_artists_pending_entries_are_enforced_once_active(
    store: ArtistStore, check: ArtistStyleCheck
) -> None:
    entry = store.add(NAME, ALIASES, status="pending", source="form")
    assert refused(check, "in the style of Zoe Hart") is None
    approved = store.update(entry.id, status="active", by="usr_admin")
    assert approved.status == "active"
    check.invalidate()
    assert refused(check, "in the style of Zoe Hart") is not None


def test_artists_changes_are_seen_after_invalidate(
    store: ArtistStore, check: ArtistStyleCheck, artist: ArtistEntry
) -> None:
    assert refused(check, "in the style of Zoe Hart") is not None
    store.update(artist.id, allow_style=True)
    assert refused(check, "in the style of Zoe Hart") is not None  # cached until refreshed
    check.invalidate()
    assert refused(check, "in the style of Zoe Hart") is None


def test_artists_changes_are_seen_after_the_refresh_interval(
    store: ArtistStore, check: ArtistStyleCheck, check_clock: FakeClock
) -> None:
    assert refused(check, "in the style of Ada Quill") is None
    store.add("Ada Quill")  # as if from another process: no invalidate()
    check_clock.advance(1.9)
    assert refused(check, "in the style of Ada Quill") is None
    check_clock.advance(0.1)
    assert refused(check, "in the style of Ada Quill") is not None
    entry = store.list()[0]
    assert store.remove(entry.id)
    check_clock.advance(2.0)
    assert refused(check, "in the style of Ada Quill") is None


def test_artists_aliases_changed_through_the_store_are_enforced(
    store: ArtistStore, check: ArtistStyleCheck, artist: ArtistEntry
) -> None:
    assert refused(check, "in the style of Vermi") is None
    updated = store.update(artist.id, aliases=["Vermi"])
    assert updated.aliases == ("Vermi",)
    check.invalidate()
    assert refused(check, "in the style of Vermi") is not None
    assert refused(check, "in the style of ZVH") is None  # the old alias is gone


def test_artists_invalidate_rereads_even_when_the_clock_has_not_moved(db: Database) -> None:
    # Two changes in the same clock reading (a coarse clock, or one stepped back by NTP) leave
    # (count, last change) as it was; invalidate() must still re-read the registry.
    store = ArtistStore(db, fold, clock=FakeClock(1_700_000_000.0))
    check = ArtistStyleCheck(store, clock=FakeClock())
    entry = store.add(NAME, ALIASES, status="pending")
    assert refused(check, "in the style of Zoe Hart") is None
    store.update(entry.id, status="active")
    check.invalidate()
    assert refused(check, "in the style of Zoe Hart") is not None


def test_artists_version_moves_with_every_change(store: ArtistStore) -> None:
    empty = store.version()
    assert empty == (0, 0.0)
    entry = store.add(NAME)
    added = store.version()
    assert added[0] == 1
    store.update(entry.id, allow_style=True)
    updated = store.version()
    assert updated != added
    store.remove(entry.id)
    assert store.version()[0] == 0


# ArtistStore


def test_store_add_get_list(store: ArtistStore) -> None:
    entry = store.add(
        f"  {NAME} ",
        ["ZVH", "zvh", "ZOË VERMILLION-HART", "Zoe Hart"],
        source="email",
        contact="zoe@example.org",
        by="usr_admin",
    )
    assert entry.id.startswith("art_")
    assert entry.name == NAME
    assert entry.aliases == ("ZVH", "Zoe Hart")  # duplicates of the name or each other go
    assert entry.allow_style is False
    assert entry.status == "active"
    assert store.get(entry.id) == entry
    assert store.list() == [entry]
    assert store.list(status="pending") == []
    data = entry.to_dict()
    assert data["object"] == "artist_optout"
    assert data["aliases"] == ["ZVH", "Zoe Hart"]


@pytest.mark.parametrize(
    "again",
    ["Zoë Vermillion-Hart", "zoe vermillion-hart", "ZOË VERMILLION-HART", "ＺＯＥ Vermillion-Hart"],
)
def test_store_duplicate_name_conflicts(
    store: ArtistStore, artist: ArtistEntry, again: str
) -> None:
    with pytest.raises(ConflictError) as info:
        store.add(again)
    assert info.value.param == "name"
    assert artist.id in info.value.message
    assert len(store.list()) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_store_bad_name_is_invalid(store: ArtistStore, name: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add(name)
    assert info.value.param == "name"
    assert repr(name)[:20] in info.value.message
    assert store.list() == []


@pytest.mark.parametrize("name", ["-", "---", "!!!"])
def test_store_name_without_letters_is_invalid(store: ArtistStore, name: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add(name)
    assert info.value.param == "name"
    assert repr(name) in info.value.message


def test_store_alias_without_letters_is_invalid(store: ArtistStore) -> None:
    # Accepted, an alias "-" turns into a pattern that refuses "a horse running fast, like
    # lightning" in the artist's name.
    with pytest.raises(InvalidRequestError) as info:
        store.add(NAME, ["-"])
    assert info.value.param == "aliases"
    assert "'-'" in info.value.message


def test_store_alias_folding_to_nothing_names_aliases(store: ArtistStore) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add(NAME, ["\u0301"])  # a lone combining accent
    assert info.value.param == "aliases"


def test_store_too_many_aliases_is_invalid(store: ArtistStore) -> None:
    aliases = [f"Alias {i}" for i in range(MAX_ALIASES + 1)]
    with pytest.raises(InvalidRequestError) as info:
        store.add(NAME, aliases)
    assert info.value.param == "aliases"
    assert str(MAX_ALIASES + 1) in info.value.message
    assert str(MAX_ALIASES) in info.value.message
    assert len(store.add(NAME, aliases[:MAX_ALIASES]).aliases) == MAX_ALIASES


@pytest.mark.parametrize("aliases", ["Zoe Hart", 5, None, {"Zoe Hart": 1}])
def test_store_aliases_not_a_list_is_invalid(store: ArtistStore, aliases: object) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add(NAME, aliases)  # type: ignore[arg-type]
    assert info.value.param == "aliases"
    assert repr(aliases) in info.value.message
    assert store.list() == []


@pytest.mark.parametrize("alias", ["", "  ", 7])
def test_store_bad_alias_is_invalid(store: ArtistStore, alias: object) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add(NAME, ["ZVH", alias])  # type: ignore[list-item]
    assert info.value.param == "aliases"
    assert repr(alias) in info.value.message


def test_store_bad_status_is_invalid(store: ArtistStore, artist: ArtistEntry) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.add("Ada Quill", status="approved")  # type: ignore[arg-type]
    assert info.value.param == "status"
    assert "'approved'" in info.value.message
    with pytest.raises(InvalidRequestError):
        store.update(artist.id, status="gone")  # type: ignore[arg-type]
    assert store.get(artist.id) == artist


def test_store_update_validates_aliases(store: ArtistStore, artist: ArtistEntry) -> None:
    with pytest.raises(InvalidRequestError) as info:
        store.update(artist.id, aliases="ZVH")  # type: ignore[arg-type]
    assert info.value.param == "aliases"
    assert store.get(artist.id).aliases == tuple(ALIASES)


def test_store_unknown_ids(store: ArtistStore) -> None:
    with pytest.raises(NotFoundError) as info:
        store.update("art_missing", allow_style=True)
    assert "art_missing" in info.value.message
    assert info.value.param == "id"
    with pytest.raises(NotFoundError):
        store.get("art_missing")
    assert store.remove("art_missing") is False


def test_store_remove(store: ArtistStore, artist: ArtistEntry) -> None:
    assert store.remove(artist.id) is True
    assert store.list() == []
    assert store.remove(artist.id) is False


def test_store_changes_are_audited(store: ArtistStore, audit: AuditStore) -> None:
    entry = store.add(NAME, ALIASES, status="pending", contact="zoe@example.org", by="usr_a")
    store.update(entry.id, status="active", allow_style=False, by="usr_admin")
    store.remove(entry.id, by="usr_admin")
    rows = audit.list(target_id=entry.id, order="asc")
    assert [row.action for row in rows] == ["artist.add", "artist.update", "artist.remove"]
    assert [row.actor_id for row in rows] == ["usr_a", "usr_admin", "usr_admin"]
    assert [row.outcome for row in rows] == ["ok", "ok", "ok"]
    assert rows[0].detail == {"status": "pending"}
    assert rows[1].detail == {"changed": ["allow_style", "status"]}
    assert rows[2].detail is None
    for row in rows:  # rows name the entry, never the list or the contact
        assert "Hart" not in repr(row)
        assert "example.org" not in repr(row)
    assert audit.verify().ok


def test_store_failed_changes_are_not_audited(store: ArtistStore, audit: AuditStore) -> None:
    store.add(NAME)
    with pytest.raises(ConflictError):
        store.add(NAME.upper())
    store.remove("art_missing")
    assert [row.action for row in audit.list()] == ["artist.add"]


def test_store_without_audit_writes_no_rows(db: Database, audit: AuditStore) -> None:
    store = ArtistStore(db, fold)
    entry = store.add(NAME)
    store.update(entry.id, allow_style=True)
    store.remove(entry.id)
    assert audit.list() == []
