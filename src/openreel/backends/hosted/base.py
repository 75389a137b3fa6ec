"""The loop every hosted provider shares: submit, poll, download, decode to our frames.

A provider module only knows its wire format (a :class:`ProviderClient`): how to submit a
request, read a job's state, fetch the result and cancel. :class:`HostedBackend` does the
rest the same way for all of them, so every provider gets the same behaviour:

- polling at the provider's recommended interval, backing off on 429 and honouring
  ``Retry-After``, asking ``cancelled()`` at least twice a second while it waits (and calling
  the provider's cancel when it turns True);
- progress that never goes backwards: the provider's percentage, if it gives one, fills the
  first 90% of our frame count; decoding fills the rest;
- a bounded number of retries for transient failures (timeouts, 5xx, malformed JSON) with
  exponential backoff, and an overall deadline;
- the result downloaded at once (provider URLs expire) to a private temporary file, then
  decoded and fitted to the request: scaled to its size and resampled to its frame rate and
  length, so the label, signing and content registry downstream treat it like any video.

Errors a person can act on keep their meaning: a provider's refusal is ``moderation_blocked``
with the provider's reason; bad credentials are a configuration problem logged for admins
while users see "provider unavailable".
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol, Self

from openreel.backends.base import (
    BackendCapabilities,
    CancelCheck,
    Clip,
    Frame,
    ProgressCallback,
    check_against_capabilities,
    never_cancelled,
    no_progress,
)
from openreel.backends.hosted.downloaded import fitted_frames, provider_sound
from openreel.domain import VideoRequest, parse_size
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    InvalidRequestError,
    ModelNotFoundError,
    ModerationBlockedError,
)
from openreel.media.preview_check import previews_beside

__all__ = [
    "HostedBackend",
    "PollPolicy",
    "ProviderAuthError",
    "ProviderClient",
    "ProviderRefusedError",
    "RemoteJob",
    "TransientProviderError",
]

log = logging.getLogger(__name__)

_FITTABLE = frozenset({"seconds", "size", "fps"})
"""Parameters ``fit="nearest"`` may change on the way to the provider."""

RemoteState = Literal["queued", "running", "succeeded", "failed", "refused", "cancelled"]


@dataclass(frozen=True, slots=True)
class RemoteJob:
    """A provider job's state as one poll saw it.

    Attributes:
        state: Where it stands, mapped to our vocabulary by the provider module.
        progress: The provider's percentage 0-100, or None when it reports none.
        message: The provider's reason for ``failed`` or ``refused``.
        poll_after_s: How long the provider asks us to wait before the next poll, if it says.
    """

    state: RemoteState
    progress: float | None = None
    message: str | None = None
    poll_after_s: float | None = None


class TransientProviderError(Exception):
    """A failure worth retrying: timeout, 5xx, 429, malformed reply, connection reset.

    Attributes:
        retry_after_s: The provider's ``Retry-After``, when it sent one.
        ambiguous: The request may have reached the provider and been acted on (the answer
            timed out or the connection broke after sending). Reads are retried anyway; a
            request that starts a job is not, since the provider may already be making (and
            billing) the first one.
    """

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.ambiguous = ambiguous


class ProviderAuthError(Exception):
    """The provider rejected our credentials (401/403): an operator problem, not a user's."""


class ProviderRefusedError(Exception):
    """The provider refused the request on content grounds; the message is its reason."""


class ProviderClient(Protocol):
    """One provider's wire format."""

    @property
    def provider(self) -> str:
        """Short name (``upstream``, ``fal``, ``runway``...), used in logs and errors."""
        ...

    def submit(self, model: str, request: VideoRequest) -> str:
        """Starts a job for ``model`` (the provider's own id); returns the provider's job id."""
        ...

    def status(self, job_id: str) -> RemoteJob:
        """Reads the job's state once."""
        ...

    def download(self, job_id: str, target: Path) -> None:
        """Writes the finished video to ``target``."""
        ...

    def cancel(self, job_id: str) -> None:
        """Asks the provider to stop the job (best effort)."""
        ...


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How patiently a hosted job is followed.

    Attributes:
        interval_s: Pause between polls when the provider suggests none.
        max_interval_s: Longest pause after backing off.
        retries: Transient failures in a row tolerated before the job fails.
        deadline_s: Longest a job may take from submit to downloaded.
        cancel_check_s: How often ``cancelled()`` is asked while waiting.
    """

    interval_s: float = 2.0
    max_interval_s: float = 30.0
    retries: int = 5
    deadline_s: float = 1800.0
    cancel_check_s: float = 1.0


@dataclass(frozen=True, slots=True)
class HostedModel:
    """One model a provider serves through us.

    Attributes:
        id: Our model id (what clients send).
        remote: The provider's model id.
        capabilities: Its real limits, checked at admission.
    """

    id: str
    remote: str
    capabilities: BackendCapabilities


class HostedBackend:
    """A VideoBackend for a hosted provider (see the module docstring).

    Args:
        name: Backend name (the provider's).
        client: The provider's wire format.
        models: Models served, with their limits.
        policy: Polling, retries and deadline.
        sleep: Waits (tests pass a fake that advances a fake clock).
        clock: Monotonic seconds.
        fit: ``reject`` refuses requests outside a model's limits, naming the parameter;
            ``nearest`` asks the provider for the nearest request it makes and fits the
            result back (see :meth:`sent`).
        render_slots: Shared by every hosted backend of a server: how many downloaded
            results may be decoded, labelled and encoded at once. Hundreds of jobs wait
            cheaply, but when a burst of them finishes together, each rendering in its own
            thread would take gigabytes and starve the local renders; the rest wait their
            turn (still cancellable).
    """

    digital_source_type = "trainedAlgorithmicMedia"

    def __init__(
        self,
        name: str,
        client: ProviderClient,
        models: tuple[HostedModel, ...],
        *,
        policy: PollPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        fit: Literal["reject", "nearest"] = "reject",
        render_slots: threading.Semaphore | None = None,
    ) -> None:
        self._fit = fit
        self._slots = render_slots
        self._name = name
        self._client = client
        self._models = {m.id: m for m in models}
        self._policy = policy or PollPolicy()
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def for_provider(
        cls,
        client: ProviderClient,
        models: tuple[HostedModel, ...],
        *,
        interval_s: float,
        **backend_kwargs: Any,
    ) -> Self:
        """The backend named after ``client``'s provider, serving ``models``.

        Args:
            client: The provider's wire format.
            models: Models served, with their limits.
            interval_s: Pause between polls when ``backend_kwargs`` carry no ``policy``.
            **backend_kwargs: The other arguments of :class:`HostedBackend` (``policy``,
                ``sleep``, ``clock``, ``fit``, ``render_slots``).
        """
        backend_kwargs.setdefault("policy", PollPolicy(interval_s=interval_s))
        return cls(client.provider, client, models, **backend_kwargs)

    def close(self) -> None:
        """Closes the provider client's connections, when it has any to close."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    @property
    def name(self) -> str:
        """The provider's name."""
        return self._name

    @property
    def models(self) -> tuple[str, ...]:
        """Our ids of the models served."""
        return tuple(self._models)

    @property
    def signers(self) -> tuple[bytes, ...]:
        """Certificates (PEM) the operator pinned for this provider: a video signed under one
        of them is passed on by its signature (``services.relay.vouched``); none by default."""
        return tuple(getattr(self._client, "signers", ()))

    def capabilities(self, model: str) -> BackendCapabilities:
        """The model's real limits."""
        return self._model(model).capabilities

    def check(self, request: VideoRequest) -> None:
        """Admits the request as asked, or, when the operator allows fitting, a nearest one.

        Raises:
            InvalidRequestError: Naming the parameter the model cannot make (or come near).
        """
        self.sent(request)

    def check_exact(self, request: VideoRequest) -> None:
        """Checks the request, exactly as asked, against the model's limits; providers with
        rules of their own (allowed lengths, size by length) add them here.

        Raises:
            InvalidRequestError: Naming the first parameter outside the limits.
        """
        check_against_capabilities(request, self.capabilities(request.model))

    def sent(self, request: VideoRequest) -> VideoRequest:
        """What the provider is asked for: ``request`` itself when the model makes it as
        asked; otherwise, with ``fit="nearest"``, the nearest request it makes.

        Nearest means the closest aspect ratio, then the smallest size no smaller than asked
        (else the largest), the shortest length no shorter than asked and the frame rate
        clamped into range. The result is then scaled, centre-cropped, resampled and trimmed
        back to exactly what was asked (see ``downloaded.fitted_frames``), so the person gets the video
        they asked for and is billed for it; the operator pays the provider for a little
        more. A length above the model's longest is never fitted: nothing could fill it.

        Raises:
            InvalidRequestError: As :meth:`check_exact` does, when nothing near fits.
        """
        try:
            self.check_exact(request)
            return request
        except InvalidRequestError as exc:
            if self._fit != "nearest" or exc.param not in _FITTABLE:
                raise
            for candidate in self._near(request):
                try:
                    self.check_exact(candidate)
                except InvalidRequestError:
                    continue
                return candidate
            raise

    def describe(self, request: VideoRequest) -> Mapping[str, Any]:
        """Which provider and remote model the request goes to, and what was asked of it
        when that differs from the request (``sent``, recorded on the job)."""
        model = self._model(request.model)
        described: dict[str, Any] = {
            "provider": self._client.provider,
            "remote_model": model.remote,
        }
        try:
            sent = self.sent(request)
        except InvalidRequestError:
            return described
        if sent is not request:
            described["sent"] = {"seconds": sent.seconds, "size": sent.size, "fps": sent.fps}
            described["fitted"] = (
                f"asked {sent.size} for {sent.seconds:g} s at {sent.fps} fps; scaled and "
                f"cropped to {request.size}, trimmed to {request.seconds:g} s at {request.fps} fps"
            )
        return described

    def _near(self, request: VideoRequest) -> Iterator[VideoRequest]:
        """Candidate requests the model might make, nearest first (see :meth:`sent`)."""
        caps = self.capabilities(request.model)
        low, high = caps.fps_range
        fps = min(max(request.fps, low), high)
        sizes = [(request.width, request.height)]
        in_range = caps.min_side <= min(request.width, request.height)
        if not caps.any_size or not (
            in_range and max(request.width, request.height) <= caps.max_side
        ):
            asked_ratio, asked_area = request.width / request.height, request.width * request.height

            def distance(size: tuple[int, int]) -> tuple[float, int, int]:
                width, height = size
                area = width * height
                return (
                    abs(math.log(width / height / asked_ratio)),
                    area < asked_area,
                    abs(area - asked_area),
                )

            sizes = sorted((parse_size(size) for size in caps.sizes), key=distance)
        lengths = [request.seconds] + [
            float(s) for s in range(math.ceil(request.seconds), math.floor(caps.max_seconds) + 1)
        ]
        for width, height in sizes:
            for seconds in dict.fromkeys(lengths):
                yield replace(request, width=width, height=height, seconds=seconds, fps=fps)

    def generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Clip:
        """Runs the job at the provider and yields its video as ``request``'s frames; when
        ``request.audio`` is true the clip carries the provider's sound, fitted to the same
        span as the picture (see ``downloaded.provider_sound``), from its first frame on.

        Raises:
            CancelledError: ``cancelled()`` turned True (the provider was asked to cancel).
            ModerationBlockedError: The provider refused the content (its reason kept).
            BackendUnavailableError: The provider rejected our credentials.
            BackendError: The job failed, or kept failing transiently, or ran past the deadline.
        """
        clip = Clip()
        clip.frames = self._generate(request, progress, cancelled, clip)
        return clip

    def _generate(
        self,
        request: VideoRequest,
        progress: ProgressCallback,
        cancelled: CancelCheck,
        clip: Clip,
    ) -> Iterator[Frame]:
        """The frames of :meth:`generate`; sets ``clip.sound`` once the result is here.

        Raises:
            CancelledError: ``cancelled()`` turned True (the provider was asked to cancel).
            ModerationBlockedError: The provider refused the content (its reason kept).
            BackendUnavailableError: The provider rejected our credentials.
            BackendError: The job failed, or kept failing transiently, or ran past the deadline.
        """
        with self.fetched(request, progress, cancelled) as path:
            fitted = self.fitted(path, request, progress, cancelled)
            clip.sound = fitted.sound
            yield from fitted.frames

    @contextlib.contextmanager
    def fetched(
        self,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Iterator[Path]:
        """Runs the job at the provider and lends its downloaded video, as the provider made
        it, holding a render slot; the file is removed afterwards. A provider that offers the
        video's own previews (an upstream OpenReel's ``download_previews``) lends them beside
        it (``media.preview_check.previews_beside``), unchecked.

        :meth:`generate` fits it to the request frame by frame; a caller that can keep the
        file as it is (a video already labelled and signed by an OpenReel upstream,
        ``services.relay``) reads it here instead, and needs no slot for long.

        Raises:
            As :meth:`generate`.
        """
        if request.seed is None:
            raise InvalidRequestError(
                "seed must be fixed before generating (VideoRequest.with_seed)", param="seed"
            )
        model = self._model(request.model)
        sent = self.sent(request)
        total = request.frame_count
        handle, name = tempfile.mkstemp(prefix=f"openreel-{self._name}-", suffix=".mp4")
        os.close(handle)
        path = Path(name)
        try:
            remote_id = self._call(
                lambda: self._client.submit(model.remote, sent), cancelled, starting=True
            )
            self._follow(remote_id, total, progress, cancelled)
            # An upstream OpenReel's own previews, lent beside the video for a relay to keep
            # once it has checked them (services.relay), are fetched while the video is: best
            # effort, never a failure.
            previews = getattr(self._client, "download_previews", None)
            with ThreadPoolExecutor(1, thread_name_prefix="openreel-previews") as pool:
                lent: Future[None] | None = None
                if previews is not None:
                    lent = pool.submit(previews, remote_id, *previews_beside(path))
                self._call(lambda: self._client.download(remote_id, path), cancelled)
                if lent is not None:
                    lent.result()
            self._take_slot(cancelled)
            try:
                yield path
            finally:
                if self._slots is not None:
                    self._slots.release()
        finally:
            for file in (path, *previews_beside(path)):
                file.unlink(missing_ok=True)

    def fitted(
        self,
        path: Path,
        request: VideoRequest,
        progress: ProgressCallback = no_progress,
        cancelled: CancelCheck = never_cancelled,
    ) -> Clip:
        """A downloaded video (see :meth:`fetched`) as ``request``'s frames: scaled, cropped,
        resampled and trimmed to exactly its size, rate and length; when ``request.audio`` is
        true with the provider's sound over the same span (see ``downloaded.provider_sound``), read at once,
        while ``path`` is still lent.

        Raises:
            CancelledError: ``cancelled()`` turned True.
            BackendError: The file cannot be read or has no frames.
        """

        def frames() -> Iterator[Frame]:
            for frame in fitted_frames(path, request, request.frame_count, progress):
                if cancelled():
                    raise CancelledError("generation was cancelled")
                yield frame

        sound = provider_sound(path, request, self._name) if request.audio else None
        return Clip(frames(), sound)

    # ----- the loop -----------------------------------------------------------------------

    def _model(self, model: str) -> HostedModel:
        try:
            return self._models[model]
        except KeyError:
            raise ModelNotFoundError(
                f"model {model!r} is not served by {self._name}", param="model"
            ) from None

    def _follow(
        self, remote_id: str, total: int, progress: ProgressCallback, cancelled: CancelCheck
    ) -> None:
        started = self._clock()
        interval = self._policy.interval_s
        shown = 0
        while True:
            if self._clock() - started > self._policy.deadline_s:
                self._cancel_quietly(remote_id)
                raise BackendError(
                    f"{self._name} did not finish within {self._policy.deadline_s:g} s; "
                    "the job was cancelled there",
                    code="backend_timeout",
                )
            job = self._call(lambda: self._client.status(remote_id), cancelled, remote_id)
            if job.progress is not None:
                done = int(total * 0.9 * max(0.0, min(job.progress, 100.0)) / 100.0)
                shown = max(shown, done)  # never backwards, whatever the provider reports
            # Reported on every poll, changed or not: the worker's lease heartbeat rides on it,
            # and a provider can sit at one percentage for longer than a lease lasts.
            progress(shown, total)
            if job.state == "succeeded":
                return
            if job.state == "refused":
                raise ModerationBlockedError(
                    f"{self._name} refused the request: {job.message or 'content policy'}",
                    category="provider",
                    check=self._name,
                )
            if job.state in ("failed", "cancelled"):
                raise BackendError(
                    f"{self._name} failed the job: {job.message or job.state}",
                    code="backend_error",
                )
            wait = job.poll_after_s if job.poll_after_s is not None else interval
            self._wait(min(wait, self._policy.max_interval_s), cancelled, remote_id)

    def _call(
        self,
        fn: Callable[[], Any],
        cancelled: CancelCheck,
        remote_id: str | None = None,
        *,
        starting: bool = False,
    ) -> Any:
        """Calls the provider, retrying transient failures with exponential backoff.

        ``starting`` marks the call that starts the job: it is retried only when the
        failure shows the provider did not act on it (refused, throttled, never reached).
        """
        failures = 0
        delay = self._policy.interval_s
        while True:
            try:
                return fn()
            except ProviderRefusedError as exc:
                raise ModerationBlockedError(
                    f"{self._name} refused the request: {exc}",
                    category="provider",
                    check=self._name,
                ) from None
            except ProviderAuthError as exc:
                log.error("%s rejected the configured credentials: %s", self._name, exc)
                raise BackendUnavailableError(
                    f"provider {self._name} is unavailable; an administrator has been told"
                ) from None
            except TransientProviderError as exc:
                if starting and exc.ambiguous:
                    raise BackendError(
                        f"{self._name} did not confirm the new job ({exc}); it was not sent "
                        "again, because the provider may be making the first one and would "
                        "bill for both",
                        code="backend_unavailable",
                    ) from None
                failures += 1
                if failures > self._policy.retries:
                    raise BackendError(
                        f"{self._name} kept failing ({failures} tries): {exc}",
                        code="backend_unavailable",
                    ) from None
                wait = exc.retry_after_s if exc.retry_after_s is not None else delay
                log.warning("%s: %s; retrying in %.1f s", self._name, exc, wait)
                self._wait(min(wait, self._policy.max_interval_s * 4), cancelled, remote_id)
                delay = min(delay * 2, self._policy.max_interval_s)

    def _wait(self, seconds: float, cancelled: CancelCheck, remote_id: str | None) -> None:
        """Waits ``seconds``, asking ``cancelled()`` every step; a provider that tells of
        changes (``wait_for_news``, the upstream's ``/events``) ends the wait when one comes."""
        end = self._clock() + seconds
        news = getattr(self._client, "wait_for_news", None) if remote_id is not None else None
        while True:
            if cancelled():
                if remote_id is not None:
                    self._cancel_quietly(remote_id)
                raise CancelledError("generation was cancelled")
            left = end - self._clock()
            if left <= 0:
                return
            step = min(left, self._policy.cancel_check_s)
            heard = news(remote_id, step) if news is not None else None
            if heard:
                return
            if heard is None:
                self._sleep(step)

    def _take_slot(self, cancelled: CancelCheck) -> None:
        """Waits for a render slot, asking ``cancelled()`` (which also keeps the lease) each
        second; the provider's job is done, so there is nothing to cancel there."""
        if self._slots is None:
            return
        while not self._slots.acquire(timeout=self._policy.cancel_check_s):
            if cancelled():
                raise CancelledError("generation was cancelled")

    def _cancel_quietly(self, remote_id: str) -> None:
        try:
            self._client.cancel(remote_id)
        except Exception as exc:  # best effort: the job is ours to give up either way
            log.warning("%s: cancelling %s failed: %s", self._name, remote_id, exc)
