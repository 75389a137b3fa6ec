"""The labelled corpus's prompts, as the training and its scoring read them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from openreel.trust.moderation.classifier import CORPUS_FILE

__all__ = ["Example", "load_corpus"]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt of the corpus."""

    prompt: str
    label: str
    topic: str
    lang: str
    author: str


def load_corpus(path: Path | None = None) -> list[Example]:
    """The corpus's prompts in file order (the shipped corpus when ``path`` is None)."""
    if path is None:
        text = resources.files(__package__).joinpath(CORPUS_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append(
                Example(
                    str(item["prompt"]),
                    str(item["label"]),
                    str(item.get("topic", item["label"])),
                    str(item.get("lang", "")),
                    str(item.get("author", "")),
                )
            )
    return rows
