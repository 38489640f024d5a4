"""Worst-group scorers: direct calls, GridSearchCV with metadata routing."""

import numpy as np
import pytest
import sklearn
from fairlearn.metrics import MetricFrame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfral.metrics import (
    WorstGroupScorer,
    make_worst_group_scorer,
    worst_group_robust_accuracy_scorer,
    worst_group_standard_accuracy_scorer,
)
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier


class CountingAttack:
    def __init__(self, attack):
        self.attack = attack
        self.n_calls = 0

    def perturb(self, net, X, y=None):
        self.n_calls += 1
        self.X, self.y = np.array(X, copy=True), np.array(y)
        self.X_adv = self.attack.perturb(net, X, y)
        return self.X_adv


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(48, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    group = np.where(rng.rand(48) < 0.4, "min", "maj")
    return X, y, group


def tiny_net(**params):
    return RobustNeuralNetClassifier(
        MLP,
        module__n_features=4,
        adversarial=None,
        max_epochs=2,
        random_state=0,
        **params,
    )


@pytest.fixture(scope="module")
def net(data):
    X, y, _ = data
    return tiny_net().fit(X, y)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield
    assert not sklearn.get_config()["enable_metadata_routing"]


def test_standard_scorer_equals_metric_frame(net, data):
    X, y, group = data
    mf = MetricFrame(
        metrics={"acc": accuracy_score, "bal": balanced_accuracy_score},
        y_true=y,
        y_pred=net.predict(X),
        sensitive_features=group,
    )
    score = worst_group_standard_accuracy_scorer(net, X, y, sensitive_features=group)
    assert score == pytest.approx(mf.group_min()["acc"])
    balanced = make_worst_group_scorer("standard", balanced=True)
    assert balanced(net, X, y, sensitive_features=group) == pytest.approx(
        mf.group_min()["bal"]
    )


def test_robust_scorer_equals_metric_frame_one_attack(net, data):
    X, y, group = data
    attack = CountingAttack(PGD(eps=0.3, n_steps=2, random_state=0))
    scorer = make_worst_group_scorer("robust", attack=attack)
    score = scorer(net, X, y, sensitive_features=group)
    assert attack.n_calls == 1
    np.testing.assert_array_equal(attack.y, y)
    mf = MetricFrame(
        metrics=accuracy_score,
        y_true=y,
        y_pred=net.predict(attack.X_adv),
        sensitive_features=group,
    )
    assert score == pytest.approx(mf.group_min())
    ready_attack = worst_group_robust_accuracy_scorer._attack
    assert (ready_attack.eps, ready_attack.n_steps) == (
        0.1,
        20,
    )  # FRAL's evaluation PGD-20
    ready = worst_group_robust_accuracy_scorer(
        net, X[:12], y[:12], sensitive_features=group[:12]
    )
    assert 0.0 <= ready <= 1.0


def test_robust_scorer_on_pipeline_attacks_transformed_inputs(data):
    X, y, group = data
    X = X * 3 + 1
    pipe = make_pipeline(StandardScaler(), tiny_net()).fit(X, y)
    attack = CountingAttack(PGD(eps=0.3, n_steps=2, random_state=0))
    score = make_worst_group_scorer("robust", attack=attack)(
        pipe, X, y, sensitive_features=group
    )
    np.testing.assert_allclose(attack.X, pipe[0].transform(X), rtol=1e-5)
    mf = MetricFrame(
        metrics=accuracy_score,
        y_true=y,
        y_pred=pipe[-1].predict(attack.X_adv),
        sensitive_features=group,
    )
    assert score == pytest.approx(mf.group_min())


def test_grid_search_routes_sensitive_features(data, routing):
    X, y, group = data
    scorer = make_worst_group_scorer("standard").set_score_request(
        sensitive_features=True
    )
    search = GridSearchCV(
        tiny_net(), {"lr": [0.01, 0.05]}, cv=StratifiedKFold(2), scoring=scorer
    ).fit(X, y, sensitive_features=group)
    assert search.best_params_["lr"] in (0.01, 0.05)
    # the first fold's score, recomputed by hand with that fold's groups
    train, test = next(StratifiedKFold(2).split(X, y))
    est = clone(tiny_net()).set_params(lr=0.01).fit(X[train], y[train])
    expected = MetricFrame(
        metrics=accuracy_score,
        y_true=y[test],
        y_pred=est.predict(X[test]),
        sensitive_features=group[test],
    ).group_min()
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


def test_grid_search_multimetric_with_ready_scorers(data, routing):
    X, y, group = data
    scoring = {
        "wg_standard": worst_group_standard_accuracy_scorer,
        "wg_robust": make_worst_group_scorer(
            "robust", attack=PGD(eps=0.3, n_steps=2, random_state=0)
        ),
        "accuracy": "accuracy",
    }
    search = GridSearchCV(
        tiny_net(), {"lr": [0.01, 0.05]}, cv=2, scoring=scoring, refit="wg_robust"
    ).fit(X, y, sensitive_features=group)
    results = search.cv_results_
    for name in scoring:
        scores = results[f"mean_test_{name}"]
        assert np.all((scores >= 0) & (scores <= 1))
    assert np.all(
        results["mean_test_wg_standard"] <= results["mean_test_accuracy"] + 1e-12
    )


def test_score_request_alias(data, routing):
    X, y, group = data
    scorer = make_worst_group_scorer("standard").set_score_request(
        sensitive_features="groups_"
    )
    search = GridSearchCV(tiny_net(), {"lr": [0.01]}, cv=2, scoring=scorer)
    search.fit(X, y, groups_=group)
    assert np.isfinite(search.best_score_)


def test_scorer_errors(net, data):
    X, y, group = data
    with pytest.raises(ValueError, match="sensitive_features is required"):
        worst_group_standard_accuracy_scorer(net, X, y)
    with pytest.raises(TypeError, match="attack=None is not valid for kind='robust'"):
        make_worst_group_scorer("robust")
    with pytest.raises(TypeError, match="has no perturb"):
        make_worst_group_scorer("robust", attack="pgd")
    with pytest.raises(ValueError, match="kind='clean' is not valid"):
        make_worst_group_scorer("clean")
    with pytest.raises(TypeError, match="balanced='yes'"):
        make_worst_group_scorer("standard", balanced="yes")
    with pytest.raises(ValueError, match="sensitive_features has 3 entries"):
        worst_group_standard_accuracy_scorer(net, X, y, sensitive_features=group[:3])
    with pytest.raises(NotFittedError):
        worst_group_standard_accuracy_scorer(tiny_net(), X, y, sensitive_features=group)


def test_scorer_repr_and_type():
    scorer = make_worst_group_scorer("standard", balanced=True)
    assert isinstance(scorer, WorstGroupScorer)
    assert repr(scorer) == "make_worst_group_scorer(kind='standard', balanced=True)"
    assert "PGD" in repr(worst_group_robust_accuracy_scorer)


def test_balanced_accepts_numpy_bool(net, data):
    X, y, group = data
    scorer = make_worst_group_scorer("standard", balanced=np.True_)
    plain = make_worst_group_scorer("standard", balanced=True)
    assert scorer(net, X, y, sensitive_features=group) == plain(
        net, X, y, sensitive_features=group
    )
    assert repr(scorer) == "make_worst_group_scorer(kind='standard', balanced=True)"
