"""``openreel generate``: render one video from a prompt on this machine, with a progress bar.

The request is checked before the bar appears, so a refusal is one clean line and no file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
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
from rich.text import Text

from openreel.cli.common import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_INTERRUPTED, fail, print_json
from openreel.config import Settings
from openreel.domain import GenerationResult, VideoRequest, parse_size
from openreel.errors import CancelledError, InvalidRequestError, OpenReelError
from openreel.media.encode import check_output_path
from openreel.runtime import Runtime, cli_moderation
from openreel.services.generation import PreviewPaths, render_video

__all__ = ["generate"]


class _FpsColumn(ProgressColumn):
    """Rendering speed in frames per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- fps" if speed is None else f"{speed:5.1f} fps", style="cyan")


def _default_output(request: VideoRequest) -> Path:
    words = re.findall(r"[a-z0-9]+", request.prompt.lower())[:6]
    slug = "-".join(words) or "video"
    return Path(f"{slug}-{request.seed}.mp4")


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
    audio: Annotated[
        bool | None,
        typer.Option(
            "--audio/--no-audio",
            help="With or without sound (default: with, wherever the model makes sound).",
            show_default=False,
        ),
    ] = None,
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
            audio=audio,
        ).with_seed()
        moderation = cli_moderation(settings)
        if moderation is not None:
            moderation.screen(request.prompt)
        runtime = Runtime.from_settings(settings)
        backend = runtime.registry.for_model(request.model)
        request = request.with_audio(backend.capabilities(request.model).audio)
        target = output if output is not None else _default_output(request)
        backend.check(request)  # before the progress bar appears, so a refusal is one clean line
        check_output_path(target)
        result = _run(runtime, backend, request, target, previews=previews, quiet=as_json, err=err)
    except InvalidRequestError as exc:
        raise fail(err, exc.message, EXIT_BAD_INPUT) from None
    except (KeyboardInterrupt, CancelledError):
        raise fail(err, "cancelled; no file was written", EXIT_INTERRUPTED) from None
    except OpenReelError as exc:
        raise fail(err, exc.message, EXIT_ERROR) from None
    if as_json:
        print_json(result.to_dict())
        return
    video = result.video
    sound = "with sound" if result.request.audio else "silent"
    out.print(
        f"[green]✓[/] wrote [bold]{video.path}[/] ({video.size_bytes / 1e6:.1f} MB, {result.frames} frames, "
        f"{result.request.size} @ {result.request.fps} fps, {sound}) in {result.render_seconds:.1f} s",
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
