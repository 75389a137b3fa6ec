"""Coverage: how much of what people ask for the sketch engine draws, over a prompt corpus.

Reads ``benchmarks/prompts/sketch_corpus.tsv`` (prompts as people write them for text-to-video,
each annotated with its main subject, place, time and weather as everyday words) and reads every
prompt into the engine's plan. It prints:

- the share of prompts whose **main subject is drawn**;
- for the prompts that name a place, a time or a weather, the share where the plan has it;
- the share where all of those hold at once;
- the subjects asked for most that the engine does not draw.

What counts as drawn is decided by the engine itself, fairly: an annotated word is read alone
("dog"), and the prompt's plan must hold what that word alone gives (the same subject kind, or
for a scene word like "mountains" the same setting). A word the engine does not know alone is
not drawn, whatever else the plan holds. The annotations are written from the prompts, never
from the engine's vocabulary, so the figure can go down as well as up.

Run: ``.venv/bin/python benchmarks/coverage.py [--corpus PATH] [--limit N] [--json]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from openreel.backends.sketch.plan import ScenePlan
from openreel.backends.sketch.understand import understand

CORPUS = Path(__file__).parent / "prompts" / "sketch_corpus.tsv"
NONE = "-"


@dataclass(frozen=True, slots=True)
class Row:
    """One annotated prompt."""

    prompt: str
    subject: str
    place: str
    time: str
    weather: str


@dataclass(slots=True)
class Report:
    """The coverage of one corpus (shares are 0..1; counts name their denominators)."""

    prompts: int = 0
    subject_drawn: int = 0
    place_asked: int = 0
    place_understood: int = 0
    time_asked: int = 0
    time_understood: int = 0
    weather_asked: int = 0
    weather_understood: int = 0
    all_understood: int = 0
    missing: Counter[str] = field(default_factory=Counter)

    def share(self, hits: int, total: int) -> float:
        return hits / total if total else 0.0

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["missing"] = self.missing.most_common()
        data["subject_share"] = self.share(self.subject_drawn, self.prompts)
        data["place_share"] = self.share(self.place_understood, self.place_asked)
        data["time_share"] = self.share(self.time_understood, self.time_asked)
        data["weather_share"] = self.share(self.weather_understood, self.weather_asked)
        data["all_share"] = self.share(self.all_understood, self.prompts)
        return data


def read_corpus(path: Path) -> list[Row]:
    """The annotated prompts of a corpus file (``#`` lines are comments; one header line)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    body = [line for line in lines if not line.startswith("#")]
    reader = csv.reader(body[1:], delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = []
    for number, cells in enumerate(reader, start=2):
        if len(cells) != 5:
            raise SystemExit(f"{path}: row {number} has {len(cells)} columns, expected 5")
        rows.append(Row(*(c.strip() for c in cells)))
    return rows


def subject_drawn(plan: ScenePlan, word: str) -> bool:
    """Whether ``plan`` draws what ``word``, read alone, means to the engine."""
    alone = understand(word)
    if alone.subjects:
        return any(plan.has(s.kind) for s in alone.subjects)
    # A scene word ("mountains", "a storm", "the stars"): the aspect it sets must be in the plan.
    for aspect in ("setting", "weather", "time_of_day"):
        if aspect in alone.matched:
            return getattr(plan, aspect) is getattr(alone, aspect)
    return False


def aspect_understood(plan: ScenePlan, word: str, aspect: str) -> bool:
    """Whether the plan's ``aspect`` is what ``word`` alone gives (False if the engine does not
    know the word)."""
    alone = understand(word)
    return aspect in alone.matched and getattr(plan, aspect) is getattr(alone, aspect)


def measure(rows: list[Row]) -> Report:
    """Reads every prompt and tallies what its plan holds."""
    report = Report()
    for row in rows:
        plan = understand(row.prompt)
        report.prompts += 1
        ok = subject_drawn(plan, row.subject)
        if ok:
            report.subject_drawn += 1
        else:
            report.missing[row.subject] += 1
        everything = ok
        for word, aspect, asked, hit in (
            (row.place, "setting", "place_asked", "place_understood"),
            (row.time, "time_of_day", "time_asked", "time_understood"),
            (row.weather, "weather", "weather_asked", "weather_understood"),
        ):
            if word == NONE:
                continue
            setattr(report, asked, getattr(report, asked) + 1)
            if aspect_understood(plan, word, aspect):
                setattr(report, hit, getattr(report, hit) + 1)
            else:
                everything = False
        if everything:
            report.all_understood += 1
    return report


def _print(report: Report, top: int) -> None:
    def line(name: str, hits: int, total: int) -> None:
        print(f"{name:<34} {hits:>4} / {total:<4} {report.share(hits, total):6.1%}")

    line("main subject drawn", report.subject_drawn, report.prompts)
    line("place understood (where named)", report.place_understood, report.place_asked)
    line("time understood (where named)", report.time_understood, report.time_asked)
    line("weather understood (where named)", report.weather_understood, report.weather_asked)
    line("all of the above", report.all_understood, report.prompts)
    print(f"\nmost-asked subjects not drawn (of {sum(report.missing.values())} prompts):")
    for word, count in report.missing.most_common(top):
        print(f"  {count:>3}  {word}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    parser.add_argument("--top", type=int, default=25, help="missing subjects to list")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    rows = read_corpus(args.corpus)
    if args.limit:
        rows = rows[: args.limit]
    report = measure(rows)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        _print(report, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
