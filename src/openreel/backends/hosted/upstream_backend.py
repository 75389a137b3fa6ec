"""One upstream of a fleet as a backend: the hosted loop (backends/hosted/base.py) with the
upstream's reachability, job slots and dialect's gaps; the wire is backends/hosted/upstream.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from openreel.backends.base import (
    CancelCheck,
    ProgressCallback,
    never_cancelled,
    no_progress,
)
from openreel.backends.hosted.base import HostedBackend, HostedModel
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.hosted.upstream_health import UpstreamHealth
from openreel.backends.hosted.upstream_jobs import JobSlots
from openreel.domain import VideoRequest
from openreel.errors import BackendUnavailableError

__all__ = ["UpstreamBackend"]


class UpstreamBackend(HostedBackend):
    """A HostedBackend for one upstream of a fleet: it refuses new videos with 503
    ``provider_unavailable`` while the upstream is unreachable, keeps to its job slots, and
    writes its dialect's gaps (estimated progress, no cancel) into each job's plan.

    Args:
        name: The upstream's name.
        client: Its client.
        models: Models served.
        slots: Its job slots; None for no limit.
        health: Its reachability; None to assume it is there.
        **backend_kwargs: The other arguments of :class:`HostedBackend`.
    """

    def __init__(
        self,
        name: str,
        client: UpstreamClient,
        models: tuple[HostedModel, ...],
        *,
        slots: JobSlots | None = None,
        health: UpstreamHealth | None = None,
        **backend_kwargs: Any,
    ) -> None:
        super().__init__(name, client, models, **backend_kwargs)
        self._upstream = client
        self._job_slots = slots
        self._health = health

    def check(self, request: VideoRequest) -> None:
        """As HostedBackend's, after making sure the upstream is reachable.

        Raises:
            BackendUnavailableError: ``provider_unavailable`` while it is not (the reason
                is for admins: the log and the admin view).
        """
        if self._health is not None and self._health.known() is not None:
            raise BackendUnavailableError(
                f"provider {self.name} is unavailable just now; try again later or another model",
                code="provider_unavailable",
            )
        super().check(request)

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """HostedBackend's, plus the dialect's gaps (see dialects.Dialect.plan_notes)."""
        return {**super().describe(request), **self._upstream.dialect.plan_notes()}

    @contextlib.contextmanager
    def fetched(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Iterator[Path]:
        """HostedBackend's, once a job slot is free (see :class:`JobSlots`); the slot is held
        until the lent file is given back (``generate`` and a relay both come through here).
        The first one may come before the background probe has said what the upstream is:
        it asks first (see :meth:`UpstreamClient.identify`)."""
        self._upstream.identify()
        slots = self._job_slots
        if slots is None:
            with super().fetched(request, progress, cancelled) as path:
                yield path
            return
        total = request.frame_count
        slots.take(cancelled, lambda: progress(0, total), self._policy.cancel_check_s)
        try:
            with super().fetched(request, progress, cancelled) as path:
                yield path
        finally:
            slots.give_back()
