"""The net inside scikit-learn (Pipeline, GridSearchCV, clone, pickle) and modAL."""

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfral  # noqa: F401  (applies the modAL shim)
from skfral.nn import (
    PGD,
    final_net,
    gradient_embedding,
    penultimate_embedding,
    split_estimator,
)

from .nn_helpers import standard_net


def small_net(**params):
    return standard_net(
        6, **{"max_epochs": 4, "adversarial": "pgd", "attack_n_steps": 2, **params}
    )


def test_pipeline(tabular):
    X, y = tabular
    X = X * 3 + 10
    pipe = make_pipeline(StandardScaler(), small_net()).fit(X, y)
    assert pipe.score(X, y) > 0.7
    assert pipe.predict_proba(X).shape == (len(X), 2)
    assert final_net(pipe) is pipe[-1]
    transform, net = split_estimator(pipe)
    assert_allclose(transform(X), pipe[0].transform(X))
    # embeddings go through the pipeline's transforms too
    assert_allclose(penultimate_embedding(pipe, X), net.embed(pipe[0].transform(X)))
    assert gradient_embedding(pipe, X).shape == (len(X), 2 * 32)


def test_grid_search(tabular):
    X, y = tabular
    search = GridSearchCV(
        small_net(max_epochs=2), {"attack_eps": [0.05, 0.2]}, cv=2
    ).fit(X, y)
    assert search.best_params_["attack_eps"] in (0.05, 0.2)
    assert search.best_estimator_.attack_eps == search.best_params_["attack_eps"]
    assert search.predict(X).shape == (len(X),)


def test_clone_keeps_every_setting():
    net = small_net(
        attack_eps=0.25,
        attack_norm="l2",
        trades_beta=3.0,
        adversarial="trades",
        attack_clip_min=-5.0,
        module__dropout=0.1,
    )
    twin = clone(net)
    params, twin_params = net.get_params(), twin.get_params()
    assert params.keys() == twin_params.keys()
    for key in (
        "attack_eps",
        "attack_norm",
        "trades_beta",
        "adversarial",
        "attack_clip_min",
        "module__dropout",
        "random_state",
        "attack_n_steps",
    ):
        assert twin_params[key] == params[key], key


def test_pickle_round_trip(tabular, fitted_net):
    X, y = tabular
    again = pickle.loads(pickle.dumps(fitted_net))
    assert_array_equal(again.predict_proba(X), fitted_net.predict_proba(X))
    attack = PGD(eps=0.2, random_state=0)
    assert_array_equal(attack.perturb(again, X, y), attack.perturb(fitted_net, X, y))
    unfitted = pickle.loads(pickle.dumps(small_net()))
    assert unfitted.get_params()["attack_n_steps"] == 2
    pipe = make_pipeline(StandardScaler(), small_net(max_epochs=1)).fit(X, y)
    assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict(X), pipe.predict(X))


# ------------------------------------------------------------------- modAL
@pytest.mark.parametrize("container", ["numpy", "dataframe"])
@pytest.mark.parametrize("adversarial", ["pgd", None])
def test_modal_active_learner_three_rounds(tabular, container, adversarial):
    from modAL.models import ActiveLearner
    from modAL.uncertainty import uncertainty_sampling

    X, y = tabular
    if container == "dataframe":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    take = (lambda A, i: A.iloc[i]) if container == "dataframe" else (lambda A, i: A[i])
    labelled = np.arange(20)
    pool = np.arange(20, len(y))
    learner = ActiveLearner(
        estimator=small_net(max_epochs=2, adversarial=adversarial),
        query_strategy=uncertainty_sampling,
        X_training=take(X, labelled),
        y_training=y[labelled],
    )
    for _ in range(3):
        idx, X_query = learner.query(take(X, pool), n_instances=5)
        assert len(set(idx.tolist())) == 5 and idx.max() < len(pool)
        learner.teach(X_query, y[pool[idx]])
        pool = np.delete(pool, idx)
    assert len(learner.X_training) == 35 and len(learner.y_training) == 35
    if container == "dataframe":
        assert isinstance(learner.X_training, pd.DataFrame)
    assert learner.predict_proba(take(X, pool)).shape == (len(pool), 2)
    assert 0.0 <= learner.score(take(X, pool), y[pool]) <= 1.0


def test_modal_uncertainty_on_an_unfitted_learner(tabular):
    """modAL catches NotFittedError from predict_proba: the net must raise it."""
    from modAL.models import ActiveLearner

    X, _ = tabular
    learner = ActiveLearner(estimator=small_net())
    idx, _ = learner.query(X, n_instances=3)
    assert len(idx) == 3
