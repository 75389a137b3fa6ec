"""AuditTallies: the transparency report's counts, from audit rows written by the real stores.

Runs on SQLite and on PostgreSQL: ``detail`` is read with each database's own JSON functions,
so both must agree on every figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openreel.domain import Job, JobError, Principal, Role, VideoRequest
from openreel.errors import GenerationPausedError, ModerationBlockedError, RateLimitError
from openreel.storage.artists import ArtistStore
from openreel.storage.audit import AuditEntry, AuditStore
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.pauses import PauseStore
from openreel.storage.tallies import AuditTallies, MadeCount, PublicPause, Tally
from openreel.trust.admission import Admission

from .conftest import FakeClock

START = 1_000_000.0
ALICE = Principal(id="usr_alice", name="alice", role=Role.USER)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql":
        database = Database(request.getfixturevalue("postgres").database())
    else:
        database = Database.for_data_dir(tmp_path / "data")
    database.migrate()
    yield database
    database.dispose()


class History:
    """Writes audit rows through the stores that write them in production."""

    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.clock = clock
        self.audit = AuditStore(db, clock)
        self.jobs = JobStore(db, clock, audit=self.audit)
        self.pauses = PauseStore(db, clock, audit=self.audit)
        self.artists = ArtistStore(db, str.casefold, clock, audit=self.audit)
        self.admission = Admission(audit=self.audit)

    def job(self, model: str, backend: str | None, seconds: float) -> Job:
        request = VideoRequest(prompt="a secret prompt", seed=1, model=model, seconds=seconds)
        job = Job(id=Job.new_id(), owner_id=ALICE.id, request=request)
        return self.jobs.create(job, backend=backend)

    def made(self, model: str, backend: str | None, seconds: float) -> None:
        job = self.job(model, backend, seconds)
        assert self.jobs.claim("w", lease_seconds=30, job_id=job.id) is not None
        self.jobs.complete(
            job.id,
            "w",
            artifacts={},
            interpretation={},
            total_seconds=seconds,
            expires_at=None,
        )

    def refused(self, exc: Exception) -> None:
        request = VideoRequest(prompt="a refused prompt", seed=1, model="openreel-sketch")
        self.admission.refused(exc, ALICE, request, "tok_1")  # type: ignore[arg-type]


def _moderated(category: str, check: str) -> ModerationBlockedError:
    return ModerationBlockedError("refused", category=category, check=check)


def test_tallies_count_every_figure_from_the_real_rows(any_db: Database, clock: FakeClock) -> None:
    clock.now = START
    history = History(any_db, clock)
    for _ in range(3):
        history.made("openreel-sketch", "sketch", 2.0)
    history.made("fal/ltx-video", "fal", 5.0)
    history.made("old-model", None, 1.5)  # admitted before backends were recorded
    failed = history.job("openreel-sketch", "sketch", 1.0)
    assert history.jobs.claim("w", lease_seconds=30, job_id=failed.id) is not None
    history.jobs.fail(failed.id, "w", JobError(code="backend_error", message="boom"))
    cancelled = history.job("openreel-sketch", "sketch", 1.0)
    history.jobs.request_cancel(cancelled.id)
    for _ in range(2):
        history.refused(_moderated("sexual", "rules"))
    history.refused(_moderated("public_figure", "public_figures"))
    history.refused(GenerationPausedError("paused"))
    history.refused(RateLimitError("over quota", retry_after=60))
    history.audit.record(
        AuditEntry(
            "token.revoked", target_id="tok_1", detail={"reason": "suspended automatically: x"}
        )
    )
    history.audit.record(
        AuditEntry("token.revoked", target_id="tok_2", detail={"reason": "rotated to tok_3"})
    )
    history.audit.record(AuditEntry("token.revoked", actor_id="usr_root", target_id="tok_4"))
    history.pauses.pause("all", "", "maintenance until noon")
    history.pauses.pause("model", "fal/ltx-video", "provider outage")
    history.pauses.pause("principal", "usr_alice", "looking into a complaint")
    history.pauses.pause("token", "tok_9", "leaked")
    history.audit.record(AuditEntry("provenance.lookup", outcome="made_here"))
    history.audit.record(AuditEntry("provenance.lookup", outcome="not_found"))
    history.audit.record(AuditEntry("provenance.verify", outcome="trusted"))

    tallies = AuditTallies(any_db).tally(START, START + 1)

    assert tallies.videos == {
        "admitted": 7,
        "completed": 5,
        "failed": 1,
        "cancelled": 1,
        "refused": 5,
    }
    assert tallies.made == [
        MadeCount("openreel-sketch", "sketch", 3, 6.0),
        MadeCount("fal/ltx-video", "fal", 1, 5.0),
        MadeCount("old-model", None, 1, 1.5),
    ]
    assert tallies.refusals_by_reason == [
        Tally("moderation_blocked", 3),
        Tally("generation_paused", 1),
        Tally("rate_limit_exceeded", 1),
    ]
    assert tallies.refusals_by_category == [Tally("sexual", 2), Tally("public_figure", 1)]
    assert tallies.refusals_by_check == [Tally("rules", 2), Tally("public_figures", 1)]
    assert tallies.revoked == {"automatic": 1, "by_hand": 1, "rotated": 1}
    assert tallies.pauses == [
        PublicPause(START, "model", "fal/ltx-video", "provider outage"),
        PublicPause(START, "all", None, "maintenance until noon"),
    ]
    assert tallies.private_pauses == 2
    assert tallies.lookups == [
        Tally("lookup:made_here", 1),
        Tally("lookup:not_found", 1),
        Tally("verify:trusted", 1),
    ]


def test_tallies_count_only_the_period(any_db: Database, clock: FakeClock) -> None:
    history = History(any_db, clock)
    clock.now = START - 10  # before the period
    history.made("openreel-sketch", "sketch", 2.0)
    history.refused(_moderated("hate", "rules"))
    clock.now = START  # inside, at its first instant
    history.made("openreel-sketch", "sketch", 3.0)
    history.refused(_moderated("sexual", "rules"))
    clock.now = START + 100  # at the end: excluded
    history.made("openreel-sketch", "sketch", 4.0)
    history.pauses.pause("all", "", "late")

    tallies = AuditTallies(any_db).tally(START, START + 100)

    assert tallies.videos["completed"] == 1
    assert tallies.made == [MadeCount("openreel-sketch", "sketch", 1, 3.0)]
    assert tallies.refusals_by_category == [Tally("sexual", 1)]
    assert tallies.pauses == []


def test_a_video_admitted_before_the_period_counts_where_it_completed(
    any_db: Database, clock: FakeClock
) -> None:
    history = History(any_db, clock)
    clock.now = START - 5
    job = history.job("openreel-sketch", "sketch", 2.0)
    assert history.jobs.claim("w", lease_seconds=30, job_id=job.id) is not None
    clock.now = START + 1
    history.jobs.complete(
        job.id, "w", artifacts={}, interpretation={}, total_seconds=2.0, expires_at=None
    )
    tallies = AuditTallies(any_db).tally(START, START + 10)
    assert tallies.videos["admitted"] == 0
    assert tallies.made == [MadeCount("openreel-sketch", "sketch", 1, 2.0)]


def test_empty_log_gives_zeros(any_db: Database) -> None:
    tallies = AuditTallies(any_db).tally(0, 1)
    assert set(tallies.videos.values()) == {0}
    assert tallies.made == []
    assert tallies.revoked == {"automatic": 0, "by_hand": 0, "rotated": 0}
    assert tallies.private_pauses == 0


def test_an_empty_period_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="until"):
        AuditTallies(db).tally(10, 10)


def test_artists_in_force_counts_active_refusals_only(db: Database, clock: FakeClock) -> None:
    artists = ArtistStore(db, str.casefold, clock)
    artists.add("Ada Painter")
    artists.add("Bo Sculptor")
    artists.add("Cy Allows", allow_style=True)
    artists.add("Di Pending", status="pending")
    assert artists.count_in_force() == 2
