"""A manual clock for queue tests, used both as a store's wall clock and a monotonic one."""

from __future__ import annotations


class Clock:
    """Time that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now
