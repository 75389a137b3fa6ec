"""JobWatch: a change committed from any thread wakes the streams that follow the job."""

from __future__ import annotations

import asyncio
import threading
import time

from openreel.services.watch import JobWatch


def test_watch_wakes_a_waiter_from_another_thread_at_once() -> None:
    watch = JobWatch()

    async def follow() -> tuple[bool, float]:
        with watch.subscribe("video_a") as changes:
            threading.Timer(0.05, watch.notify, args=("video_a",)).start()
            started = time.monotonic()
            woke = await changes.wait(timeout=10)
            return woke, time.monotonic() - started

    woke, waited = asyncio.run(follow())
    assert woke
    assert waited < 2  # far below the timeout: the notification, not the timer, woke it


def test_watch_times_out_without_a_change_and_ignores_other_jobs() -> None:
    watch = JobWatch()

    async def follow() -> bool:
        with watch.subscribe("video_a") as changes:
            watch.notify("video_b")
            return await changes.wait(timeout=0.05)

    assert asyncio.run(follow()) is False


def test_watch_keeps_a_change_made_between_two_waits() -> None:
    watch = JobWatch()

    async def follow() -> list[bool]:
        with watch.subscribe("video_a") as changes:
            watch.notify("video_a")  # lands while the stream is busy reading, not waiting
            first = await changes.wait(timeout=0.05)
            second = await changes.wait(timeout=0.05)  # consumed: nothing new since
            return [first, second]

    assert asyncio.run(follow()) == [True, False]


def test_watch_forgets_subscriptions_when_the_stream_ends() -> None:
    watch = JobWatch()

    async def follow() -> int:
        with watch.subscribe("video_a"), watch.subscribe("video_a"):
            assert watch.following("video_a") == 2
        return watch.following("video_a")

    assert asyncio.run(follow()) == 0
    watch.notify("video_a")  # nobody follows: a no-op, not an error


def test_watch_notify_after_the_loop_closed_is_harmless() -> None:
    watch = JobWatch()
    held = []

    async def follow() -> None:
        subscription = watch.subscribe("video_a")
        held.append(subscription)
        subscription.__enter__()

    asyncio.run(follow())
    watch.notify("video_a")  # the subscriber's loop is closed; nothing raises
    assert watch.following("video_a") == 1
