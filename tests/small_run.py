"""The one copy of the small ``run_fral`` settings that the tests share.

A run with these settings (synthetic data of a few hundred rows, one epoch, one
attack step) ends in seconds. Tests change what they need with keyword
overrides; the ``small_run`` fixture (tests/conftest.py) hands out the same
function.
"""

import copy

SMALL_RUN = dict(
    initial_size=20,
    val_size=60,
    test_size=60,
    estimator_params={"max_epochs": 1, "attack_n_steps": 1},
    eval_attack=2,
    torch_threads=1,
    progress=False,
)


def small_run_settings(**overrides):
    """``run_fral`` keyword arguments: :data:`SMALL_RUN` updated with ``overrides``.

    Each call returns a fresh deep copy, so a test may change it freely.

    >>> small_run_settings(n_rounds=2, torch_threads=None)["n_rounds"]
    2
    """
    settings = copy.deepcopy(SMALL_RUN)
    settings.update(copy.deepcopy(overrides))
    return settings
