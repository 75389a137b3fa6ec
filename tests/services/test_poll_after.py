"""openai-poll-after-ms: the pace a polling client is asked to keep."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openreel.domain import Job, JobStatus, VideoRequest
from openreel.services.pace import (
    POLL_AFTER_SHORTEST_MS,
    SHARE_OF_WHAT_IS_LEFT,
    PaceBook,
    poll_after_ms,
)

NOW = 1_000_000.0


def _job(status: JobStatus, progress: int = 0, started: float | None = None) -> Job:
    job = Job(id=Job.new_id(), owner_id="usr_a", request=VideoRequest(prompt="a boat", seed=1))
    return replace(job, status=status, progress=progress, started_at=started)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        # Queued: the operator's setting (the wait for a worker is not known).
        (_job(JobStatus.QUEUED), 1000),
        # Running with nothing to go on: as long again as it has run (5 s), capped.
        (_job(JobStatus.IN_PROGRESS, 0, NOW - 5), 1000),
        (_job(JobStatus.IN_PROGRESS, 0, NOW - 0.6), 210),
        # Half done in 0.4 s: 0.4 s left, asked again in about a third of that.
        (_job(JobStatus.IN_PROGRESS, 50, NOW - 0.4), 140),
        # A quarter done in 0.3 s: its pace says 0.9 s left, the prior 0.3 s; trusted half
        # and half -> 0.6 s -> 210 ms.
        (_job(JobStatus.IN_PROGRESS, 25, NOW - 0.3), 210),
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
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=0.5) == 140
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=0.05) == 100
    assert poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=60) == 1000
    # Progress, once there, wins over the estimate; a queued job waits for a worker first.
    halfway = _job(JobStatus.IN_PROGRESS, 50, NOW - 0.4)
    assert poll_after_ms(halfway, NOW, longest_ms=1000, expected_seconds=60) == 140
    queued = _job(JobStatus.QUEUED)
    assert poll_after_ms(queued, NOW, longest_ms=1000, expected_seconds=0.5) == 1000


def test_a_first_frame_is_never_stretched_into_a_long_wait() -> None:
    """The issue's case: the first frame shows 1 % after 35 ms of start-up; stretched, that
    said 3.5 s were left and the hint went to its maximum for a video 0.2 s long."""
    book = PaceBook()
    request = VideoRequest(prompt="a boat", seed=1, seconds=2, width=640, height=360, fps=24)
    for _ in range(3):
        book.record(request, 0.2)
    first_frame = _job(JobStatus.IN_PROGRESS, 1, NOW - 0.035)
    hint = poll_after_ms(first_frame, NOW, longest_ms=1000, expected_seconds=book.expected(request))
    assert hint < 1000
    assert hint == POLL_AFTER_SHORTEST_MS  # 0.165 s left: asked back as soon as allowed
    # With no render to learn from, the prior is the job's own 35 ms: still the shortest.
    assert poll_after_ms(first_frame, NOW, longest_ms=1000) == POLL_AFTER_SHORTEST_MS


def test_progress_is_trusted_as_it_grows() -> None:
    # 10 % in 1 s says 9 s left; such renders took 2 s lately (1 s left). Trusted a fifth:
    # 0.2 * 9 + 0.8 * 1 = 2.6 s -> 0.91 s.
    early = _job(JobStatus.IN_PROGRESS, 10, NOW - 1)
    assert poll_after_ms(early, NOW, longest_ms=5000, expected_seconds=2) == 910
    # From half way on, the job's own pace alone: 60 % in 3 s -> 2 s left -> 0.7 s.
    late = _job(JobStatus.IN_PROGRESS, 60, NOW - 3)
    assert poll_after_ms(late, NOW, longest_ms=5000, expected_seconds=2) == 700
    assert poll_after_ms(late, NOW, longest_ms=5000, expected_seconds=60) == 700


def test_a_client_keeping_the_first_pace_asks_again_just_after_the_probable_end() -> None:
    """The SDK keeps its first poll's hint: its third poll after that one lands 5 % past
    the time the video probably had left, not on it."""
    started = _job(JobStatus.IN_PROGRESS, 0, NOW - 0.02)
    hint = poll_after_ms(started, NOW, longest_ms=1000, expected_seconds=0.52)  # 0.5 s left
    assert 3 * hint == pytest.approx(1.05 * 500, abs=1)


def test_the_hint_is_never_longer_than_either_guess_of_what_is_left() -> None:
    for progress in range(0, 101, 3):
        for elapsed in (0.01, 0.1, 0.5, 2.0, 30.0):
            for expected in (None, 0.05, 0.3, 5.0):
                job = _job(JobStatus.IN_PROGRESS, progress, NOW - elapsed)
                hint = poll_after_ms(job, NOW, longest_ms=60_000, expected_seconds=expected)
                prior = elapsed if expected is None else max(0.0, expected - elapsed)
                stretched = elapsed * (100 - progress) / progress if progress > 1 else prior
                most = 1000 * max(prior, stretched) * SHARE_OF_WHAT_IS_LEFT + 1
                assert hint <= max(POLL_AFTER_SHORTEST_MS, most)


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
