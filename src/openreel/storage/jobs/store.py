"""The job store callers use: one object with every operation on the ``jobs`` table.

Callers (the API, the queues, the trust layer) want one store per database, while a reader
wants each concern on its own page; :class:`JobStore` is simply the sum of the parts.
"""

from __future__ import annotations

from openreel.storage.jobs.lease import JobLease
from openreel.storage.jobs.lifecycle import JobLifecycle
from openreel.storage.jobs.queries import JobQueries
from openreel.storage.jobs.recovery import JobRecovery


class JobStore(JobLease, JobLifecycle, JobRecovery, JobQueries):
    """Reads and changes job rows.

    Each concern lives in its own module: :mod:`.lease` (claim, take, heartbeat),
    :mod:`.lifecycle` (create and end states), :mod:`.recovery` (jobs whose worker is gone)
    and :mod:`.queries` (reads and listings). Statements on hot paths are built once per
    store, on first use.

    Args:
        db: The database (migrated).
        clock: Source of unix-seconds timestamps; tests pass a frozen one.
        on_change: Called with a job's id after each committed change to it (live progress).
        audit: Where admissions and end states are logged, in the changing transaction.
        prompts: What is kept of a prompt once its job ends: ``full``, ``hashed`` or
            ``dropped``.
    """
