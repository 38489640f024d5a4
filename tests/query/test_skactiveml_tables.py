"""to_skactiveml with a raw table (issue 24, item 7): a DataFrame with a text
column reaches a Pipeline that encodes it; anything that cannot encode it is
refused at once, naming the fix (before: a silent fallback, then
"could not convert string to float")."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skfral.datasets import make_tabular_preprocessor
from skfral.nn import MLP, RobustNeuralNetClassifier
from skfral.query import EntropySampling, to_skactiveml

skactiveml = pytest.importorskip("skactiveml")
from skactiveml.classifier import SklearnClassifier  # noqa: E402


@pytest.fixture(scope="module")
def table():
    rng = np.random.RandomState(0)
    n = 60
    X = pd.DataFrame(
        {"income": rng.randn(n), "city": rng.choice(["north", "south", "east"], n)},
        index=rng.permutation(np.arange(100, 100 + n)),  # not 0..n-1: by position
    )
    y_true = ((X["income"] > 0) ^ (X["city"] == "east")).astype(float).to_numpy()
    y = np.full(n, np.nan)
    y[:15] = y_true[:15]
    return X, y


def _net(n_features):
    return RobustNeuralNetClassifier(
        MLP, module__n_features=n_features, max_epochs=2, attack_n_steps=1,
        random_state=0,
    )  # fmt: skip


def _pipe(X):
    n_features = make_tabular_preprocessor(X).fit_transform(X).shape[1]
    return make_pipeline(make_tabular_preprocessor(X), _net(n_features))


def _entropy_picks_by_hand(pipe, X, y, rows, k):
    """Fit a clone on the labelled rows, rank ``rows`` by predictive entropy."""
    labelled = ~np.isnan(y)
    fitted = clone(pipe).fit(X.iloc[np.flatnonzero(labelled)], y[labelled])
    proba = fitted.predict_proba(X.iloc[rows])
    entropy = -(proba * np.log(np.clip(proba, 1e-12, 1))).sum(axis=1)
    return sorted(np.asarray(rows)[np.argsort(-entropy, kind="stable")[:k]])


def test_a_pipeline_with_the_tabular_preprocessor_gets_the_raw_table(table):
    X, y = table
    pipe = _pipe(X)
    qs = to_skactiveml(EntropySampling(random_state=0))
    picks = qs.query(X, y, pipe, batch_size=3)
    unlabelled = np.flatnonzero(np.isnan(y))
    assert sorted(picks) == _entropy_picks_by_hand(pipe, X, y, unlabelled, 3)
    assert not hasattr(pipe[-1], "module_")  # clf itself was not fitted


@pytest.mark.slow
def test_raw_table_candidates_as_indices_or_as_a_dataframe(table):
    X, y = table
    pipe = _pipe(X)
    qs = to_skactiveml(EntropySampling(random_state=0))
    cand = np.arange(20, 40)
    picks = qs.query(X, y, pipe, batch_size=2, candidates=cand)
    assert sorted(picks) == _entropy_picks_by_hand(pipe, X, y, cand, 2)
    samples = qs.query(X, y, pipe, batch_size=2, candidates=X.iloc[20:40])
    assert sorted(samples) == sorted(np.asarray(picks) - 20)


def test_a_net_without_an_encoder_is_refused_at_once_with_the_fix(table):
    X, y = table
    qs = to_skactiveml(EntropySampling(random_state=0))
    with pytest.raises(ValueError, match=r"\['city'\].*make_tabular_preprocessor"):
        qs.query(X, y, _net(4), batch_size=3)


def test_a_wrapped_pipeline_is_refused_at_once_with_the_fix(table):
    X, y = table
    qs = to_skactiveml(EntropySampling(random_state=0))
    wrapped = SklearnClassifier(_pipe(X), classes=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"\['city'\].*pass the Pipeline itself"):
        qs.query(X, y, wrapped, batch_size=3)


def test_array_candidates_with_a_table_are_refused(table):
    X, y = table
    qs = to_skactiveml(EntropySampling(random_state=0))
    with pytest.raises(TypeError, match="candidate samples as a DataFrame"):
        qs.query(X, y, _pipe(X), batch_size=2, candidates=X.iloc[:5].to_numpy())
