"""The moderation policy file: the shipped default, custom files, and every way a file is unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from openreel.errors import ConfigurationError
from openreel.trust.moderation import Policy, load_policy

SHIPPED_CATEGORIES = [
    "sexual/minors",
    "minor_realistic",
    "sexual",
    "self-harm",
    "violence/graphic",
    "hate",
    "harassment",
    "illicit",
    "political_deception",
]

CUSTOM = """
version = 2

[categories."spoilers"]
reason = "No spoilers here."
patterns = ['(?<![a-z])ending of', ['(?<![a-z])who', 'killer']]
ignore = ['happy ending of']
exemplars = ["the twist at the end of the film revealed"]
threshold = 0.8

[public_figures]
category = "local_celebrity"
reason = "{name} asked us not to."
names = [["Jane Q. Example", "JQE"]]
"""


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_policy_shipped_default_loads() -> None:
    policy = load_policy()
    assert isinstance(policy, Policy)
    assert list(policy.categories) == SHIPPED_CATEGORIES
    for name, category in policy.categories.items():
        assert category.reason, name
        assert category.patterns, name
        # The classifier covers the built-in categories; exemplars are for an operator's own.
        assert category.exemplars == [], name
    assert policy.public_figures.category == "public_figure"
    assert "{name}" in policy.public_figures.reason
    assert ["Taylor Swift"] in policy.public_figures.names


def test_policy_shipped_public_figures_are_listed_once() -> None:
    firsts = [spellings[0] for spellings in load_policy().public_figures.names]
    repeated = sorted({name for name in firsts if firsts.count(name) > 1})
    assert repeated == []


def test_policy_custom_file_loads(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, CUSTOM))
    assert policy.version == 2
    assert list(policy.categories) == ["spoilers"]
    spoilers = policy.categories["spoilers"]
    assert spoilers.patterns == ["(?<![a-z])ending of", ["(?<![a-z])who", "killer"]]
    assert spoilers.ignore == ["happy ending of"]
    assert spoilers.threshold == 0.8
    assert policy.public_figures.category == "local_celebrity"
    assert policy.public_figures.names == [["Jane Q. Example", "JQE"]]


def test_policy_custom_file_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, '[categories.x]\nreason = "no"\n'))
    category = policy.categories["x"]
    assert category.patterns == []
    assert category.ignore == []
    assert category.exemplars == []
    assert category.threshold == 1.01  # never refuses semantically
    assert policy.public_figures.names == []


def test_policy_accepts_a_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, CUSTOM)
    assert load_policy(str(path)) == load_policy(path)  # type: ignore[arg-type]


def raises_naming(path: Path, *fragments: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        load_policy(path)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_policy_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "version = [\n")
    raises_naming(path, str(path), "not valid TOML")


def test_policy_unknown_key_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories.x]\nreason = "r"\npaterns = ["a"]\n')
    raises_naming(path, str(path), "categories.x.paterns")


def test_policy_unknown_top_level_key_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, "versoin = 1\n")
    raises_naming(path, str(path), "versoin")


def test_policy_unknown_public_figures_key_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[public_figures]\nnames = [["A B"]]\naliases = []\n')
    raises_naming(path, str(path), "public_figures.aliases")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patterns", "['(unclosed']"),
        ("patterns", "[['fine', '[unclosed']]"),
        ("ignore", "['a)']"),
    ],
)
def test_policy_bad_regex_names_the_field_and_pattern(
    tmp_path: Path, field: str, value: str
) -> None:
    path = write(tmp_path, f'[categories.x]\nreason = "r"\n{field} = {value}\n')
    message = raises_naming(path, str(path), f"categories.x.{field}", "bad regular expression")
    bad = {"['(unclosed']": "(unclosed", "[['fine', '[unclosed']]": "[unclosed", "['a)']": "a)"}
    assert bad[value] in message


@pytest.mark.parametrize("threshold", ["0", "-0.1", "1.5", "2"])
def test_policy_threshold_out_of_range_names_the_field(tmp_path: Path, threshold: str) -> None:
    path = write(tmp_path, f'[categories.x]\nreason = "r"\nthreshold = {threshold}\n')
    raises_naming(path, str(path), "categories.x.threshold")


@pytest.mark.parametrize("threshold", ["0.01", "1", "1.01"])
def test_policy_threshold_in_range_loads(tmp_path: Path, threshold: str) -> None:
    path = write(tmp_path, f'[categories.x]\nreason = "r"\nthreshold = {threshold}\n')
    assert load_policy(path).categories["x"].threshold == float(threshold)


def test_policy_empty_reason_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories.x]\nreason = ""\n')
    raises_naming(path, str(path), "categories.x.reason")


def test_policy_wrong_type_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[public_figures]\nnames = ["Taylor Swift"]\n')
    raises_naming(path, str(path), "public_figures.names")


def test_policy_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "policy.toml"
    raises_naming(path, str(path), "cannot read")


def test_policy_directory_instead_of_file_names_it(tmp_path: Path) -> None:
    raises_naming(tmp_path, str(tmp_path), "cannot read")


def test_policy_file_not_utf8_names_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[categories.x]\nreason = "café"\n'.encode("latin-1"))
    raises_naming(path, str(path))


def test_policy_empty_conjunction_is_refused(tmp_path: Path) -> None:
    # An all-of list with nothing in it matches every prompt (RuleCheck then refuses "a cat
    # asleep on a sofa"): the file must be refused instead.
    path = write(tmp_path, '[categories.x]\nreason = "r"\npatterns = [[]]\n')
    raises_naming(path, str(path), "categories.x.patterns")
