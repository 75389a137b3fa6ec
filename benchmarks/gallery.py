"""Gallery: a contact sheet of what the sketch engine makes, for people deciding to install it.

Renders a fixed set of prompts and seeds with the engine itself (the plan read from the prompt,
the renderer at the clip's size and frame rate) and lays out three moments of each clip, its
start, middle and end, under the prompt, into ``docs/sketch_gallery.png``, which the README
shows. Rerun it whenever the engine changes how a scene looks, so the picture stays true.

The sheet is kept small (under 1.5 MB) by its thumbnails' size alone: they are rendered at
twice their size and reduced (smooth edges), and written as a plain RGB PNG; a palette PNG would
be a quarter the size but bands the skies' soft gradients into rings.

Run: ``.venv/bin/python benchmarks/gallery.py [--out PATH] [--thumb 320x180]``.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from openreel.backends.sketch.render import SceneRenderer
from openreel.backends.sketch.understand import understand

OUT = Path(__file__).resolve().parent.parent / "docs" / "sketch_gallery.png"
SECONDS, FPS = 8, 24
MOMENTS = (0.0, 0.5, 1.0)  # start, middle, end of each clip

PROMPTS: list[tuple[str, int]] = [
    ("a lighthouse on a stormy coast at dusk, slow push-in", 7),
    ("a red fox running through a snowy forest at dawn", 11),
    ("an astronaut riding a horse on mars", 5),
    ("an astronaut walking on the moon, static shot", 3),
    ("a dog playing fetch in a park on a sunny afternoon", 21),
    ("a dragon flying over a medieval castle", 8),
    ("a cyclist riding along a country road in autumn, golden hour", 4),
    ("a tent and a campfire in a pine forest at night", 9),
    ("a red hot-air balloon over a desert at dawn, slow pan right", 580879799),
    ("kites flying over a field of flowers on a spring day", 12),
    ("fireworks over the city skyline at night", 2),
    ("a robot walking through a futuristic city in the rain", 6),
    ("a dog running past a dancing woman in a meadow", 14),
    ("zebras and a giraffe on the savanna at sunset", 3),
    ("penguins waddling on the ice on a snowy day", 5),
]

_BG = (18, 20, 26)
_INK = (228, 230, 236)
_DIM = (150, 156, 170)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--thumb must be WIDTHxHEIGHT, got {text!r}") from None
    if w < 16 or h < 9:
        raise SystemExit(f"--thumb must be at least 16x9, got {text!r}")
    return w, h


def thumbnails(prompt: str, seed: int, width: int, height: int) -> list[npt.NDArray[np.uint8]]:
    """Three moments of the clip the engine makes for ``prompt`` and ``seed``, as RGB thumbs."""
    frames = SECONDS * FPS
    renderer = SceneRenderer(
        understand(prompt), width=2 * width, height=2 * height, fps=FPS, frames=frames, seed=seed
    )
    out = []
    for moment in MOMENTS:
        frame = renderer.render(round(moment * (frames - 1)))
        out.append(np.asarray(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)))
    return out


def _caption(
    text: str, width: int, height: int, color: tuple[int, int, int]
) -> npt.NDArray[np.uint8]:
    strip = np.full((height, width, 3), _BG, np.uint8)
    scale = height / 44
    font = cv2.FONT_HERSHEY_SIMPLEX
    while text and cv2.getTextSize(text, font, scale, 1)[0][0] > width - 8:
        text = text[:-2] + "…"
    shown = text.replace("…", "...")
    cv2.putText(strip, shown, (4, int(height * 0.72)), font, scale, color, 1, cv2.LINE_AA)
    return strip


def contact_sheet(
    prompts: list[tuple[str, int]], width: int, height: int, per_row: int = 2
) -> npt.NDArray[np.uint8]:
    """The sheet: for each prompt its caption above its three moments, ``per_row`` across."""
    gap = max(2, width // 40)
    caption = max(12, height // 7)
    cell_w = len(MOMENTS) * width + (len(MOMENTS) - 1) * gap
    cells = []
    for prompt, seed in prompts:
        thumbs = thumbnails(prompt, seed, width, height)
        row = np.full((height, cell_w, 3), _BG, np.uint8)
        for i, thumb in enumerate(thumbs):
            row[:, i * (width + gap) : i * (width + gap) + width] = thumb
        title = _caption(f'"{prompt}"  seed {seed}', cell_w, caption, _INK)
        cells.append(np.concatenate([title, row], axis=0))
    while len(cells) % per_row:
        cells.append(np.full_like(cells[0], _BG))
    pad = np.full((cells[0].shape[0], 3 * gap, 3), _BG, np.uint8)
    rows = []
    for k in range(0, len(cells), per_row):
        parts = []
        for cell in cells[k : k + per_row]:
            parts.extend([cell, pad])
        rows.append(np.concatenate(parts[:-1], axis=1))
        rows.append(np.full((2 * gap, rows[-1].shape[1], 3), _BG, np.uint8))
    sheet = np.concatenate(rows[:-1], axis=0)
    header = _caption(
        "openreel-sketch: start, middle and end of each clip (benchmarks/gallery.py)",
        sheet.shape[1],
        caption,
        _DIM,
    )
    return np.concatenate([header, sheet], axis=0)


def write_png(sheet: npt.NDArray[np.uint8], out: Path) -> int:
    """Writes the sheet as a PNG next to ``out``, then renames it into place; returns its size."""
    image = Image.fromarray(sheet, "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    partial.replace(out)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--thumb", default="256x144", help="thumbnail size, WIDTHxHEIGHT")
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    args = parser.parse_args(argv)
    width, height = _size(args.thumb)
    prompts = PROMPTS[: args.limit] if args.limit else PROMPTS
    size = write_png(contact_sheet(prompts, width, height), args.out)
    print(f"{args.out}: {len(prompts)} prompts, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
