"""The README and docs/ say only what OpenReel does: real settings, real commands, live links.

Documentation drifts silently when code changes; these checks read every user-facing document
and hold it to the code: each ``OPENREEL_*`` name is a setting ``Settings`` reads, every
setting appears in the operator's configuration table, each ``openreel ...`` command line
parses with the real command line, every relative link and ``#anchor`` resolves, and each
document in ``docs/`` opens with a contents list that covers its sections.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from pydantic import BaseModel
from typer.core import TyperGroup
from typer.exceptions import TyperException

from openreel.cli import app
from openreel.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *DOCS]
OPERATIONS = ROOT / "docs" / "operations.md"

README_MAX_LINES = 200
PENDING_DOCUMENTS = {Path("docs/architecture.md")}
"""Linked from the README's map before it is written; checked like the others once it exists."""

_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)\n.*?^```", re.M | re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_SETTING_NAME = re.compile(
    r"OPENREEL_[A-Z0-9_]*[A-Z0-9]|(?<![A-Za-z0-9_])__([A-Z][A-Z0-9_]*[A-Z0-9])"
)


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def _setting_names(model: type[BaseModel] = Settings, prefix: str = "OPENREEL_") -> set[str]:
    """Every environment variable Settings reads: one per leaf field, groups joined by ``__``."""
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        name = prefix + field_name.upper()
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _setting_names(annotation, name + "__")
        else:
            names.add(name)
    return names


def _named_settings(text: str) -> list[str]:
    """The settings a text names; a bare ``__FIELD`` belongs to the group named last before it."""
    named: list[str] = []
    group = ""
    for match in _SETTING_NAME.finditer(text):
        if match.group(1) is None:
            named.append(match.group(0))
            group = match.group(0).rpartition("__")[0] if "__" in match.group(0) else ""
        elif group:
            named.append(f"{group}__{match.group(1)}")
        else:
            named.append("__" + match.group(1))
    return named


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _headings(text: str, level: str = "#+") -> list[str]:
    prose = _FENCE.sub("", text)
    return [m.group(1) for m in re.finditer(rf"^{level} (.+)$", prose, re.M)]


def test_setting_helpers_can_fail() -> None:
    names = _setting_names()
    assert {"OPENREEL_DATA_DIR", "OPENREEL_CELERY__BROKER_URL", "OPENREEL_QUOTA__ADMINS"} <= names
    assert "OPENREEL_CELERY" not in names
    text = "`OPENREEL_QUOTA__SECONDS`, `__VIDEOS` and `OPENREEL_WORKERS`, `__NOPE`"
    assert _named_settings(text) == [
        "OPENREEL_QUOTA__SECONDS",
        "OPENREEL_QUOTA__VIDEOS",
        "OPENREEL_WORKERS",
        "__NOPE",
    ]
    assert (
        _slug("Following a video: polling and `/events`") == "following-a-video-polling-and-events"
    )
    assert _slug("Artists' opt-outs") == "artists-opt-outs"


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_documents_name_only_real_settings(document: Path) -> None:
    names = _setting_names()
    groups = {name.rpartition("__")[0] for name in names if "__" in name}
    unknown = sorted(
        {name for name in _named_settings(document.read_text()) if name not in names | groups}
    )
    assert unknown == []


def test_configuration_table_names_every_setting() -> None:
    text = OPERATIONS.read_text()
    table = text[text.index("\n## Configuration") :]
    named = set(_named_settings(table))
    assert len(named) > 20
    assert sorted(_setting_names() - named) == []


def _command_lines(text: str) -> list[str]:
    """``openreel ...`` command lines: in shell code blocks, indented blocks and inline code."""
    lines: list[str] = []
    blocks = "\n".join(m.group(0) for m in _SHELL_FENCE.finditer(text))
    indented = "\n".join(re.findall(r"^    (\S.*)$", _FENCE.sub("", text), re.M))
    for line in (blocks + "\n" + indented).splitlines():
        words = shlex.split(line, comments=True) if "openreel " in line else []
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words = words[1:]  # CUDA_VISIBLE_DEVICES=0 openreel worker ...
        if words and words[0] in ("openreel", ".venv/bin/openreel"):
            lines.append(shlex.join(words))
    for span in re.findall(r"`((?:\.venv/bin/)?openreel [^`]+)`", _FENCE.sub("", text)):
        lines.append(span)
    return lines


def _parse(line: str) -> None:
    """Parses a command line with the real CLI; raises the CLI's usage error if it does not."""
    command = typer.main.get_command(app)
    words = shlex.split(line)[1:]
    path = ["openreel"]
    while isinstance(command, TyperGroup) and words:
        sub = command.get_command(typer.Context(command), words[0])
        if sub is None:
            raise TyperException(f"no command {words[0]!r} under {' '.join(path)}")
        path.append(words.pop(0))
        command = sub
    if words:  # a bare command name in prose is a reference, not an invocation
        command.make_context(" ".join(path), words)


def test_command_checker_can_fail() -> None:
    _parse("openreel token create ci --scope videos:read --days 7")
    with pytest.raises(TyperException):
        _parse("openreel token mint alice")
    with pytest.raises(TyperException):
        _parse("openreel generate 'a boat' --length 5")
    assert _command_lines("    CUDA_VISIBLE_DEVICES=0 openreel worker --pool solo # gpu\n") == [
        "openreel worker --pool solo"
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_documented_commands_parse(document: Path) -> None:
    for line in _command_lines(document.read_text()):
        _parse(line)


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_links_and_anchors_resolve(document: Path) -> None:
    text = document.read_text()
    broken: list[str] = []
    for target in _LINK.findall(_FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path_part, _, anchor = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        if not path.exists():
            if path.relative_to(ROOT) not in PENDING_DOCUMENTS:
                broken.append(target)
            continue
        if (
            anchor
            and path.suffix == ".md"
            and anchor not in map(_slug, _headings(path.read_text()))
        ):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_documents_cite_nothing_outside_the_project(document: Path) -> None:
    text = document.read_text()
    assert "../shared" not in text
    assert "DESIGN.md" not in text


def test_readme_stays_short_and_maps_every_document() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    linked = {(README.parent / target).resolve() for target in _LINK.findall(text)}
    assert [doc.name for doc in DOCS if doc.resolve() not in linked] == []
    for pending in PENDING_DOCUMENTS:
        assert (ROOT / pending).resolve() in linked


@pytest.mark.parametrize("document", DOCS, ids=_ids(DOCS))
def test_each_document_opens_with_its_contents(document: Path) -> None:
    text = document.read_text()
    sections = _headings(text, "##")
    assert sections[:1] == ["Contents"]
    contents = text[text.index("## Contents") :].split("\n## ", 1)[0]
    listed = re.findall(r"\(#([^)]+)\)", contents)
    assert [_slug(section) for section in sections[1:]] == [
        anchor for anchor in listed if anchor in map(_slug, sections)
    ]
