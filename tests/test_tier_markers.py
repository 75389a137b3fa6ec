"""The tier markers: tests/conftest.py marks each test from the fixtures it uses, and
``make test-fast`` leaves out every test that starts a server, a browser or takes long."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
CONFTEST = ROOT / "tests" / "conftest.py"

CASES = """
import pytest

pytest_plugins = ["pytester"]

@pytest.fixture
def postgres(): return "a PostgreSQL server"

@pytest.fixture
def redis_server(): return "a redis-server"

@pytest.fixture
def s3_server(): return "moto"

@pytest.fixture
def s3_bucket(s3_server): return "a bucket"

@pytest.fixture
def browser(): return "chromium"

@pytest.fixture
def studio(browser): return "a page"

@pytest.fixture
def live_server(): return "openreel serve"

@pytest.fixture(params=["sqlite", "postgresql"])
def api(request): return request.param

def test_plain(): pass
def test_database(postgres): pass
def test_api(api): pass
def test_limits(redis_server): pass
def test_bucket(s3_bucket): pass
def test_studio(studio): pass
def test_sdk(live_server): pass

@pytest.mark.slow
def test_long(): pass

def test_nested_run(pytester): pass
"""

REPORT = """
def pytest_collection_finish(session):
    for item in session.items:
        marks = sorted(m.name for m in item.iter_markers() if m.name != "parametrize")
        print("TIERS", item.name, ",".join(marks))
"""


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    markers = "\n".join(f"    {marker}" for marker in options["ini_options"]["markers"])
    pytester.makeini(f"[pytest]\nmarkers =\n{markers}\naddopts = --strict-markers\n")
    pytester.makepyfile(test_cases=CASES, report_tiers=REPORT)


def _fast_expression() -> str:
    found = re.search(r"^FAST\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found is not None, "the Makefile defines FAST, the test-fast marker expression"
    return found.group(1).strip()


def test_tiers_come_from_fixtures_and_the_postgresql_parameter(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess(
        "--co", "-q", "-p", "report_tiers", "-p", "no:cacheprovider"
    )
    tiers = {
        line.split()[1]: [*line.split(), ""][2]
        for line in result.outlines
        if line.startswith("TIERS ")
    }
    assert tiers == {
        "test_plain": "",
        "test_database": "postgres",
        "test_api[sqlite]": "",
        "test_api[postgresql]": "postgres",
        "test_limits": "redis",
        "test_bucket": "s3",
        "test_studio": "browser",
        "test_sdk": "server",
        "test_long": "slow",
        "test_nested_run": "slow",
    }


def test_fast_tier_keeps_only_what_needs_no_server(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess("-m", _fast_expression(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, deselected=8)  # test_plain and test_api[sqlite]
