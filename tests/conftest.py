"""Fixtures shared by every test directory.

Markers: ``slow`` marks a test that takes about 2 s or more on an idle 2-core
machine; ``make test`` runs ``-m "not slow"`` on two workers (pytest-xdist) and
``make test-all`` runs everything.
"""

import pytest

from .small_run import small_run_settings


@pytest.fixture
def small_run():
    """``small_run_settings``: call it with overrides to get small ``run_fral``
    settings, e.g. ``run_fral(data, ["random"], **small_run(n_rounds=1, budget=5))``."""
    return small_run_settings
