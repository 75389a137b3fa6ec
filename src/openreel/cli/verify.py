"""``openreel verify``: read the C2PA credentials of an MP4 on disk and say who made it.

This instance's own signing anchor is trusted, so its videos read as Trusted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from openreel.cli.common import EXIT_BAD_INPUT, EXIT_ERROR, fail, print_json
from openreel.config import Settings
from openreel.errors import OpenReelError
from openreel.media.c2pa import ProvenanceVerdict, verify_mp4
from openreel.runtime import signing

__all__ = ["verify"]


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
        raise fail(err, f"no such file: {str(file)!r}", EXIT_BAD_INPUT)
    try:
        provenance = signing(Settings())
    except OpenReelError as exc:
        raise fail(err, exc.message, EXIT_ERROR) from None
    anchors = [] if provenance is None else [provenance.identity.anchor_pem]
    verdict = verify_mp4(file, trust_anchors=anchors)
    if as_json:
        print_json(dataclasses.asdict(verdict), default=str)
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
            ("made from", _parent(verdict)),
        ):
            if value is not None:
                out.print(f"{name}: {value}", highlight=False)
        for message in verdict.messages:
            out.print(f"- {message}", highlight=False)
    if verdict.status not in ("Trusted", "Valid"):
        raise typer.Exit(EXIT_ERROR)


def _parent(verdict: ProvenanceVerdict) -> str | None:
    """The source an edit or extension names as its parent, and whether it carried its own
    credentials (a video this server made does; most uploads do not)."""
    if verdict.parent is None:
        return None
    carried = "with" if verdict.parent_has_credentials else "without"
    return f"{verdict.parent} ({carried} credentials of its own)"
