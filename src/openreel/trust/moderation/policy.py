"""The moderation policy file: categories, their patterns and exemplars, and the name lists.

The policy is data, not code, so an operator can tighten or relax it without a release: a TOML
file with one table per category (a reason shown to users, regular expressions, phrases to
ignore; for a category of the operator's own, semantic exemplars and a threshold) and the list of public figures. OpenReel ships a
default (``policy.toml`` beside this module); ``OPENREEL_MODERATION__POLICY`` points to another.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openreel.errors import ConfigurationError

__all__ = ["CategoryPolicy", "NameListPolicy", "Policy", "load_policy"]

Pattern = str | list[str]
"""A regular expression, or a list of them that must all match (a conjunction)."""


def _compile_all(patterns: list[Pattern]) -> None:
    for pattern in patterns:
        if not isinstance(pattern, str) and not pattern:
            raise ValueError("an all-of pattern list must hold at least one expression")
        for one in [pattern] if isinstance(pattern, str) else pattern:
            try:
                re.compile(one)
            except re.error as exc:
                raise ValueError(f"bad regular expression {one!r}: {exc}") from None


class CategoryPolicy(BaseModel):
    """One category of refused content.

    Attributes:
        reason: Why prompts of this category are refused, as the user reads it.
        patterns: Regular expressions (or all-of lists) matched against the normalised prompt.
        ignore: Harmless phrases removed before ``patterns`` run ("nude lipstick").
        exemplars: Sentences typical of the category, for the semantic check of a category
            the learned classifier does not know (an operator's own); ignored for the others.
        threshold: Cosine similarity to ``exemplars`` at or above which the semantic check
            refuses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1)
    patterns: list[Pattern] = []
    ignore: list[str] = []
    exemplars: list[str] = []
    threshold: float = Field(1.01, gt=0, le=1.01)

    @field_validator("patterns", "ignore")
    @classmethod
    def _regexes(cls, value: list[Pattern]) -> list[Pattern]:
        _compile_all(value)
        return value


class NameListPolicy(BaseModel):
    """People whose likeness the server does not generate.

    Attributes:
        category: Category reported for a match.
        reason: Shown to the user; ``{name}`` is replaced by the name as listed.
        names: One entry per person: the first spelling is how they are named in refusals,
            the rest are aliases.
        ignore: Phrases in which a listed name means something else ("King Charles spaniel"),
            blanked out before names are matched.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = "public_figure"
    reason: str = "{name} is a real person; this server does not generate real people's likeness."
    names: list[list[str]] = []
    ignore: list[str] = []

    @field_validator("ignore")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        _compile_all(list(value))
        return value


class Policy(BaseModel):
    """A whole moderation policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    categories: dict[str, CategoryPolicy] = {}
    public_figures: NameListPolicy = NameListPolicy()


def load_policy(path: Path | None = None) -> Policy:
    """Reads and checks a policy file (the shipped default when ``path`` is None).

    Raises:
        ConfigurationError: The file is missing, not TOML, or breaks the schema (the message
            names the file and the first problem).
    """
    try:
        if path is None:
            text = resources.files(__package__).joinpath("policy.toml").read_text("utf-8")
            where = "the built-in moderation policy"
        else:
            text = Path(path).read_text("utf-8")
            where = f"moderation policy {str(path)!r}"
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read moderation policy {str(path)!r}: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"moderation policy {str(path)!r} is not UTF-8 text (byte {exc.start})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where} is not valid TOML: {exc}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(f"{where}: {place}: {first['msg']}") from None
