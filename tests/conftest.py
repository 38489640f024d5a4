"""Fixtures shared by every test directory.

Markers: ``slow`` marks a test that takes about 2 s or more on an idle 2-core
machine; ``make test`` runs ``-m "not slow"`` on two workers (pytest-xdist) and
``make test-all`` runs everything.
"""

from pathlib import Path

import pytest

from .small_run import small_run_settings

TESTS = Path(__file__).resolve().parent

#: Tests parametrized over every strategy whose ``fal`` case takes seconds (FAL
#: refits a model for each candidate); the other strategies' cases stay fast.
FAL_IS_SLOW_IN = {
    TESTS / "query" / "test_common.py",
    TESTS / "query" / "test_skactiveml.py",
    TESTS / "reliability" / "test_properties.py",
}

#: Docstring examples that run a whole experiment (seconds each).
SLOW_DOCTESTS = {
    "skfral.experiment._runner.run_fral",
    "skfral.experiment._recorder.FRALRecorder",
}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` what a marker in the test file cannot reach: the ``fal``
    cases of the strategy-parametrized tests and the slow docstring examples."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and Path(item.path) in FAL_IS_SLOW_IN
            and "fal" in callspec.id.split("-")
        ):
            item.add_marker(pytest.mark.slow)
        elif isinstance(item, pytest.DoctestItem) and item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def small_run():
    """``small_run_settings``: call it with overrides to get small ``run_fral``
    settings, e.g. ``run_fral(data, ["random"], **small_run(n_rounds=1, budget=5))``."""
    return small_run_settings
