"""Storage: the durable state of OpenReel, behind small typed stores.

The database (SQLite in WAL mode on one machine, PostgreSQL when several share it) holds
principals, tokens, uploads, quotas, the audit log and the ``jobs`` table, which is the
single source of truth for every video (docs/architecture.md, "The lease protocol"). Files
(uploads, videos, previews) live under one artifact root, shared through an S3-compatible
bucket when several machines serve, and :mod:`openreel.storage.artifacts` is the only code
that turns ids into paths and object keys, so no path or key ever comes from user input.

This package imports nothing at import time so that, for example, the artifact store can be
used without loading SQLAlchemy.
"""
