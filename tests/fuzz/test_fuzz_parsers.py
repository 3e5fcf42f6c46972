"""Bad input never crashes a parser or half-writes an import (hypothesis, a small budget
here; scripts/fuzz.py runs thousands of inputs per target, and atheris where it installs)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import targets

EXAMPLES = 50


@pytest.fixture(scope="module")
def fuzzing(tmp_path_factory):
    fz = targets.Fuzzing(tmp_path_factory.mktemp("fuzz"))
    yield fz
    fz.close()


@pytest.mark.parametrize("name", list(targets.TARGETS))
def test_bad_input_ends_in_a_clean_error_or_success(fuzzing, name):
    target, inputs = targets.strategies(fuzzing)[name]
    seen = {"ok": 0, "error": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def check(data: bytes) -> None:
        seen[target(fuzzing, data)] += 1

    check()
    assert seen["error"] > 0  # the inputs really were bad, and were refused cleanly
