"""Storage: the durable state of OpenReel, behind small typed stores.

The database (SQLite in WAL mode on one machine, PostgreSQL later) holds principals, tokens,
uploaded-file records and the ``jobs`` table, which is the single source of truth for every
video (see DESIGN.md, "Jobs, queue and scale"). Files (uploads, videos, previews) live under
one artifact root, shared through an S3-compatible bucket when several machines serve, and
:mod:`openreel.storage.artifacts` is the only code that turns ids into paths and object keys,
so no path or key ever comes from user input.

Modules: ``db`` (engine, schema, migrations), ``jobs``, ``principals``, ``files``,
``artifacts``, ``objects`` (the bucket) and ``lock`` (one server per data folder). This package imports nothing at
import time so that, for example, the artifact store can be used without loading SQLAlchemy.
"""
