"""The ``openreel`` command line: generate videos, list models.

Every failure a user can cause prints one line naming what was wrong and the value received
and exits with status 2 (bad input) or 1 (anything else); Ctrl-C exits 130. No traceback ever
reaches the terminal, and no partial file is ever left behind.

Imports: runtime, services, backends, domain, errors, config.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from openreel import __version__
from openreel.backends.registry import ModelEntry
from openreel.config import Settings
from openreel.domain import GenerationResult, Role, VideoRequest, parse_size
from openreel.errors import (
    CancelledError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OpenReelError,
)
from openreel.logs import install_redaction, secrets_of
from openreel.media.c2pa import verify_mp4
from openreel.media.encode import check_output_path
from openreel.runtime import (
    Runtime,
    Server,
    cli_moderation,
    open_artists,
    open_audit,
    open_auth,
    open_killswitch,
    signing,
)
from openreel.services.auth import IssuedToken, TokenRecord
from openreel.services.generation import PreviewPaths, render_video
from openreel.storage.artists import ArtistEntry
from openreel.storage.pauses import PauseScope

__all__ = ["app", "main"]

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

T = TypeVar("T")
S = TypeVar("S")

app = typer.Typer(
    name="openreel",
    help="OpenReel: self-hosted text-to-video. Type a prompt, get a video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _FpsColumn(ProgressColumn):
    """Rendering speed in frames per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- fps" if speed is None else f"{speed:5.1f} fps", style="cyan")


def _default_output(request: VideoRequest) -> Path:
    words = re.findall(r"[a-z0-9]+", request.prompt.lower())[:6]
    slug = "-".join(words) or "video"
    return Path(f"{slug}-{request.seed}.mp4")


def _fail(err: Console, message: str, code: int) -> typer.Exit:
    # Escaped: a message is plain text, and "pip install 'openreel[s3]'" must keep its [s3].
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the MP4 (default: named after the prompt)."
        ),
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length in seconds.")] = 10.0,
    size: Annotated[
        str, typer.Option(help="WIDTHxHEIGHT, even numbers from 64 to 3840.")
    ] = "1920x1080",
    fps: Annotated[int, typer.Option(help="Frames per second, 1 to 60.")] = 24,
    seed: Annotated[
        int | None, typer.Option(help="Seed for a repeatable video (random when absent).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model id (see `openreel models`).")] = None,
    negative_prompt: Annotated[
        str, typer.Option("--negative-prompt", help="What to leave out.")
    ] = "",
    previews: Annotated[
        bool, typer.Option(help="Also write a WebP thumbnail and a JPEG spritesheet.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable result on stdout.")
    ] = False,
) -> None:
    """Generate a video from a prompt and write it as an H.264 MP4."""
    out, err = Console(), Console(stderr=True)
    settings = Settings()
    try:
        width, height = parse_size(size)
        request = VideoRequest(
            prompt=prompt,
            negative_prompt=negative_prompt,
            seconds=seconds,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            model=model or settings.default_model,
        ).with_seed()
        moderation = cli_moderation(settings)
        if moderation is not None:
            moderation.screen(request.prompt)
        runtime = Runtime.from_settings(settings)
        backend = runtime.registry.for_model(request.model)
        target = output if output is not None else _default_output(request)
        backend.check(request)  # before the progress bar appears, so a refusal is one clean line
        check_output_path(target)
        result = _run(runtime, backend, request, target, previews=previews, quiet=as_json, err=err)
    except InvalidRequestError as exc:
        raise _fail(err, exc.message, EXIT_BAD_INPUT) from None
    except (KeyboardInterrupt, CancelledError):
        raise _fail(err, "cancelled; no file was written", EXIT_INTERRUPTED) from None
    except OpenReelError as exc:
        raise _fail(err, exc.message, EXIT_ERROR) from None
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
        return
    video = result.video
    out.print(
        f"[green]✓[/] wrote [bold]{video.path}[/] ({video.size_bytes / 1e6:.1f} MB, {result.frames} frames, "
        f"{result.request.size} @ {result.request.fps} fps) in {result.render_seconds:.1f} s",
        highlight=False,
    )
    for artifact in result.artifacts[1:]:
        out.print(f"  {artifact.kind}: {artifact.path}", highlight=False)


def _run(
    runtime: Runtime,
    backend: Any,
    request: VideoRequest,
    target: Path,
    *,
    previews: bool,
    quiet: bool,
    err: Console,
) -> GenerationResult:
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _FpsColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )
    task = progress.add_task("rendering", total=request.frame_count)

    def on_plan(planned: GenerationResult) -> None:
        if quiet:
            return
        summary = planned.interpretation.get("summary")
        if summary:
            err.print(f"[bold]understood:[/] {summary}", highlight=False)
        err.print(
            f"[bold]seed:[/] {planned.request.seed}   [bold]model:[/] {planned.request.model}",
            highlight=False,
        )

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        return render_video(
            backend,
            request,
            target,
            encoder=runtime.encoder,
            label=runtime.label,
            provenance=runtime.provenance,
            previews=PreviewPaths.beside(target) if previews else None,
            progress=on_progress,
            on_plan=on_plan,
        )


@app.command()
def models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the models this installation can generate with, and their limits."""
    runtime = Runtime.from_settings(Settings())
    rows: list[dict[str, Any]] = []
    for entry in runtime.registry.models():
        caps = runtime.registry.backend(entry.backend).capabilities(entry.model)
        rows.append({"id": entry.model, "backend": entry.backend, "capabilities": caps.to_dict()})
    if as_json:
        Console().print_json(json.dumps(rows))
        return
    for row in rows:
        caps = row["capabilities"]
        Console().print(
            f"[bold]{row['id']}[/] ({row['backend']}): up to {caps['max_seconds']:g} s, "
            f"sizes {caps['min_side']}-{caps['max_side']} px, {caps['fps_range'][0]}-{caps['fps_range'][1]} fps",
            highlight=False,
        )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Render workers in this process.")] = None,
) -> None:
    """Run the API server with in-process render workers (SQLite, files in the data folder)."""
    import uvicorn

    from openreel.api.app import create_app

    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None
    }
    err = Console(stderr=True)
    try:
        settings = Settings(**overrides)
        install_redaction(secrets_of(settings))  # before anything can log a key or a token
        server = Server.open(settings)
    except OpenReelError as exc:
        raise _fail(err, exc.message, EXIT_ERROR) from None
    try:
        server.start(freeze_heap=True)
        url = f"http://{settings.host}:{settings.port}"
        err.print(
            f"[bold]OpenReel {__version__}[/] serving {url}/v1 (data in {Path(settings.data_dir).resolve()})",
            highlight=False,
        )
        err.print(f"Studio: open {url}/ in a browser and sign in with a token", highlight=False)
        if server.first_admin is not None:
            err.print(
                f"[bold yellow]First admin token (shown once, keep it safe):[/] {server.first_admin.token}",
                highlight=False,
            )
        uvicorn.run(
            create_app(server.services), host=settings.host, port=settings.port, log_level="warning"
        )
    finally:
        server.close()


def _names(value: str | None) -> list[str]:
    return [] if value is None else [n.strip() for n in value.split(",") if n.strip()]


@app.command()
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
    from openreel.queue.celery import celery_app, register_task, run_worker, worker_queues
    from openreel.runtime import build_registry, worker_taker

    err = Console(stderr=True)
    if pool not in ("prefork", "threads", "solo"):
        raise _fail(err, f"--pool must be prefork, threads or solo; got {pool!r}", EXIT_BAD_INPUT)
    try:
        settings = Settings()
        install_redaction(secrets_of(settings))
        if settings.queue != "celery":
            raise _fail(
                err,
                f"openreel worker takes jobs from Celery: set OPENREEL_QUEUE=celery "
                f"(got {settings.queue!r})",
                EXIT_BAD_INPUT,
            )
        entries = build_registry(settings).models()
        served = _served(err, entries, _names(models), _names(backends))
        app = celery_app(settings.celery)
    except OpenReelError as exc:
        raise _fail(err, exc.message, EXIT_ERROR) from None
    batched = pool == "threads"  # many jobs waiting on providers share one lease keeper
    register_task(
        app,
        lambda: worker_taker(settings, app, batched_leases=batched),
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
            raise _fail(
                err,
                f"--models: no model {model!r} here; this installation serves "
                f"{', '.join(sorted(known))}",
                EXIT_BAD_INPUT,
            )
    names = set(known.values())
    for backend in backends:
        if backend not in names:
            raise _fail(
                err,
                f"--backends: no backend {backend!r} here; this installation has "
                f"{', '.join(sorted(names))}",
                EXIT_BAD_INPUT,
            )
    if not models and not backends:
        return sorted(known)
    return sorted(set(models) | {m for m, b in known.items() if b in backends})


token_app = typer.Typer(help="Create, list, revoke and rotate access tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _call(err: Console, open_service: Callable[[Settings], S], call: Callable[[S], T]) -> T:
    """Runs ``call`` on a service over the data folder; our errors become exit codes."""
    try:
        return call(open_service(Settings()))
    except (InvalidRequestError, NotFoundError, ConflictError) as exc:
        raise _fail(err, exc.message, EXIT_BAD_INPUT) from None
    except OpenReelError as exc:
        raise _fail(err, exc.message, EXIT_ERROR) from None


def _token_dict(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "principal_id": record.principal_id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": list(record.scopes),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
        "last_used_at": record.last_used_at,
    }


def _show_issued(err: Console, issued: IssuedToken, as_json: bool, verb: str) -> None:
    if as_json:
        out = _token_dict(issued.record) | {"token": issued.token}
        Console().print_json(json.dumps(out))
        return
    err.print(
        f"{verb} {issued.record.id} for [bold]{issued.principal.name}[/] "
        f"({issued.principal.role.value}; {' '.join(issued.record.scopes)}; expires "
        f"{_when(issued.record.expires_at)}), shown once:",
        highlight=False,
    )
    Console().print(issued.token, highlight=False)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp)) + " UTC"


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who the token is for (created if new).")],
    admin: Annotated[bool, typer.Option(help="Make a new principal an administrator.")] = False,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Allow only this (repeat): videos:read, videos:write, admin."),
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Lifetime in days (default: OPENREEL_TOKEN_DAYS).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Label shown in listings.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mint a token for NAME and print it once; only its keyed hash is stored."""
    err = Console(stderr=True)
    name = name.strip()
    if not name or len(name) > 100:
        raise _fail(err, f"name must be 1 to 100 characters; got {name!r}", EXIT_BAD_INPUT)
    issued = _call(
        err,
        open_auth,
        lambda auth: auth.issue(
            name,
            role=Role.ADMIN if admin else Role.USER,
            token_name=label,
            scopes=scope or None,
            days=days,
        ),
    )
    _show_issued(err, issued, as_json, "token")


@token_app.command("list")
def token_list(
    name: Annotated[str | None, typer.Argument(help="Only this principal's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens (never their secrets), oldest first."""
    err = Console(stderr=True)
    records = _call(err, open_auth, lambda auth: auth.tokens(name))
    if as_json:
        Console().print_json(json.dumps([_token_dict(r) for r in records]))
        return
    table = Table(
        Column("id", no_wrap=True), "label", "prefix", "scopes", "expires", "revoked", "last used"
    )
    for r in records:
        table.add_row(
            r.id,
            r.name,
            r.prefix + "...",
            " ".join(r.scopes),
            _when(r.expires_at),
            _when(r.revoked_at),
            _when(r.last_used_at),
        )
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_...), from `list`.")],
) -> None:
    """Revoke a token: its very next request fails."""
    err = Console(stderr=True)
    record = _call(err, open_auth, lambda auth: auth.revoke(token_id.strip()))
    err.print(f"revoked {record.id} ({record.name}) at {_when(record.revoked_at)}")


@token_app.command("rotate")
def token_rotate(
    token_id: Annotated[str, typer.Argument(help="The token to replace (tok_...).")],
    days: Annotated[float | None, typer.Option(help="Lifetime of the new token.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replace a token with a new one (same owner, label, scopes); the old one is revoked."""
    err = Console(stderr=True)
    issued = _call(err, open_auth, lambda auth: auth.rotate(token_id.strip(), days=days))
    _show_issued(err, issued, as_json, f"replaced {token_id.strip()} with")


def _scope(
    err: Console, model: str | None, principal: str | None, token: str | None
) -> tuple[PauseScope, str]:
    given = [(s, v) for s, v in (("model", model), ("principal", principal), ("token", token)) if v]
    if len(given) > 1:
        names = ", ".join(f"--{s}" for s, _ in given)
        raise _fail(
            err, f"name at most one of --model, --principal, --token; got {names}", EXIT_BAD_INPUT
        )
    if not given:
        return "all", ""
    scope, value = given[0]
    return scope, value  # type: ignore[return-value]  # one of the three literals above


ModelOpt = Annotated[str | None, typer.Option(help="Only this model.")]
PrincipalOpt = Annotated[str | None, typer.Option(help="Only this principal (by name).")]
TokenOpt = Annotated[str | None, typer.Option(help="Only this token (tok_...).")]


@app.command()
def pause(
    reason: Annotated[str, typer.Option(help="Why; shown to everyone refused.")],
    model: ModelOpt = None,
    principal: PrincipalOpt = None,
    token: TokenOpt = None,
    cancel_queued: Annotated[
        bool, typer.Option(help="Also cancel matching queued videos.")
    ] = False,
    cancel_running: Annotated[
        bool, typer.Option(help="Also stop matching running videos at their next step.")
    ] = False,
) -> None:
    """Kill switch: refuse new videos (all, or one model, principal or token) until resumed."""
    err = Console(stderr=True)
    scope, target = _scope(err, model, principal, token)
    outcome = _call(
        err,
        open_killswitch,
        lambda ks: ks.pause(
            scope,
            target,
            reason=reason,
            cancel_queued=cancel_queued,
            cancel_running=cancel_running,
        ),
    )
    err.print(
        f"paused {scope}{' ' + target if target else ''}: {outcome.pause.reason} "
        f"({outcome.cancelled_queued} queued cancelled, {outcome.stopping_running} running "
        "told to stop)",
        highlight=False,
    )


@app.command()
def resume(model: ModelOpt = None, principal: PrincipalOpt = None, token: TokenOpt = None) -> None:
    """Lift a pause set with `openreel pause` (the same options name it)."""
    err = Console(stderr=True)
    scope, target = _scope(err, model, principal, token)
    if not _call(err, open_killswitch, lambda ks: ks.resume(scope, target)):
        raise _fail(err, f"no pause in force for {scope} {target!r}", EXIT_BAD_INPUT)
    err.print(f"resumed {scope}{' ' + target if target else ''}", highlight=False)


@app.command()
def pauses(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the pauses in force."""
    err = Console(stderr=True)
    found = _call(err, open_killswitch, lambda ks: ks.pauses())
    if as_json:
        Console().print_json(json.dumps([dataclasses.asdict(p) for p in found]))
        return
    table = Table("scope", Column("target", no_wrap=True), "reason", "since")
    for p in found:
        table.add_row(p.scope, p.target or "-", p.reason, _when(p.created_at))
    Console().print(table)


artists_app = typer.Typer(
    help="The artists' opt-out registry: prompts asking for their style are refused.",
    no_args_is_help=True,
)
app.add_typer(artists_app, name="artists")


def _artist_dict(entry: ArtistEntry) -> dict[str, Any]:
    return entry.to_dict()


def _print_artist(out: Console, entry: ArtistEntry) -> None:
    choice = "allows style use" if entry.allow_style else "style refused"
    aliases = f" (also: {', '.join(entry.aliases)})" if entry.aliases else ""
    out.print(
        f"{entry.id}  {entry.name}{aliases}  [{entry.status}, {choice}]",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@artists_app.command("add")
def artists_add(
    name: Annotated[str, typer.Argument(help="The artist's name as they gave it.")],
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another name or spelling (repeatable).")
    ] = None,
    allow_style: Annotated[
        bool, typer.Option("--allow-style", help="The artist allows prompts in their style.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="Where the request came from.")] = None,
    contact: Annotated[str | None, typer.Option(help="How to reach the artist.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Register an artist; enforced from the next prompt on every server sharing the data."""
    err = Console(stderr=True)
    entry = _call(
        err,
        open_artists,
        lambda reg: reg.add(
            name, alias or [], allow_style=allow_style, source=source, contact=contact
        ),
    )
    if as_json:
        Console().print_json(json.dumps(_artist_dict(entry)))
    else:
        _print_artist(Console(), entry)


@artists_app.command("list")
def artists_list(
    status: Annotated[str | None, typer.Option(help="Only 'active' or 'pending' entries.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registry by name (pending entries are requests waiting for approval)."""
    err = Console(stderr=True)
    if status not in (None, "active", "pending"):
        raise _fail(err, f"--status must be active or pending; got {status!r}", EXIT_BAD_INPUT)
    found = _call(err, open_artists, lambda reg: reg.list(status=status))  # type: ignore[arg-type]
    if as_json:
        Console().print_json(json.dumps([_artist_dict(e) for e in found]))
        return
    out = Console()
    for entry in found:
        _print_artist(out, entry)
    if not found:
        err.print("the registry is empty", highlight=False)


@artists_app.command("set")
def artists_set(
    entry_id: Annotated[str, typer.Argument(help="The entry id (art_...).")],
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve a pending request (enforce it).")
    ] = False,
    allow_style: Annotated[
        bool | None,
        typer.Option("--allow-style/--refuse-style", help="The artist's choice about style use."),
    ] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Replace the aliases (repeatable).")
    ] = None,
) -> None:
    """Change an entry: approve a request, record the artist's choice, or set aliases."""
    err = Console(stderr=True)
    entry = _call(
        err,
        open_artists,
        lambda reg: reg.update(
            entry_id,
            aliases=alias,
            allow_style=allow_style,
            status="active" if approve else None,
        ),
    )
    _print_artist(Console(), entry)


@artists_app.command("remove")
def artists_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry id (art_...).")],
) -> None:
    """Remove an entry; their style is no longer refused."""
    err = Console(stderr=True)
    if not _call(err, open_artists, lambda reg: reg.remove(entry_id)):
        raise _fail(err, f"no artist opt-out {entry_id!r}", EXIT_BAD_INPUT)
    err.print(f"removed {entry_id}", highlight=False)


audit_app = typer.Typer(help="Read and check the tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

AnchorOpt = Annotated[
    Path | None,
    typer.Option(help="Anchor file (default: audit-head.json in the data folder)."),
]


@audit_app.command("verify")
def audit_verify(
    anchor: AnchorOpt = None,
    keep_anchor: Annotated[
        bool, typer.Option(help="Do not move the anchor to the newest row after a good check.")
    ] = False,
) -> None:
    """Check every row's hash and link, and the anchor; exit 1 if anything was tampered with."""
    err = Console(stderr=True)
    report = _call(
        err,
        lambda settings: open_audit(settings, anchor),
        lambda audit: audit.verify(update_anchor=not keep_anchor),
    )
    v = report.verification
    if not v.ok:
        raise _fail(err, f"audit log tampered: {v.reason}", EXIT_ERROR)
    against = "no anchor yet" if report.anchor is None else f"anchor at row {report.anchor.seq}"
    moved = "" if report.new_anchor is None else f"; anchor now at row {report.new_anchor.seq}"
    Console().print(f"ok: {v.rows_checked} rows checked ({against}){moved}", highlight=False)


@audit_app.command("list")
def audit_list(
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. token.revoked.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only rows about this id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the newest audit rows."""
    err = Console(stderr=True)
    rows = _call(
        err, open_audit, lambda audit: audit.list(action=action, target_id=target, limit=limit)
    )
    if as_json:
        Console().print_json(json.dumps([dataclasses.asdict(r) for r in rows]))
        return
    table = Table("seq", "when", "action", "outcome", "actor", Column("target", no_wrap=True))
    for r in rows:
        table.add_row(
            str(r.seq), _when(r.ts), r.action, r.outcome, r.actor_id or "-", r.target_id or "-"
        )
    Console().print(table)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="An MP4 to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Read a video's C2PA credentials: Trusted, Valid, Invalid or Missing, and what made it.

    Trusted means signed by this instance (or the operator's configured chain); Valid, a sound
    signature by someone else. Exits 0 for those two, 1 for Invalid or Missing.
    """
    err = Console(stderr=True)
    if not file.is_file():
        raise _fail(err, f"no such file: {str(file)!r}", EXIT_BAD_INPUT)
    try:
        provenance = signing(Settings())
    except OpenReelError as exc:
        raise _fail(err, exc.message, EXIT_ERROR) from None
    anchors = [] if provenance is None else [provenance.identity.anchor_pem]
    verdict = verify_mp4(file, trust_anchors=anchors)
    if as_json:
        Console().print_json(json.dumps(dataclasses.asdict(verdict), default=str))
    else:
        out = Console()
        out.print(f"[bold]{verdict.status}[/]", highlight=False)
        for name, value in (
            ("signed by", verdict.signer_common_name),
            ("organization", verdict.signer_organization),
            ("source type", verdict.digital_source_type),
            ("model", verdict.model),
            ("backend", verdict.backend),
            ("seed", verdict.seed),
        ):
            if value is not None:
                out.print(f"{name}: {value}", highlight=False)
        for message in verdict.messages:
            out.print(f"- {message}", highlight=False)
    if verdict.status not in ("Trusted", "Valid"):
        raise typer.Exit(EXIT_ERROR)


@app.command()
def version() -> None:
    """Print the OpenReel version."""
    Console().print(__version__)


def main() -> None:
    """Entry point of the ``openreel`` script."""
    try:
        app()
    except KeyboardInterrupt:
        Console(stderr=True).print("[bold red]error:[/] cancelled; no file was written")
        sys.exit(EXIT_INTERRUPTED)
