"""``GET /v1/studio/limits``: the studio reads the server's limits instead of writing its own.

The endpoint's values are checked against the constants and settings that enforce them, and
the studio's own files are checked for hard-coded copies of those limits, so a limit changed
on the server cannot silently disagree with what the page checks and shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tests.api.conftest import Api

from openreel.api.routes.studio import STUDIO_DIR
from openreel.domain import MAX_PROMPT_CHARS
from openreel.media.images import IMAGE_TYPES, MAX_IMAGE_BYTES
from openreel.media.previews import (
    SPRITESHEET_COLUMNS,
    SPRITESHEET_TILE_WIDTH,
    SPRITESHEET_TILES,
    PreviewCollector,
)


def test_limits_are_the_servers_own(api: Api) -> None:
    response = api.client.get("/v1/studio/limits")  # no token: the page reads them at start
    assert response.status_code == 200, response.text
    assert response.json() == {
        "object": "studio.limits",
        "prompt_max_chars": MAX_PROMPT_CHARS,
        "image_max_bytes": MAX_IMAGE_BYTES,
        "image_types": list(IMAGE_TYPES),
        "upload_max_bytes": api.server.settings.max_body_bytes,
        "spritesheet": {
            "tiles": SPRITESHEET_TILES,
            "columns": SPRITESHEET_COLUMNS,
            "tile_width": SPRITESHEET_TILE_WIDTH,
        },
    }
    assert set(IMAGE_TYPES) == {"image/png", "image/jpeg", "image/webp"}


def test_limits_follow_the_settings(make_api: Callable[..., Api]) -> None:
    api = make_api(max_body_bytes=300_000)
    assert api.client.get("/v1/studio/limits").json()["upload_max_bytes"] == 300_000


def test_spritesheet_geometry_is_what_previews_are_made_with(tmp_path: Path) -> None:
    collector = PreviewCollector(total_frames=100)
    for index in range(100):
        if collector.wants(index):
            collector.add(index, np.zeros((90, 160, 3), dtype=np.uint8))
    layout = collector.write_spritesheet(tmp_path / "spritesheet.jpg")
    assert (layout.tiles, layout.columns, layout.tile_width) == (
        SPRITESHEET_TILES,
        SPRITESHEET_COLUMNS,
        SPRITESHEET_TILE_WIDTH,
    )


def _hard_coded(folder: Path) -> set[str]:
    """Lines of the studio's page and scripts that write one of the server's limits down."""
    values = sorted({MAX_PROMPT_CHARS, MAX_IMAGE_BYTES, SPRITESHEET_TILE_WIDTH})
    copies = re.compile(
        # A limit's value, a size written as arithmetic ("8 * 1024 * 1024"), a size in words
        # ("at most 8 MB"), or a length limit written on a prompt field of the page. A number
        # in a name ("SHA-256") is no limit.
        r"(?<![\w-])(?:" + "|".join(map(str, values)) + r")\b"
        r"|\b\d+\s*\*\s*1024\b"
        r"|\b\d+\s*MB\b"
        r"|id=\"(?:prompt|negative|remix-prompt|extend-prompt)\"[^>]*maxlength"
    )
    files = sorted([*folder.glob("*.js"), folder / "index.html"])
    return {
        f"{path.name}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if copies.search(line)
    }


def test_the_studio_hard_codes_none_of_the_servers_limits() -> None:
    assert len(list(STUDIO_DIR.glob("*.js"))) >= 8  # app.js and the modules it boots
    assert _hard_coded(STUDIO_DIR) == set()


def test_the_hard_coded_limit_check_finds_copies(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<textarea id="prompt" rows="3" maxlength="4000"></textarea>\n<p>Up to 1920x1080</p>\n'
    )
    (tmp_path / "app.js").write_text(
        f"const MAX_PROMPT = {MAX_PROMPT_CHARS};\n"
        "const MAX_IMAGE_BYTES = 8 * 1024 * 1024;\n"
        "const hint = 'PNG, at most 8 MB.';\n"
        f"const SPRITE_TILE_WIDTH = {SPRITESHEET_TILE_WIDTH};\n"
        "const fine = 1048576;\n"
        f"const named = 'SHA-{SPRITESHEET_TILE_WIDTH}';\n"
    )
    assert {line.split(":")[0] + ":" + line.split(":")[1] for line in _hard_coded(tmp_path)} == {
        "index.html:1",
        "app.js:1",
        "app.js:2",
        "app.js:3",
        "app.js:4",
    }
