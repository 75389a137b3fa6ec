"""Reading jobs without changing them: one job, its reference image, listings and counts.

These are the API's reads (status polls, ``GET /v1/videos``, quota checks); none of them
takes the write lock, and the busiest one, a poll's :meth:`JobQueries.get`, runs a statement
built once per store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import sqlalchemy as sa

from openreel.domain import Job
from openreel.errors import InvalidRequestError
from openreel.storage import usage as ledger
from openreel.storage.db import JOBS
from openreel.storage.jobs.records import QUEUED, RUNNING, not_found, to_job
from openreel.storage.jobs.table import JobTable
from openreel.storage.usage import Quota, UsageReport


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of a job listing.

    Attributes:
        items: The jobs, in the order asked for.
        has_more: Whether more jobs follow the last one (pass its id as ``after``).
    """

    items: list[Job]
    has_more: bool

    @property
    def first_id(self) -> str | None:
        """Id of the first item (OpenAI list field ``first_id``)."""
        return self.items[0].id if self.items else None

    @property
    def last_id(self) -> str | None:
        """Id of the last item, the cursor for the next page (``last_id``)."""
        return self.items[-1].id if self.items else None


@dataclass(frozen=True, slots=True)
class InputReference:
    """Where a job's reference image lies and what it is.

    Attributes:
        path: Path relative to the artifact store (resolve it with ``ArtifactStore.resolve``).
        media_type: Its MIME type.
        width: Width in pixels.
        height: Height in pixels.
    """

    path: str
    media_type: str
    width: int
    height: int


class JobQueries(JobTable):
    """Reads of job rows (see the module docstring)."""

    @cached_property
    def _by_id_statement(self) -> sa.Select[Any]:
        """:meth:`get`'s SELECT, built once per store: a status poll runs it on every
        request, and building it costs about as much as running it (``benchmarks/api.py``)."""
        return sa.select(JOBS).where(JOBS.c.id == sa.bindparam("job_id"))

    def get(self, job_id: str) -> Job:
        """The job with this id.

        Raises:
            NotFoundError: No such job.
        """
        with self._db.query() as conn:
            row = conn.execute(self._by_id_statement, {"job_id": job_id}).first()
        if row is None:
            raise not_found(job_id)
        return to_job(row._mapping)

    def get_input_reference_path(self, job_id: str) -> str | None:
        """Relative path of the job's reference image, or None when it has none.

        Raises:
            NotFoundError: No such job.
        """
        reference = self.get_input_reference(job_id)
        return None if reference is None else reference.path

    def get_input_reference(self, job_id: str) -> InputReference | None:
        """The job's reference image (path, type, size), or None when it has none.

        Raises:
            NotFoundError: No such job.
        """
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(JOBS.c.input_reference_path, JOBS.c.request).where(JOBS.c.id == job_id)
            ).first()
        if row is None:
            raise not_found(job_id)
        path = row._mapping["input_reference_path"]
        if path is None:
            return None
        summary = json.loads(row._mapping["request"]).get("input_reference") or {}
        return InputReference(
            path=str(path),
            media_type=str(summary.get("media_type", "application/octet-stream")),
            width=int(summary.get("width", 0)),
            height=int(summary.get("height", 0)),
        )

    def count_active(self, owner_id: str) -> int:
        """How many of an owner's jobs are queued or in progress (for concurrency limits)."""
        with self._db.read() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(JOBS)
                .where(JOBS.c.owner_id == owner_id, JOBS.c.status.in_((QUEUED, RUNNING)))
            ).scalar_one()
        return int(count)

    def usage(self, owner_id: str, quota: Quota) -> UsageReport:
        """Where ``owner_id`` stands against ``quota`` (reserved and committed seconds)."""
        with self._db.read() as conn:
            return ledger.report(conn, owner_id, self._clock(), quota)

    # -- listing (last: its name shadows the builtin ``list`` inside the class body) -------------

    def list(
        self,
        owner_id: str | None,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Literal["asc", "desc"] = "desc",
    ) -> JobPage:
        """One page of jobs, newest first by default (OpenAI ``GET /v1/videos``).

        Jobs are ordered by ``created_at`` and then by insertion order, a total order, so
        pages never skip or repeat a job even when many share a timestamp.

        Args:
            owner_id: Only this principal's jobs; None lists every owner's (admins).
            after: Id of a job in this listing (the previous page's ``last_id``): the page
                starts strictly after it in ``order``.
            limit: Largest number of items (at least 1).
            order: ``desc`` (newest first) or ``asc``.

        Raises:
            InvalidRequestError: ``after`` is not a job in this listing (unknown, or another
                owner's: the two look the same so ids do not leak), ``limit`` is below 1 or
                ``order`` is neither ``asc`` nor ``desc``.
        """
        if order not in ("asc", "desc"):
            raise InvalidRequestError.for_value("order", order, "must be 'asc' or 'desc'")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequestError.for_value("limit", limit, "must be a whole number >= 1")
        query = sa.select(JOBS)
        if owner_id is not None:
            query = query.where(JOBS.c.owner_id == owner_id)
        with self._db.read() as conn:
            if after is not None:
                cursor_query = sa.select(JOBS.c.created_at, JOBS.c.seq).where(JOBS.c.id == after)
                if owner_id is not None:
                    cursor_query = cursor_query.where(JOBS.c.owner_id == owner_id)
                cursor = conn.execute(cursor_query).first()
                if cursor is None:
                    raise InvalidRequestError(
                        f"after must be the id of a video in this list; got {after!r}",
                        param="after",
                    )
                created, seq = cursor._mapping["created_at"], cursor._mapping["seq"]
                if order == "asc":
                    query = query.where(
                        sa.or_(
                            JOBS.c.created_at > created,
                            sa.and_(JOBS.c.created_at == created, JOBS.c.seq > seq),
                        )
                    )
                else:
                    query = query.where(
                        sa.or_(
                            JOBS.c.created_at < created,
                            sa.and_(JOBS.c.created_at == created, JOBS.c.seq < seq),
                        )
                    )
            if order == "asc":
                query = query.order_by(JOBS.c.created_at.asc(), JOBS.c.seq.asc())
            else:
                query = query.order_by(JOBS.c.created_at.desc(), JOBS.c.seq.desc())
            rows = conn.execute(query.limit(limit + 1)).all()
        items = [to_job(row._mapping) for row in rows[:limit]]
        return JobPage(items=items, has_more=len(rows) > limit)
