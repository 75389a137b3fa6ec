"""AuditStore: the hash chain, tamper detection, the secret guard, listing and concurrency."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import threading

import pytest
import sqlalchemy as sa

from openreel.storage.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    AuditRecord,
    AuditStore,
    compute_row_hash,
)
from openreel.storage.db import AUDIT, Database
from openreel.trust.auth import mint_token

from .conftest import FakeClock


@pytest.fixture
def audit(db: Database, clock: FakeClock) -> AuditStore:
    return AuditStore(db, clock)


def _fill(audit: AuditStore, clock: FakeClock, count: int = 5) -> list[AuditRecord]:
    records = []
    for i in range(count):
        clock.advance(1.25)
        records.append(
            audit.record(
                AuditEntry(
                    action="video.admitted" if i % 2 == 0 else "token.created",
                    outcome="ok",
                    actor_id=f"usr_{i % 2}",
                    token_id="tok_1",
                    target_id=f"video_{i}",
                    detail={"seconds": 10.5, "model": "openreel-sketch", "n": i},
                    ip="127.0.0.1",
                    user_agent="pytest",
                    request_id=f"req_{i}",
                )
            )
        )
    return records


def _sql(db: Database, statement: str, **params: object) -> None:
    with db.begin() as conn:
        conn.execute(sa.text(statement), params)


# -- the chain ---------------------------------------------------------------------------------


def test_audit_empty_log_verifies_and_has_no_head(audit: AuditStore) -> None:
    result = audit.verify()
    assert result.ok
    assert result.rows_checked == 0
    assert result.first_bad_seq is None
    assert result.reason is None
    assert audit.head() is None


def test_audit_chain_links_and_verifies(audit: AuditStore, clock: FakeClock) -> None:
    records = _fill(audit, clock, 7)
    assert [r.seq for r in records] == list(range(1, 8))
    assert records[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.row_hash
    assert len({r.row_hash for r in records}) == 7
    assert audit.head() == AuditHead(seq=7, row_hash=records[-1].row_hash)
    # A chunk smaller than the log checks links across chunk boundaries too.
    for chunk in (1, 2, 3, 1000):
        result = audit.verify(audit.head(), chunk_size=chunk)
        assert result.ok, result.reason
        assert result.rows_checked == 7


def test_audit_row_hash_follows_the_documented_formula(audit: AuditStore, clock: FakeClock) -> None:
    clock.now = 1_700_000_000.1234567
    record = audit.record(AuditEntry(action="admin.pause", detail={"b": 1, "a": "é"}))
    assert record.ts == 1_700_000_000.123457
    fields = {
        "ts": "1700000000.123457",
        "actor_id": None,
        "token_id": None,
        "action": "admin.pause",
        "target_id": None,
        "outcome": "ok",
        "detail": '{"a":"é","b":1}',
        "ip": None,
        "user_agent": None,
        "request_id": None,
        "prev_hash": GENESIS_HASH,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256((GENESIS_HASH + canonical).encode()).hexdigest()
    assert record.row_hash == expected
    assert record.detail == {"a": "é", "b": 1}
    with audit._db.read() as conn:  # the stored detail is the hashed canonical text
        assert conn.execute(sa.select(AUDIT.c.detail)).scalar() == '{"a":"é","b":1}'


def test_audit_verify_reads_back_what_append_returned(audit: AuditStore, clock: FakeClock) -> None:
    records = _fill(audit, clock, 3)
    assert list(reversed(audit.list())) == records


# -- tampering ---------------------------------------------------------------------------------

_EDITS = {
    "ts": 12345.5,
    "actor_id": "usr_evil",
    "token_id": None,
    "action": "video.refused",
    "target_id": "video_other",
    "outcome": "denied:quota",
    "detail": '{"n":2,"model":"openreel-sketch","seconds":10.5}',  # same data, other text
    "ip": "10.0.0.1",
    "user_agent": "curl",
    "request_id": None,
}


@pytest.mark.parametrize("column", sorted(_EDITS))
def test_audit_editing_any_column_of_a_middle_row_is_detected(
    audit: AuditStore, clock: FakeClock, db: Database, column: str
) -> None:
    _fill(audit, clock, 5)
    _sql(db, f"UPDATE audit SET {column} = :value WHERE seq = 3", value=_EDITS[column])
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.rows_checked == 2
    assert result.reason is not None
    assert "seq 3" in result.reason
    assert "altered" in result.reason


def test_audit_editing_prev_hash_breaks_the_link(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    _sql(db, "UPDATE audit SET prev_hash = :h WHERE seq = 4", h="f" * 64)
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason is not None
    assert "seq 4" in result.reason
    assert "seq 3" in result.reason


def test_audit_malformed_value_is_reported_not_raised(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 3)
    _sql(db, "UPDATE audit SET ts = 'yesterday' WHERE seq = 2")
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_audit_deleting_a_middle_row_is_detected(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    _sql(db, "DELETE FROM audit WHERE seq = 3")
    result = audit.verify()
    assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, 4, 2)
    assert result.reason is not None
    assert "seq 4" in result.reason
    assert "deleted" in result.reason


def test_audit_deleting_the_first_row_is_detected(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 3)
    _sql(db, "DELETE FROM audit WHERE seq = 1")
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert result.reason is not None
    assert "genesis" in result.reason


def test_audit_deleting_the_last_row_needs_the_anchor(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    records = _fill(audit, clock, 5)
    anchor = audit.head()
    assert anchor is not None
    _sql(db, "DELETE FROM audit WHERE seq = 5")
    assert audit.verify().ok  # the chain alone cannot see a missing tail
    for given in (anchor, (anchor.seq, anchor.row_hash)):
        result = audit.verify(given)
        assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, 5, 4)
        assert result.reason is not None
        assert "seq 4" in result.reason
        assert "seq 5" in result.reason
    # An older anchor still passes: rows appended after it are fine.
    assert audit.verify((3, records[2].row_hash)).ok


def test_audit_emptied_log_is_detected_with_the_anchor(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 2)
    anchor = audit.head()
    _sql(db, "DELETE FROM audit")
    assert audit.verify().ok
    result = audit.verify(anchor)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_audit_rewritten_chain_is_caught_only_by_the_anchor(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    anchor = audit.head()
    # An attacker edits row 2 and re-hashes everything after it.
    with db.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(AUDIT).order_by(AUDIT.c.seq))]
        rows[1]["outcome"] = "denied:policy"
        prev = rows[0]["row_hash"]
        for row in rows[1:]:
            row["prev_hash"] = prev
            row["row_hash"] = prev = compute_row_hash(row)
        conn.execute(sa.delete(AUDIT).where(AUDIT.c.seq >= 2))
        conn.execute(sa.insert(AUDIT), rows[1:])
    assert audit.verify().ok
    result = audit.verify(anchor)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert result.reason is not None
    assert "rewritten" in result.reason


def test_audit_anchor_seq_missing_inside_the_chain_is_detected(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    records = _fill(audit, clock, 4)
    # Renumber row 3 (and move 4 up) so the chain stays intact but seq 3 no longer exists.
    _sql(db, "UPDATE audit SET seq = seq + 10 WHERE seq >= 3")
    assert audit.verify().ok
    result = audit.verify((3, records[2].row_hash))
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_audit_reordered_rows_are_detected(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    _sql(db, "UPDATE audit SET seq = 100 WHERE seq = 2")
    _sql(db, "UPDATE audit SET seq = 2 WHERE seq = 3")
    _sql(db, "UPDATE audit SET seq = 3 WHERE seq = 100")
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_audit_replaced_row_hash_is_detected(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    _sql(db, "UPDATE audit SET row_hash = :h WHERE seq = 3", h="a" * 64)
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_audit_edit_with_a_recomputed_hash_breaks_the_next_link(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    _fill(audit, clock, 5)
    with db.begin() as conn:
        row = dict(conn.execute(sa.select(AUDIT).where(AUDIT.c.seq == 3)).one()._mapping)
        row["outcome"] = "denied:quota"
        conn.execute(
            sa.update(AUDIT)
            .where(AUDIT.c.seq == 3)
            .values(outcome=row["outcome"], row_hash=compute_row_hash(row))
        )
    result = audit.verify()
    assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, 4, 3)


# -- transactions and concurrency --------------------------------------------------------------


def test_audit_append_rolls_back_with_the_callers_transaction(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    first = _fill(audit, clock, 2)

    def act_then_fail() -> None:
        with db.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO principals (id, name, role, created_at) "
                    "VALUES ('usr_x', 'x', 'user', 1)"
                )
            )
            audit.append(conn, AuditEntry(action="token.created", target_id="usr_x"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        act_then_fail()
    assert audit.list() == list(reversed(first))
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM principals")).scalar() == 0
    after = audit.record(AuditEntry(action="token.revoked"))
    assert after.prev_hash == first[-1].row_hash
    assert audit.verify().ok


def test_audit_append_commits_with_the_callers_transaction(audit: AuditStore, db: Database) -> None:
    with db.begin() as conn:
        one = audit.append(conn, AuditEntry(action="video.admitted"))
        two = audit.append(conn, AuditEntry(action="video.completed"))
    assert two.prev_hash == one.row_hash
    assert [r.seq for r in audit.list()] == [two.seq, one.seq]
    assert audit.verify().ok


def test_audit_append_refuses_a_connection_without_a_transaction(
    audit: AuditStore, db: Database
) -> None:
    with db.query() as conn, pytest.raises(ValueError, match="transaction"):
        audit.append(conn, AuditEntry(action="video.admitted"))
    assert audit.list() == []


def test_audit_concurrent_records_form_one_chain(audit: AuditStore) -> None:
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                audit.record(
                    AuditEntry(action="video.admitted", actor_id=f"usr_{n}", target_id=str(i))
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert errors == []
    result = audit.verify(chunk_size=64)
    assert result.ok, result.reason
    assert result.rows_checked == threads * per_thread
    records = audit.list(limit=1000, order="asc")
    assert len(records) == threads * per_thread
    assert len({r.prev_hash for r in records}) == threads * per_thread
    assert [r.prev_hash for r in records[1:]] == [r.row_hash for r in records[:-1]]
    assert {r.actor_id for r in records} == {f"usr_{n}" for n in range(threads)}


def test_audit_prev_hash_is_unique_so_the_chain_cannot_fork(
    audit: AuditStore, clock: FakeClock, db: Database
) -> None:
    first = audit.record(AuditEntry(action="admin.pause"))
    fork = {
        "ts": 1.0,
        "actor_id": None,
        "token_id": None,
        "action": "admin.resume",
        "target_id": None,
        "outcome": "ok",
        "detail": None,
        "ip": None,
        "user_agent": None,
        "request_id": None,
        "prev_hash": first.prev_hash,
    }
    fork["row_hash"] = compute_row_hash(fork)
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(AUDIT).values(**fork))


# -- listing -----------------------------------------------------------------------------------


def test_audit_list_filters(audit: AuditStore, clock: FakeClock) -> None:
    records = _fill(audit, clock, 6)  # ts = 1001.25, 1002.5, ..., 1007.5
    assert [r.seq for r in audit.list(action="token.created")] == [6, 4, 2]
    assert [r.seq for r in audit.list(actor_id="usr_0")] == [5, 3, 1]
    assert [r.seq for r in audit.list(target_id="video_2")] == [3]
    assert [r.seq for r in audit.list(since=records[2].ts)] == [6, 5, 4, 3]
    assert [r.seq for r in audit.list(until=records[2].ts)] == [2, 1]
    assert [r.seq for r in audit.list(since=records[1].ts, until=records[4].ts)] == [4, 3, 2]
    assert [r.seq for r in audit.list(action="video.admitted", actor_id="usr_1")] == []
    assert audit.list(target_id="video_9") == []


def test_audit_list_pages_both_ways(audit: AuditStore, clock: FakeClock) -> None:
    _fill(audit, clock, 5)
    page1 = audit.list(limit=2)
    page2 = audit.list(limit=2, after_seq=page1[-1].seq)
    page3 = audit.list(limit=2, after_seq=page2[-1].seq)
    assert [[r.seq for r in p] for p in (page1, page2, page3)] == [[5, 4], [3, 2], [1]]
    up = audit.list(limit=3, order="asc", after_seq=2)
    assert [r.seq for r in up] == [3, 4, 5]
    assert [r.seq for r in audit.list(action="token.created", limit=1, after_seq=4)] == [2]


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_audit_list_rejects_bad_limits(audit: AuditStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        audit.list(limit=limit)


# -- what may be written -----------------------------------------------------------------------

_STRING_FIELDS = (
    "action",
    "outcome",
    "actor_id",
    "token_id",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
)


@pytest.mark.parametrize("field", _STRING_FIELDS)
def test_audit_refuses_a_token_in_any_field(audit: AuditStore, field: str) -> None:
    token = mint_token()
    entry = dataclasses.replace(AuditEntry(action="token.created"), **{field: f"Bearer {token}"})
    with pytest.raises(ValueError, match=field) as caught:
        audit.record(entry)
    assert token not in str(caught.value)
    assert token[3:] not in str(caught.value)
    assert audit.list() == []


@pytest.mark.parametrize(
    "detail",
    [
        {"token": "{t}"},
        {"note": "header was Authorization: Bearer {t}"},
        {"{t}": 1},
        {"nested": {"list": ["ok", "{t}"]}},
        {"partial": "{t20}"},
    ],
)
def test_audit_refuses_a_token_in_detail(audit: AuditStore, detail: dict[str, object]) -> None:
    token = mint_token()
    text = json.dumps(detail).replace("{t}", token).replace("{t20}", token[:23])
    with pytest.raises(ValueError, match="detail") as caught:
        audit.record(AuditEntry(action="token.created", detail=json.loads(text)))
    assert token[:23] not in str(caught.value)
    assert audit.list() == []


def test_audit_allows_token_prefixes_and_lookalike_words(audit: AuditStore) -> None:
    token = mint_token()
    record = audit.record(
        AuditEntry(
            action="token.created",
            target_id="tok_" + "a" * 30,
            detail={"prefix": token[:10], "vendor": "vendor_" + "x" * 30},
        )
    )
    assert record.detail == {"prefix": token[:10], "vendor": "vendor_" + "x" * 30}


def test_audit_rejects_malformed_entries(audit: AuditStore) -> None:
    with pytest.raises(ValueError, match="action"):
        audit.record(AuditEntry(action=""))
    with pytest.raises(ValueError, match="actor_id"):
        audit.record(AuditEntry(action="x", actor_id="u" * 65))
    with pytest.raises(ValueError, match="detail"):
        audit.record(AuditEntry(action="x", detail={"f": float("nan")}))
    with pytest.raises(ValueError, match="detail"):
        audit.record(AuditEntry(action="x", detail={"blob": "z" * 5000}))
    with pytest.raises(ValueError, match="detail"):
        audit.record(AuditEntry(action="x", detail={"obj": object()}))
    assert audit.list() == []


def test_audit_cuts_client_supplied_headers(audit: AuditStore) -> None:
    record = audit.record(
        AuditEntry(action="video.refused", user_agent="a" * 2000, request_id="r" * 300)
    )
    assert record.user_agent == "a" * 512
    assert record.request_id == "r" * 128
    assert audit.verify().ok
