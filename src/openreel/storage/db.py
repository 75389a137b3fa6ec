"""The database: engine, schema and migrations.

One :class:`Database` wraps one SQLAlchemy engine. The schema is written with SQLAlchemy Core
``Table`` objects (the stores build their statements from them) and created or upgraded only by
the Alembic migrations shipped inside this package, so an installed wheel can migrate itself
with no ``alembic.ini``.

SQLite is the one-machine default. Every SQLite connection gets WAL mode (readers never block
the writer), a 30-second busy timeout (writers queue instead of failing), ``synchronous=NORMAL``
(safe with WAL, far fewer fsyncs) and enforced foreign keys. SQLAlchemy, not the ``sqlite3``
driver, emits ``BEGIN``, so that :meth:`Database.begin` can open write transactions with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails with
``SQLITE_BUSY`` without waiting, while an immediate one takes the write lock up front and
waits its turn.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from openreel.errors import ConfigurationError

__all__ = [
    "ARTISTS",
    "AUDIT",
    "CHARACTERS",
    "CONTENT",
    "FILES",
    "JOBS",
    "METADATA",
    "MIGRATIONS_DIR",
    "PAUSES",
    "PRINCIPALS",
    "SQLITE_PRAGMAS",
    "TOKENS",
    "USAGE",
    "WEBHOOK_ATTEMPTS",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_ENDPOINTS",
    "Database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script folder shipped inside the package (env.py, script.py.mako, versions/)."""

POSTGRES_INSTALL_HINT = "pip install 'openreel[postgres]'"
"""What installs the PostgreSQL driver (psycopg) that a ``postgresql+psycopg://`` URL needs."""

DATABASE_FILE = "openreel.db"
"""Name of the SQLite file inside the data folder."""

SQLITE_PRAGMAS = (
    # First, so that even switching the journal mode waits for a busy database.
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)
"""Statements run on every new SQLite connection (never on other databases)."""

_BEGIN_OPTION = "openreel_sqlite_begin"
_NO_BEGIN = "none"
_PG_MIGRATION_LOCK = 0x0E4E_4EE1
"""Key of the PostgreSQL advisory lock that serialises concurrent migrations."""

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_MIGRATIONS_IN_PROCESS = threading.Lock()
"""Alembic installs its ``alembic.context`` proxy process-wide while a migration runs, so two
threads migrating at once (two Database objects in one process) can see each other's
context. Processes are serialised by the database itself; threads of one process by this."""

METADATA = sa.MetaData(naming_convention=_NAMING)
"""The schema as the code expects it; migrations must produce exactly this (a test checks)."""

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PRINCIPALS = sa.Table(
    "principals",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # Per-principal quota overrides; NULL means the operator's default.
    sa.Column("quota_seconds", sa.Float, nullable=True),
    sa.Column("quota_videos", sa.Integer, nullable=True),
)

TOKENS = sa.Table(
    "tokens",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "principal_id",
        sa.String(64),
        sa.ForeignKey("principals.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("last_used_at", sa.Float, nullable=True),
    # Why it stopped working, when revoked by a rule (abuse signals) rather than by a person.
    sa.Column("revoked_reason", sa.Text, nullable=True),
)

STUDIO_SESSIONS = sa.Table(
    "studio_sessions",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),  # ses_..., safe to show and audit
    # Keyed hash of the cookie's value: a copied database holds no usable session.
    sa.Column("session_hash", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "token_id",
        sa.String(64),
        sa.ForeignKey("tokens.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)
"""The studio's signed-in browsers: a cookie names a row here, never a token (trust/sessions.py)."""

FILES = sa.Table(
    "files",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

JOBS = sa.Table(
    "jobs",
    METADATA,
    # Insertion order: breaks created_at ties for the claim and for cursor pagination.
    sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("input_reference_path", sa.Text, nullable=True),
    sa.Column("model", sa.String(200), nullable=False, index=True),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
    sa.Column("phase", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("completed_at", sa.Float, nullable=True),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("remixed_from", sa.String(64), nullable=True),
    sa.Column("extended_from", sa.String(64), nullable=True),
    sa.Column("interpretation", sa.Text, nullable=False),
    sa.Column("artifacts", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("total_seconds", sa.Float, nullable=True),
    # The token that asked for it: the kill switch can stop one token's work.
    sa.Column("token_id", sa.String(64), nullable=True, index=True),
    # False once the prompt was hashed or dropped by the retention policy (storage/prompts.py).
    sa.Column("prompt_kept", sa.Boolean, nullable=False, server_default=sa.true(), index=True),
    # False until the transaction that ends the job has written its webhook events (outbox).
    sa.Column("announced", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
    sa.Index("ix_jobs_status_created_at_seq", "status", "created_at", "seq"),
    sa.Index("ix_jobs_owner_id_created_at_seq", "owner_id", "created_at", "seq"),
    sqlite_autoincrement=True,
)
"""One row per video: the single source of truth (docs/architecture.md, "The lease protocol")."""

AUDIT = sa.Table(
    "audit",
    METADATA,
    # Chain order; a gap (a rolled-back PostgreSQL insert) is harmless, the hashes are the proof.
    sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False, index=True),
    sa.Column("actor_id", sa.String(64), nullable=True, index=True),
    sa.Column("token_id", sa.String(64), nullable=True),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("target_id", sa.String(200), nullable=True, index=True),
    sa.Column("outcome", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.String(512), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),
    # Unique: two rows can never claim the same predecessor, so the chain cannot fork.
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("row_hash", sa.String(64), nullable=False, unique=True),
    sqlite_autoincrement=True,
)
"""Append-only, hash-chained audit trail (storage/audit.py)."""

USAGE = sa.Table(
    "usage",
    METADATA,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # reserved -> committed | refunded (storage/usage.py)
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("settled_at", sa.Float, nullable=True),
    sa.Index("ix_usage_owner_id_created_at", "owner_id", "created_at"),
)
"""The quota ledger: one row per admitted video, kept after the video is deleted."""

PAUSES = sa.Table(
    "pauses",
    METADATA,
    # scope: all | model | principal | token; target: '' for all, else the id or model.
    sa.Column("scope", sa.String(16), primary_key=True),
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
)
"""Kill switches in force: new work matching one is refused, and workers skip its jobs."""

ARTISTS = sa.Table(
    "artist_optouts",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    # The name folded like prompts are (trust/moderation/normalise.py): one entry a person.
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("aliases", sa.Text, nullable=False),  # JSON list of strings
    sa.Column("allow_style", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | pending
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("contact", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
)
"""Artists who asked that prompts not imitate their style (storage/artists.py)."""

CONTENT = sa.Table(
    "content",
    METADATA,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("fps", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("hashes", sa.Text, nullable=False),  # 16 hex digits per second of video
    sa.Column("created_at", sa.Float, nullable=False),
)
"""What every video this server made looks like: its SHA-256 and per-second perceptual hashes,
kept after the video is deleted, so "did this server make this?" has an answer."""


WEBHOOK_ENDPOINTS = sa.Table(
    "webhook_endpoints",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # JSON list of event types
    # Fernet tokens of the whsec_ secrets (trust/sealing.py); never the plain secret.
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("previous_secret", sa.Text, nullable=True),
    sa.Column("previous_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # Since when every attempt failed (NULL after a success); old enough, the endpoint stops.
    sa.Column("failing_since", sa.Float, nullable=True),
    sa.Column("disabled_at", sa.Float, nullable=True),
    sa.Column("disabled_reason", sa.Text, nullable=True),
)
"""Where a principal wants to hear that their videos ended (storage/webhooks.py)."""

WEBHOOK_DELIVERIES = sa.Table(
    "webhook_deliveries",
    METADATA,
    sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
    # The webhook-id header: the same at every attempt of this delivery.
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "endpoint_id",
        sa.String(64),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("video_id", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the exact body every attempt sends
    sa.Column("created_at", sa.Float, nullable=False),
    # Start of the retry window (the event, or the last manual redelivery).
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("holder", sa.String(200), nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)
"""The outbox: one row per event and endpoint, written with the job's end (storage/webhooks.py)."""

WEBHOOK_ATTEMPTS = sa.Table(
    "webhook_attempts",
    METADATA,
    sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        sa.String(64),
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("excerpt", sa.Text, nullable=True),  # the answer's first few hundred characters
    sqlite_autoincrement=True,
)
"""Every attempt of every delivery: what the receiver answered and how fast."""


CHARACTERS = sa.Table(
    "characters",
    METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("clip_path", sa.Text, nullable=False),
    sa.Column("cutout_path", sa.Text, nullable=False),
    sa.Column("frame_path", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_characters_owner_id_created_at", "owner_id", "created_at"),
)
"""Characters made from uploaded clips, each its owner's only (storage/characters.py)."""


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    """Runs the pragmas and hands BEGIN over to SQLAlchemy (see the module docstring)."""
    # isolation_level=None stops the sqlite3 driver from emitting its own (deferred) BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Emits BEGIN, or BEGIN IMMEDIATE for connections from :meth:`Database.begin`."""
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
    if mode == _NO_BEGIN:
        return
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def _is_file_sqlite(url: URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and url.query.get("mode") != "memory"


class Database:
    """One database, its connection pool and its migrations.

    Stores share one ``Database`` per process; it is safe to use from many threads.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:////srv/openreel/openreel.db`` or a PostgreSQL URL.
        **engine_options: Extra ``sqlalchemy.create_engine`` arguments (pool sizes, echo).
    """

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        try:
            self._url = make_url(url)
        except sa.exc.ArgumentError:
            # Not named in the message: a database URL usually carries a password.
            raise ConfigurationError(
                "the database URL (OPENREEL_DATABASE_URL) is not a URL SQLAlchemy can read; "
                "write it as dialect+driver://user:password@host/name, e.g. "
                "postgresql+psycopg://openreel:secret@db/openreel or sqlite:////srv/openreel.db"
            ) from None
        self._sqlite = self._url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if self._sqlite and _is_file_sqlite(self._url):
            # Worker threads plus API threads can outnumber the default pool of 5 + 10; a
            # SQLite connection is cheap, and waiting for one would only add latency.
            options.update(pool_size=8, max_overflow=-1)
        options.update(engine_options)
        try:
            self._engine = sa.create_engine(self._url, **options)
        except ModuleNotFoundError as exc:  # the URL's driver: an extra, not a core dependency
            raise ConfigurationError(
                f"database URL {self._url.render_as_string(hide_password=True)!r} needs the "
                f"driver module {exc.name!r}, which is not installed; for PostgreSQL with "
                f"psycopg: {POSTGRES_INSTALL_HINT}"
            ) from None
        if self._sqlite:
            event.listen(self._engine, "connect", _sqlite_connect)
            event.listen(self._engine, "begin", _sqlite_begin)
        self._writer = self._engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._single = self._engine.execution_options(**{_BEGIN_OPTION: _NO_BEGIN})

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Database:
        """The SQLite database of a data folder (``data_dir/openreel.db``), creating the folder.

        Args:
            data_dir: The server's data folder.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir.resolve() / DATABASE_FILE
        return cls(URL.create("sqlite", database=str(path)))

    @property
    def url(self) -> URL:
        """The database URL (render with ``hide_password=True`` before logging it)."""
        return self._url

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for code that needs something the helpers do not offer."""
        return self._engine

    @property
    def reads_are_local(self) -> bool:
        """Whether a read is a local file access (SQLite on disk), not a network round trip.

        WAL readers never wait for the writer, so such reads may run on an event loop.
        """
        return self._sqlite and _is_file_sqlite(self._url)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is SQLite (one writer at a time, no ``SKIP LOCKED``)."""
        return self._sqlite

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot), rolled back at exit.

        Yields:
            The connection.
        """
        with self._engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def query(self) -> Iterator[Connection]:
        """A connection for one read statement, with no transaction around it.

        A single SQLite statement already reads one consistent snapshot, so the ``BEGIN`` and
        ``COMMIT`` of :meth:`read` only add round trips into SQLite, each of which releases
        and re-takes the GIL; on a busy server that re-take is what a status poll waits for
        (benchmarks/api.py). Use :meth:`read` whenever two statements must agree.

        Yields:
            The connection.
        """
        if not self._sqlite:
            with self.read() as connection:
                yield connection
            return
        with self._single.connect() as connection:
            yield connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction, committed at exit unless an exception escapes.

        On SQLite it starts with ``BEGIN IMMEDIATE``: it takes the write lock first (waiting
        up to the busy timeout for other writers), so a read-then-write inside it can never
        fail with ``SQLITE_BUSY`` half way, and a claim is atomic across processes.

        Yields:
            The connection.
        """
        with self._writer.connect() as connection, connection.begin():
            yield connection

    def migrate(self) -> None:
        """Upgrades the schema to the newest migration (Alembic ``upgrade head``).

        Safe to call on every start, and from several processes at once: the whole upgrade
        runs inside one write transaction (SQLite DDL is transactional; PostgreSQL also takes
        an advisory lock), so a second caller waits, then finds the schema current and does
        nothing.
        """
        config = self.alembic_config()
        with _MIGRATIONS_IN_PROCESS, self.begin() as connection:
            if self._url.get_backend_name() == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None before the first migration."""
        with self.read() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def alembic_config(self) -> Config:
        """An Alembic ``Config`` for this database built in code (no ``alembic.ini``).

        ``env.py`` uses the connection placed in ``config.attributes["connection"]`` when
        there is one (as :meth:`migrate` does), else this URL.
        """
        config = Config()
        # ConfigParser interpolates "%", so a path or password containing one must be escaped.
        config.set_main_option("script_location", _escape(str(MIGRATIONS_DIR)))
        config.set_main_option("path_separator", "os")
        config.set_main_option(
            "sqlalchemy.url", _escape(self._url.render_as_string(hide_password=False))
        )
        return config

    def dispose(self) -> None:
        """Closes every pooled connection (call at shutdown, and in tests before deleting)."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self._url.render_as_string(hide_password=True)!r})"


def _escape(value: str) -> str:
    return re.sub("%", "%%", value)
