"""``openreel worker``: a Celery worker that renders queued jobs for the models it serves.

Celery is imported only when the command runs: it is an optional extra (``openreel[celery]``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from openreel import __version__
from openreel.backends.registry import ModelEntry
from openreel.cli.common import EXIT_BAD_INPUT, EXIT_ERROR, fail
from openreel.config import Settings
from openreel.errors import OpenReelError
from openreel.logs import install_redaction, secrets_of

__all__ = ["worker"]


def _names(value: str | None) -> list[str]:
    return [] if value is None else [n.strip() for n in value.split(",") if n.strip()]


def worker(
    models: Annotated[
        str | None,
        typer.Option(help="Comma-separated model ids to serve (see `openreel models`)."),
    ] = None,
    backends: Annotated[
        str | None,
        typer.Option(help="Comma-separated backends whose models to serve (sketch, diffusers...)."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=1000, help="Jobs at once (1 per GPU; more for hosted).")
    ] = 1,
    pool: Annotated[
        str,
        typer.Option(help="prefork (a crash kills one child only), threads (hosted) or solo."),
    ] = "prefork",
    name: Annotated[
        str | None, typer.Option(help="Celery node name (default: openreel@<host>).")
    ] = None,
) -> None:
    """Run jobs from Celery's queues on Redis, for the models named (all when none is named).

    Needs OPENREEL_QUEUE=celery, OPENREEL_CELERY__BROKER_URL and the API servers' database
    (OPENREEL_DATABASE_URL); run one process per GPU, each with CUDA_VISIBLE_DEVICES set.
    """
    from openreel.backends.providers import build_registry
    from openreel.queue.celery import celery_app, register_task, run_worker, worker_queues
    from openreel.runtime import worker_taker

    err = Console(stderr=True)
    if pool not in ("prefork", "threads", "solo"):
        raise fail(err, f"--pool must be prefork, threads or solo; got {pool!r}", EXIT_BAD_INPUT)
    try:
        settings = Settings()
        install_redaction(secrets_of(settings))
        if settings.queue != "celery":
            raise fail(
                err,
                f"openreel worker takes jobs from Celery: set OPENREEL_QUEUE=celery "
                f"(got {settings.queue!r})",
                EXIT_BAD_INPUT,
            )
        entries = build_registry(settings).models()
        served = _served(err, entries, _names(models), _names(backends))
        app = celery_app(settings.celery)
    except OpenReelError as exc:
        raise fail(err, exc.message, EXIT_ERROR) from None
    batched = pool == "threads"  # many jobs waiting on providers share one lease keeper
    register_task(
        app,
        lambda: worker_taker(settings, batched_leases=batched),
        settings.celery.paused_retry_seconds,
    )
    queues = worker_queues(settings.celery.queue_prefix, served)
    err.print(f"OpenReel {__version__} worker for {', '.join(sorted(served))}", highlight=False)
    run_worker(app, queues, concurrency=concurrency, pool=pool, name=name or "openreel@%h")


def _served(
    err: Console, entries: list[ModelEntry], models: list[str], backends: list[str]
) -> list[str]:
    """The model ids a worker serves: those named, those of the backends named, or all."""
    known = {entry.model: entry.backend for entry in entries}
    for model in models:
        if model not in known:
            raise fail(
                err,
                f"--models: no model {model!r} here; this installation serves "
                f"{', '.join(sorted(known))}",
                EXIT_BAD_INPUT,
            )
    names = set(known.values())
    for backend in backends:
        if backend not in names:
            raise fail(
                err,
                f"--backends: no backend {backend!r} here; this installation has "
                f"{', '.join(sorted(names))}",
                EXIT_BAD_INPUT,
            )
    if not models and not backends:
        return sorted(known)
    return sorted(set(models) | {m for m, b in known.items() if b in backends})
