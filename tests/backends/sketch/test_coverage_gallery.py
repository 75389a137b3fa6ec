"""The coverage script over the prompt corpus, and the gallery script, run small and fast.

Both live in ``benchmarks/`` (scripts, not part of the package), so they are loaded from their
files; the coverage figure is checked against a corpus whose answer is known, so it is computed,
not quoted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


coverage = _script("coverage")
gallery = _script("gallery")

_HEADER = "prompt\tsubject\tplace\ttime\tweather\n"


def test_coverage_counts_what_the_plan_holds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text(
        "# a comment\n"
        + _HEADER
        + "a lighthouse on a stormy coast at dusk\tlighthouse\tcoast\tdusk\tstormy\n"
        + "a toaster in a kitchen at noon\ttoaster\tkitchen\tnoon\t-\n"
        + "snowy mountains at sunrise\tmountains\tmountains\tsunrise\t-\n"
        + "a sailboat on the sea\tship\tsea\t-\t-\n",
        encoding="utf-8",
    )
    report = coverage.measure(coverage.read_corpus(corpus))
    # The lighthouse is drawn; a toaster is not; "mountains" is a scene word, drawn as the
    # setting; a sailboat is not the ship that was asked for.
    assert (report.prompts, report.subject_drawn) == (4, 2)
    assert report.missing == {"toaster": 1, "ship": 1}
    assert (report.place_asked, report.place_understood) == (4, 3)  # no kitchen
    assert (report.time_asked, report.time_understood) == (3, 3)
    assert (report.weather_asked, report.weather_understood) == (1, 1)
    assert report.all_understood == 2
    assert report.to_dict()["subject_share"] == 0.5


def test_coverage_runs_on_a_slice_of_the_shipped_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    rows = coverage.read_corpus(coverage.CORPUS)
    assert len(rows) >= 300
    assert len({r.prompt for r in rows}) == len(rows)
    assert coverage.main(["--limit", "25", "--json"]) == 0
    out = capsys.readouterr().out
    report = coverage.measure(rows[:25])
    assert f'"subject_drawn": {report.subject_drawn}' in out
    assert 0 < report.subject_drawn <= 25


def test_coverage_refuses_a_malformed_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "bad.tsv"
    corpus.write_text(_HEADER + "a prompt\tdog\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="row 2 has 2 columns, expected 5"):
        coverage.read_corpus(corpus)


def test_gallery_writes_a_small_contact_sheet(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "sheet.png"
    assert gallery.main(["--out", str(out), "--thumb", "48x27", "--limit", "3"]) == 0
    image = np.asarray(Image.open(out).convert("RGB"))
    # Two cells across (three moments each), two rows of cells for three prompts.
    assert image.shape[1] > 2 * 3 * 48
    assert image.shape[0] > 2 * 27
    assert not list(out.parent.glob(".*partial"))
    thumbs = gallery.thumbnails(*gallery.PROMPTS[0], 48, 27)
    assert len(thumbs) == 3
    assert thumbs[0].shape == (27, 48, 3)
    assert not np.array_equal(thumbs[0], thumbs[2])  # the clip moves


def test_gallery_refuses_a_bad_thumbnail_size(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--thumb must be WIDTHxHEIGHT, got 'big'"):
        gallery.main(["--out", str(tmp_path / "x.png"), "--thumb", "big"])
    assert not (tmp_path / "x.png").exists()
