"""openai-poll-after-ms: the pace a polling client is asked to keep."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openreel.domain import Job, JobStatus, VideoRequest
from openreel.services.pace import POLL_AFTER_SHORTEST_MS, PaceBook, poll_after_ms

NOW = 1_000_000.0


def _job(status: JobStatus, progress: int = 0, started: float | None = None) -> Job:
    job = Job(id=Job.new_id(), owner_id="usr_a", request=VideoRequest(prompt="a boat", seed=1))
    return replace(job, status=status, progress=progress, started_at=started)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        # Nothing known yet: the operator's setting.
        (_job(JobStatus.QUEUED), 1000),
        (_job(JobStatus.IN_PROGRESS, 0, NOW - 5), 1000),
        # Half done in 0.4 s: 0.4 s left, asked again in half of that.
        (_job(JobStatus.IN_PROGRESS, 50, NOW - 0.4), 200),
        # A quarter done in 0.3 s: 0.9 s left -> 450 ms.
        (_job(JobStatus.IN_PROGRESS, 25, NOW - 0.3), 450),
        # Long jobs are asked at the setting's pace, nearly finished ones no faster than 10/s.
        (_job(JobStatus.IN_PROGRESS, 10, NOW - 10), 1000),
        (_job(JobStatus.IN_PROGRESS, 99, NOW - 0.1), POLL_AFTER_SHORTEST_MS),
        (_job(JobStatus.IN_PROGRESS, 100, NOW - 0.1), POLL_AFTER_SHORTEST_MS),
        # A clock that moved backwards never gives a negative wait.
        (_job(JobStatus.IN_PROGRESS, 50, NOW + 3), POLL_AFTER_SHORTEST_MS),
    ],
)
def test_poll_after_follows_the_jobs_pace(job: Job, expected: int) -> None:
    assert poll_after_ms(job, NOW, longest_ms=1000) == expected


def test_poll_after_never_goes_past_the_setting_nor_below_the_floor() -> None:
    slow = _job(JobStatus.IN_PROGRESS, 1, NOW - 60)
    assert poll_after_ms(slow, NOW, longest_ms=5000) == 5000
    assert poll_after_ms(slow, NOW, longest_ms=10) == POLL_AFTER_SHORTEST_MS
    assert poll_after_ms(_job(JobStatus.QUEUED), NOW, longest_ms=2500) == 2500


def test_without_progress_the_hint_comes_from_how_long_such_renders_took() -> None:
    started = _job(JobStatus.IN_PROGRESS, 0, NOW - 0.1)
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=0.5) == 200
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=0.05) == 100
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=60) == 1000
    # Progress, once there, wins over the estimate; a queued job waits for a worker first.
    halfway = _job(JobStatus.IN_PROGRESS, 50, NOW - 0.4)
    assert poll_after_ms(halfway, NOW, longest_ms=1000, expected_seconds=60) == 200
    queued = _job(JobStatus.QUEUED)
    assert poll_after_ms(queued, NOW, longest_ms=1000, expected_seconds=0.5) == 1000


def test_pace_book_learns_each_models_seconds_per_megapixel_frame() -> None:
    book = PaceBook()
    small = VideoRequest(prompt="a boat", seed=1, seconds=1, width=640, height=360, fps=24)
    assert book.expected(small) is None
    book.record(small, 1.0)  # a cold first render
    assert book.expected(small) == pytest.approx(1.0)
    book.record(small, 0.2)
    book.record(small, 0.2)
    assert book.expected(small) == pytest.approx(0.2)  # the median: the cold one stops counting
    # Four times the pixels and twice the frames: eight times the work.
    big = replace(small, width=1280, height=720, seconds=2)
    assert book.expected(big) == pytest.approx(1.6)
    for _ in range(PaceBook.KEPT):
        book.record(small, 0.4)  # only the last few count
    assert book.expected(small) == pytest.approx(0.4)
    assert book.expected(replace(small, model="openreel-other")) is None
    book.record(small, 0)  # nonsense is ignored
    assert book.expected(small) == pytest.approx(0.4)
