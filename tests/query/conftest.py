import copy

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
