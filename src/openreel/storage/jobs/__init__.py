"""The ``jobs`` table: every video's record, and the claim/lease protocol workers follow.

A job moves queued -> in_progress -> completed | failed. Workers never hold a job without a
lease: :meth:`JobStore.claim` hands out the oldest claimable job together with a lease that
expires ``lease_seconds`` later, :meth:`JobStore.heartbeat` renews it, and a job whose lease
ran out (its worker died) is claimable again. Every state change is one conditional UPDATE, so
two workers, two processes or a worker and a cancelling user can never both win.

The reference image of a request is not stored in the row: the caller saves it through the
artifact store and passes its relative path (``input_reference_path``); jobs read back carry
``request.input_reference = None`` and :meth:`JobStore.get_input_reference` says where the
image is.
"""

from __future__ import annotations

from openreel.storage.jobs.lease import Beat, LeaseState
from openreel.storage.jobs.lifecycle import CANCELLED_BEFORE_START
from openreel.storage.jobs.queries import InputReference, JobPage
from openreel.storage.jobs.recovery import CANCELLED_WHILE_ABANDONED
from openreel.storage.jobs.store import JobStore

__all__ = [
    "CANCELLED_BEFORE_START",
    "CANCELLED_WHILE_ABANDONED",
    "Beat",
    "InputReference",
    "JobPage",
    "JobStore",
    "LeaseState",
]
