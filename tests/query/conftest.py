import copy
from pathlib import Path

import pytest

from .query_helpers import make_data, make_net


@pytest.fixture(scope="session")
def fral_data():
    X, y, s = make_data()
    return {
        "X_lab": X[:30],
        "y_lab": y[:30],
        "X_val": X[30:90],
        "y_val": y[30:90],
        "s_val": s[30:90],
        "X_pool": X[90:],
        "y_pool": y[90:],
        "s_pool": s[90:],
    }


@pytest.fixture(scope="session")
def _fitted_learner(fral_data):
    from modAL.models import ActiveLearner

    return ActiveLearner(
        estimator=make_net(),
        X_training=fral_data["X_lab"],
        y_training=fral_data["y_lab"],
    )


@pytest.fixture
def learner(_fitted_learner):
    return copy.deepcopy(_fitted_learner)


_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """FAL refits a model for every candidate: each common-contract test on it
    (test_common, test_skactiveml) takes seconds, so those are ``slow``; FAL's
    known-answer tests stay in the fast suite."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and Path(item.path).parent == _HERE
            and Path(item.path).name in ("test_common.py", "test_skactiveml.py")
            and "fal" in callspec.id.split("-")
        ):
            item.add_marker(pytest.mark.slow)
