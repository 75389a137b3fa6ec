"""Render processes: sketch videos are drawn in child processes, not in the server's threads.

The sketch engine draws every frame in Python. In the server's process a render thread shares
one interpreter lock with everything else the server does meanwhile (the event loop answering
clients, the request threads checking and storing the next prompt), so any Python work there
holds the render up; a render in a child is held up far less (benchmarks/render_isolation.py).
So each render worker hands a sketch video to a child process and only relays what comes back:
progress (to the lease) and the result. The worker's thread keeps the lease and the
early-start reservation, and asks about the lease and cancels after each frame the child
reports (its first, then one every :data:`REPORT_EVERY_S`, and its last); the child stops at
its next frame when told, and keeps nothing until the worker has said "go" after the last
frame, which it asks for with that frame and reads once the file is encoded and signed (so a
cancel or a lost lease seen late still takes everything back).

Children are forked from a fork server (spawned where there is none: Windows), are reused
from one video to the next, and are replaced when one dies. One that dies mid-render (killed,
out of memory) fails that video with a :class:`~openreel.errors.BackendError`; one that sends
nothing for a lease length is killed. On Linux a child dies with the fork server, which exits
with the server (a server killed with ``-9`` leaves no render running); elsewhere it finds its
pipe broken at its next frame. Either way its files are hidden partial ones, swept at the next
start or by the next attempt.

GPU backends stay in the server's process (their models load once and their work releases
the lock); hosted ones mostly wait.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from openreel.backends.base import CancelCheck, ProgressCallback, VideoBackend
from openreel.domain import GenerationResult, VideoRequest
from openreel.errors import BackendError
from openreel.media.encode import EncoderSettings
from openreel.media.fingerprint import SecondSampler
from openreel.media.label import LabelSpec
from openreel.media.opencv import use_opencv_threads
from openreel.media.uploaded import fitted_frames
from openreel.services.generation import PreviewPaths, render_video
from openreel.trust.provenance import Provenance

__all__ = ["RenderCall", "RenderProcesses", "render_in_thread"]

log = logging.getLogger(__name__)

LATE_IMPORTS = ("scipy.fftpack",)
"""Modules a render imports on first use, preloaded in the fork server: imagehash's ``phash``
(the content fingerprints) imports this one at its first call, which each child's first video
would otherwise wait for."""

REPORT_EVERY_S = 0.1
"""How often a child reports its progress: its start and its first frame at once (the client's
first sign of life, ``services.worker``), then at most this often, and always its last frame.

Each report wakes the worker's thread in the server (to relay it and to ask about the lease
and a cancel), and that thread then wants the interpreter lock and a core while the encoder's
threads want both, so a report per frame made the whole path slower than this pace does
(benchmarks/whole_path_ab.py). The worker stores progress at most every
``services.worker.PROGRESS_EVERY_S`` anyway; a cancel is seen at the next report and stops the
child at its next frame.
"""

STOP_WAIT_S = 10.0
"""How long :meth:`RenderProcesses.close` waits for an idle child to exit."""

LAST_REPORT_S = 0.25
"""How long the worker holds back the report of the last frame while the child finishes.

After its last frame a child closes the encoder, makes the previews and signs the video, while
the encoder's threads want both cores. Reported at once, the last frame's progress is a database
write, a stream event and a client's read on the other core at that moment, which made the
worker slower (benchmarks/whole_path_ab.py --pause 0.05) to say "finalizing" for a few
milliseconds before the completion says more. So it is said only when finishing takes longer
than this (a long or large video), and dropped when the result comes first. Same pace as the
worker's other progress writes (``services.worker.PROGRESS_EVERY_S``).
"""


@dataclass(frozen=True, slots=True)
class RenderCall:
    """Everything one render needs, sent to the child (every field pickles).

    ``prefix_path`` is a local video whose frames come first (an extension's source);
    ``sampler`` is filled in the child and comes back with the result.
    """

    backend: VideoBackend
    request: VideoRequest
    output: Path
    encoder: EncoderSettings
    previews: PreviewPaths | None = None
    prefix_path: Path | None = None
    prefix_frames: int = 0
    label: LabelSpec | None = None
    provenance: Provenance | None = None
    sampler: SecondSampler | None = None


def render_in_thread(
    call: RenderCall, *, progress: ProgressCallback, cancelled: CancelCheck
) -> GenerationResult:
    """Renders ``call`` right here (the path of every backend without a child process)."""
    return render_video(
        call.backend,
        call.request,
        call.output,
        encoder=call.encoder,
        previews=call.previews,
        progress=progress,
        cancelled=cancelled,
        prefix=()
        if call.prefix_path is None
        else fitted_frames(
            call.prefix_path, call.request.width, call.request.height, call.prefix_frames
        ),
        prefix_frames=call.prefix_frames,
        prefix_file=call.prefix_path,
        label=call.label,
        provenance=call.provenance,
        sampler=call.sampler,
        parent=call.prefix_path
        or (None if call.request.source is None else Path(call.request.source.path)),
        prefix_sound=call.prefix_path,
    )


class _Child:
    """One child process and the worker's end of its pipe.

    The pipe carries ``("render", n, call)``, ``("stop", n)`` and ``("go", n)`` down, and
    ``("progress", n, done, total)``, ``("finishing", n)`` (the last frame is made: keep it?),
    ``("done", n, result, sampler)`` or ``("failed", n, error)`` up, ``n`` counting this
    child's renders: a stop that crosses the render's end on the way is ignored by the child,
    and nothing of one render is ever read as another's.
    """

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.broken = False
        self._renders = 0

    def render(
        self,
        call: RenderCall,
        progress: ProgressCallback,
        cancelled: CancelCheck,
        stall_seconds: float,
    ) -> tuple[GenerationResult, SecondSampler | None]:
        self._renders += 1
        number = self._renders
        try:
            self.conn.send(("render", number, call))
        except (OSError, EOFError) as exc:
            raise self._died() from exc
        stopping = False
        failure: BaseException | None = None  # raised by our own callbacks: raised at the end
        held: tuple[int, int, float] | None = None  # the last frame's report, and when due

        def stop() -> None:
            nonlocal stopping
            if not stopping:
                stopping = True
                self.conn.send(("stop", number))

        def guarded(callback: Callable[[], object]) -> object:
            """Runs one of the worker's own callbacks; what it raises (a lost lease, say)
            stops the child and is raised once the child has stopped."""
            nonlocal failure
            try:
                return callback()
            except BaseException as exc:
                failure = exc
                stop()
                return None

        def report(done: int, total: int) -> None:
            if failure is None:
                guarded(lambda: progress(done, total))

        def ask() -> None:
            """The worker's own checks: the lease (and a cancel) after each reported frame,
            as a render in this thread asks between frames. A child that hangs therefore
            stops renewing the lease, as a hung thread would."""
            if failure is None and not stopping and guarded(cancelled):
                stop()

        while True:
            try:
                wait = STOP_WAIT_S if stopping else stall_seconds
                if held is not None:
                    due = held[2] - time.monotonic()
                    if stopping:  # told to stop: there is nothing to report any more
                        held = None
                    elif due <= 0:  # still finishing: say so now
                        report(held[0], held[1])
                        held = None
                    else:
                        wait = min(wait, due)
                if not self.conn.poll(wait):
                    if held is not None:
                        continue  # its report is due, not the child stalled
                    self.kill()
                    if failure is not None:
                        raise failure
                    raise BackendError(
                        f"the render process sent nothing for {wait:g} s and was stopped"
                    )
                message = self.conn.recv()
                kind, about = message[0], message[1]
                if about != number:
                    continue
                if kind == "progress":
                    done, total = message[2], message[3]
                    if done >= total:  # the last frame: held back (see LAST_REPORT_S)
                        held = (done, total, time.monotonic() + LAST_REPORT_S)
                    else:
                        report(done, total)
                    ask()
                    continue
                if kind == "finishing":
                    # The last frame is made; nothing is kept until the worker says so. A
                    # cancel or a lost lease seen by now still takes it all back.
                    ask()
                    self.conn.send(("stop" if stopping else "go", number))
                    continue
            except (OSError, EOFError) as exc:
                if failure is not None:
                    raise failure from exc
                raise self._died() from exc
            if kind == "done":
                if failure is not None:
                    raise failure
                result: GenerationResult = message[2]
                sampler: SecondSampler | None = message[3]
                return result, sampler
            raise failure if failure is not None else message[2]  # "failed"

    def kill(self) -> None:
        """Ends the child at once (it hangs, or is past its time)."""
        self.broken = True
        self.process.kill()
        self.process.join(STOP_WAIT_S)

    def _died(self) -> BackendError:
        self.broken = True
        self.process.join(1.0)
        log.warning(
            "a render process stopped with exit code %s; it is replaced", self.process.exitcode
        )
        return BackendError(
            f"the render process stopped unexpectedly (exit code {self.process.exitcode})"
        )

    def stop(self, timeout: float) -> None:
        """Asks the child to exit, then makes sure it has."""
        with contextlib.suppress(OSError, EOFError):
            self.conn.send(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)
        self.conn.close()
        if not self.process.is_alive():
            self.process.close()


class RenderProcesses:
    """A pool of render child processes, one per video being rendered (see the module docs).

    Args:
        kinds: The backend classes whose renders go to a child (the sketch engine's); others
            render in the calling thread.
        opencv_threads: The children's OpenCV thread count (see ``media.opencv``).
        report_every_s: The least time between two progress reports of a child (see
            :data:`REPORT_EVERY_S`; 0 reports every frame).
    """

    def __init__(
        self,
        kinds: Collection[type[VideoBackend]],
        *,
        opencv_threads: int | None = 1,
        report_every_s: float = REPORT_EVERY_S,
    ) -> None:
        self._kinds = frozenset(kinds)
        self._opencv_threads = opencv_threads
        self._report_every_s = report_every_s
        self._context: ForkServerContext | SpawnContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            self._context = multiprocessing.get_context("forkserver")
            # The fork server imports these (this module, the backends') once; each child is
            # a fork of it, ready in milliseconds. "__main__" spares every child from running
            # the program's main script again (``openreel serve``'s imports the whole CLI).
            modules = sorted({kind.__module__ for kind in kinds} | set(LATE_IMPORTS))
            self._context.set_forkserver_preload(["__main__", __name__, *modules])
        else:
            self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._idle: list[_Child] = []
        self._busy = 0  # children rendering now
        self._starting = 0
        self._closed = False

    def handles(self, backend: VideoBackend) -> bool:
        """Whether ``backend``'s renders go to a child process."""
        return type(backend) in self._kinds

    def warm(self, count: int) -> None:
        """Starts children until ``count`` exist, so the first videos do not wait for them."""
        while True:
            with self._lock:
                if self._closed or len(self._idle) + self._busy + self._starting >= count:
                    return
                self._starting += 1
            child = None
            try:
                child = self._start()
            finally:
                with self._lock:
                    self._starting -= 1
                    if child is not None and not self._closed:
                        self._idle.append(child)
                        child = None
                    self._ready.notify_all()
            if child is not None:  # closed meanwhile
                child.stop(STOP_WAIT_S)
                return

    def render(
        self,
        call: RenderCall,
        *,
        progress: ProgressCallback,
        cancelled: CancelCheck,
        stall_seconds: float = 60.0,
    ) -> tuple[GenerationResult, SecondSampler | None]:
        """Renders ``call`` in a child, relaying its progress and asking ``cancelled`` after
        each report: what :func:`render_in_thread` would do here, with the same exceptions.
        Once the pool is closed (the server stopping) it renders in this thread instead.

        Args:
            call: The render.
            progress: Called with each frame the child reports.
            cancelled: Asked after each reported frame and before anything is kept.
            stall_seconds: A child that sends nothing for this long is killed (the worker's
                lease length: by then the lease has run out and the job is someone else's).

        Returns:
            The result and the filled sampler (``call.sampler`` as the child left it).

        Raises:
            BackendError: The child died (its exit code is in the message) or stalled.
            Whatever the render raised (``CancelledError`` when stopped), or whatever
            ``progress`` or ``cancelled`` raised (after the child stopped).
        """
        child = self._take()
        if child is None:
            return render_in_thread(call, progress=progress, cancelled=cancelled), call.sampler
        try:
            return child.render(call, progress, cancelled, stall_seconds)
        finally:
            self._give_back(child)

    def close(self, timeout: float = STOP_WAIT_S) -> None:
        """Stops the idle children; busy ones stop when their render ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._ready.notify_all()
        for child in idle:
            child.stop(timeout)

    def _take(self) -> _Child | None:
        """An idle child, or a new one; None once the pool is closed."""
        with self._lock:
            while True:
                if self._closed:
                    return None
                while self._idle:
                    child = self._idle.pop()
                    if child.process.is_alive():
                        self._busy += 1
                        return child
                    child.stop(0)  # died while idle
                if not self._starting:
                    break
                self._ready.wait()  # one is being started (warm): it is ready in milliseconds
        child = self._start()
        with self._lock:
            self._busy += 1
        return child

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            self._busy -= 1
            keep = not self._closed and not child.broken and child.process.is_alive()
            if keep:
                self._idle.append(child)
        if not keep:
            child.stop(STOP_WAIT_S)

    def _start(self) -> _Child:
        ours, theirs = self._context.Pipe()
        process: BaseProcess = self._context.Process(
            target=_child_main,
            args=(theirs, self._opencv_threads, self._report_every_s),
            name="openreel-render",
            daemon=True,  # ended with the server when it exits normally
        )
        try:
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return _Child(process, ours)


def _child_main(conn: Connection, opencv_threads: int | None, report_every_s: float) -> None:
    """The child: renders what comes down the pipe until told to stop or the pipe breaks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    _die_with_parent()
    use_opencv_threads(opencv_threads)
    while True:
        try:
            message = conn.recv()
        except (OSError, EOFError):
            return
        if message is None:
            return
        if message[0] != "render":
            continue  # a stop that arrived after its render had ended
        number, call = message[1], message[2]
        try:
            conn.send(_render(conn, number, call, report_every_s))
        except (ConnectionError, EOFError):  # the server has gone
            return


def _render(
    conn: Connection, number: int, call: RenderCall, report_every_s: float = REPORT_EVERY_S
) -> tuple[Any, ...]:
    stop = False
    reported_at: float | None = None  # when the last progress report went up
    finished = False  # the last frame is made and reported
    settled = False  # the worker has said whether to keep it

    def cancelled() -> bool:
        nonlocal stop, settled
        if finished and not settled:
            # Before anything is kept, the worker's verdict: it may have seen a cancel or
            # lost its lease while this process ran ahead. Asked for with the last frame, it
            # has usually come back while the encoder finished, the previews were made and
            # the video signed. A server gone meanwhile breaks the pipe here.
            settled = True
            while True:
                message = conn.recv()
                if message is not None and message[1] == number:
                    if message[0] == "stop":
                        stop = True
                        break
                    if message[0] == "go":
                        break
            return stop
        while conn.poll():
            message = conn.recv()
            if message is not None and message[0] == "stop" and message[1] == number:
                stop = True
        return stop

    def progress(done: int, total: int) -> None:
        nonlocal finished, reported_at
        now = time.monotonic()
        last = done >= total
        if 1 < done < total and reported_at is not None and now - reported_at < report_every_s:
            return  # see REPORT_EVERY_S; the start and the first frame always go up
        reported_at = now
        conn.send(("progress", number, done, total))
        if last and not finished:
            finished = True
            conn.send(("finishing", number))  # the verdict is read before anything is kept

    try:
        result = render_in_thread(call, progress=progress, cancelled=cancelled)
    except (ConnectionError, EOFError):
        raise  # the pipe broke mid-render: the server has gone
    except Exception as exc:
        return ("failed", number, _portable(exc))
    return ("done", number, result, call.sampler)


def _die_with_parent() -> None:
    """On Linux, asks the kernel to kill this child when its parent (the fork server, which
    exits with the server) dies: a server killed with -9 leaves no render running. Elsewhere
    the broken pipe ends the child at its next frame."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _portable(exc: Exception) -> BaseException:
    """``exc`` with the child's traceback as a note, or a BackendError if it cannot travel."""
    exc.add_note("in the render process:\n" + "".join(traceback.format_exception(exc)))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return BackendError(f"the render failed: {type(exc).__name__}: {exc}")
    return exc
