"""The ``gpu`` marker: GPU checks are deselected without RUN_GPU=1, never skipped as green."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\nmarkers =\n    gpu: needs a CUDA GPU\naddopts = --strict-markers\n")
    pytester.makepyfile(
        test_cases="""
import pytest

@pytest.mark.gpu
def test_needs_a_gpu():
    assert False, "ran"

def test_plain():
    pass
"""
    )


def test_gpu_tests_are_deselected_without_run_gpu(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUN_GPU", raising=False)
    _project(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    # Asking for the GPU tests alone then runs nothing, which pytest reports as a failure.
    only = pytester.runpytest_subprocess("-m", "gpu", "-p", "no:cacheprovider")
    assert only.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_gpu_tests_run_with_run_gpu(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUN_GPU", "1")
    _project(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
