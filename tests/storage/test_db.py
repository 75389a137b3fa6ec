"""Database: migrations, SQLite connection settings, and the schema the code expects."""

from __future__ import annotations

import threading
import types
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openreel.errors import ConfigurationError
from openreel.storage.db import METADATA, Database, _sqlite_connect


def test_db_migrate_creates_tables_and_is_idempotent(tmp_path: Path) -> None:
    db = Database.for_data_dir(tmp_path / "new" / "dir")
    try:
        assert db.current_revision() is None
        db.migrate()
        db.migrate()
        assert db.current_revision() == "0007"
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"principals", "tokens", "files", "jobs", "alembic_version"} <= tables
        assert (tmp_path / "new" / "dir" / "openreel.db").is_file()
    finally:
        db.dispose()


def test_db_sqlite_connections_use_wal_and_pragmas(db: Database) -> None:
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_db_migrated_schema_matches_the_code(db: Database) -> None:
    with db.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("jobs")}
    assert "ix_jobs_status_created_at_seq" in indexes
    assert "ix_jobs_model" in indexes


def test_db_concurrent_migrations_all_succeed(tmp_path: Path) -> None:
    databases = [Database.for_data_dir(tmp_path) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(databases))

    def migrate(database: Database) -> None:
        barrier.wait()
        try:
            database.migrate()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        assert databases[0].current_revision() == "0007"
    finally:
        for database in databases:
            database.dispose()


def test_db_write_transaction_rolls_back_on_error(db: Database) -> None:
    def insert_then_fail() -> None:
        with db.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO principals (id, name, role, created_at) VALUES ('u', 'x', 'user', 1)"
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM principals").scalar() == 0


def test_db_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO tokens (id, principal_id, name, token_hash, prefix, scopes, created_at)"
            " VALUES ('tok_1', 'usr_missing', 'n', 'h', 'p', '', 1)"
        )


def test_db_other_databases_get_no_sqlite_pragmas() -> None:
    fake_driver = types.ModuleType("fake_pg8000")
    fake_driver.paramstyle = "format"  # type: ignore[attr-defined]
    db = Database("postgresql+pg8000://user@localhost/openreel", module=fake_driver)
    assert not db.is_sqlite
    assert not sa.event.contains(db.engine, "connect", _sqlite_connect)
    assert "user@localhost" in repr(db)


def test_db_data_dir_with_percent_sign_migrates(tmp_path: Path) -> None:
    # Alembic's config is a ConfigParser, where a bare "%" would be read as interpolation.
    db = Database.for_data_dir(tmp_path / "100% videos")
    try:
        db.migrate()
        assert db.current_revision() == "0007"
    finally:
        db.dispose()


def test_a_database_url_that_is_no_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError, match=r"OPENREEL_DATABASE_URL\) is not a URL") as e:
        Database("postgres user:hunter2 at db")
    assert "hunter2" not in str(e.value)
