"""Property tests (hypothesis) of the query strategies and the fairness report.

Properties tested elsewhere, not repeated here:

* PGD stays inside the eps-ball and the clip range for random shapes, norms
  and radii: ``tests/nn/test_nn_attack_properties.py::
  test_pgd_stays_in_the_ball_and_the_clip_range`` (and
  ``test_pgd_attack_follows_the_formula``).
* The split keeps every group in every part when the part is big enough:
  ``tests/datasets/test_datasets_split.py::
  test_split_property_every_group_everywhere``.
"""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modAL.models import ActiveLearner
from sklearn.metrics import accuracy_score, balanced_accuracy_score

import skfral  # noqa: F401  (modAL shim)
from skfral.metrics import fairness_report, group_scores
from skfral.nn import MLP, RobustNeuralNetClassifier
from skfral.query import STRATEGIES, get_strategy

FAST = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
N_FEATURES = 3
GROUP_NAMES = ("a", "b", "c")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def shared():
    """One fitted learner and a validation set holding all three groups."""
    rng = np.random.RandomState(1)
    X = rng.randn(90, N_FEATURES).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.randn(90) > 0).astype(np.int64)
    s = np.asarray(GROUP_NAMES, dtype=object)[np.arange(90) % 3]
    net = RobustNeuralNetClassifier(
        MLP,
        module__n_features=N_FEATURES,
        module__hidden_sizes=(8,),
        max_epochs=2,
        attack_n_steps=2,
        batch_size=32,
        random_state=0,
    )
    learner = ActiveLearner(estimator=net, X_training=X[:24], y_training=y[:24])
    return {
        "learner": learner,
        "X_val": X[24:54],
        "y_val": y[24:54],
        "s_val": s[24:54],
        "X_all": X,
        "y_all": y,
    }


@st.composite
def query_problems(draw):
    n_pool = draw(st.integers(5, 40))
    n_groups = draw(st.integers(2, 3))
    groups = draw(
        st.lists(st.integers(0, n_groups - 1), min_size=n_pool, max_size=n_pool)
    )
    n_instances = draw(st.integers(1, n_pool))
    seed = draw(st.integers(0, 2**31 - 1))
    return np.asarray(groups), n_instances, seed


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@FAST
@given(problem=query_problems())
def test_every_strategy_returns_unique_in_range_indices(shared, name, problem):
    groups, n_instances, seed = problem
    rng = np.random.RandomState(seed)
    X_pool = rng.randn(len(groups), N_FEATURES).astype(np.float32)
    s_pool = np.asarray(GROUP_NAMES, dtype=object)[groups]
    cls = STRATEGIES[name]
    params = {"random_state": seed}
    if cls.requires_validation:
        params.update(
            X_val=shared["X_val"],
            y_val=shared["y_val"],
            sensitive_features_val=shared["s_val"],
        )
    if name == "fal":  # the cheap FAL: 2 candidates, 1-epoch standard refits
        params.update(
            n_candidates=2,
            refit_epochs=1,
            refit="standard",
            fairness_criterion="standard",
        )
    learner = shared["learner"]
    before = {k: v.clone() for k, v in learner.estimator.module_.state_dict().items()}
    idx, scores = get_strategy(name, **params)(
        learner, X_pool, n_instances=n_instances, sensitive_features=s_pool
    )
    assert idx.shape == (n_instances,) and scores.shape == (n_instances,)
    assert np.issubdtype(idx.dtype, np.integer)
    assert len(np.unique(idx)) == n_instances
    assert idx.min() >= 0 and idx.max() < len(X_pool)
    assert np.isfinite(scores).all()
    after = learner.estimator.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


class FixedAttack:
    """An 'attack' returning fixed inputs: the robust predictions are known."""

    def __init__(self, X_adv):
        self.X_adv = X_adv

    def perturb(self, net, X, y=None):
        assert len(X) == len(self.X_adv)
        return self.X_adv


def _per_group(y_true, y_pred, groups, metric):
    return {
        g: metric(y_true[groups == g], y_pred[groups == g]) for g in np.unique(groups)
    }


@st.composite
def label_problems(draw):
    n = draw(st.integers(2, 40))
    n_groups = draw(st.integers(1, 3))
    n_classes = draw(st.integers(2, 3))
    labels = st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)
    y_true, y_clean, y_adv = (np.asarray(draw(labels)) for _ in range(3))
    groups = np.asarray(
        draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    )
    return y_true, y_clean, y_adv, np.asarray(GROUP_NAMES, dtype=object)[groups]


@pytest.mark.slow
@settings(max_examples=25, deadline=None, database=None)
@given(label_problems(), st.sampled_from(["standard", "robust", "mean"]))
def test_group_scores_worst_equals_min_over_groups(problem, criterion):
    y_true, y_clean, y_adv, groups = problem
    table = group_scores(y_true, y_clean, y_adv, groups, criterion=criterion)
    std = _per_group(y_true, y_clean, groups, accuracy_score)
    rob = _per_group(y_true, y_adv, groups, accuracy_score)
    assert set(table.index) == set(std)
    for g in std:
        assert table.loc[g, "standard"] == pytest.approx(std[g])
        assert table.loc[g, "robust"] == pytest.approx(rob[g])
        assert table.loc[g, "count"] == int((groups == g).sum())
    expected = {"standard": std, "robust": rob}.get(criterion) or {
        g: (std[g] + rob[g]) / 2 for g in std
    }
    assert table["score"].iloc[0] == pytest.approx(min(expected.values()))
    assert table["score"].is_monotonic_increasing


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(4, 40),
    n_groups=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_fairness_report_worst_values_are_minima_over_groups(shared, n, n_groups, seed):
    rng = np.random.RandomState(seed)
    net = shared["learner"].estimator
    X = rng.randn(n, N_FEATURES).astype(np.float32)
    X_adv = rng.randn(n, N_FEATURES).astype(np.float32)
    y = rng.randint(0, 2, n)
    groups = np.asarray(GROUP_NAMES, dtype=object)[rng.randint(0, n_groups, n)]
    report = fairness_report(
        net, X, y, sensitive_features=groups, attack=FixedAttack(X_adv)
    )
    clean, adv = net.predict(X), net.predict(X_adv)
    std = _per_group(y, clean, groups, accuracy_score)
    rob = _per_group(y, adv, groups, accuracy_score)
    with warnings.catch_warnings():  # one-class groups: sklearn warns, as expected
        warnings.simplefilter("ignore")
        std_bal = _per_group(y, clean, groups, balanced_accuracy_score)
        rob_bal = _per_group(y, adv, groups, balanced_accuracy_score)
    assert report["n_groups"] == len(std)
    assert report["worst_group_standard_accuracy"] == pytest.approx(min(std.values()))
    assert report["worst_group_robust_accuracy"] == pytest.approx(min(rob.values()))
    assert report["standard_accuracy_gap"] == pytest.approx(
        max(std.values()) - min(std.values())
    )
    assert report["robust_accuracy_gap"] == pytest.approx(
        max(rob.values()) - min(rob.values())
    )
    assert report["worst_group_standard_balanced_accuracy"] == pytest.approx(
        min(std_bal.values())
    )
    assert report["worst_group_robust_balanced_accuracy"] == pytest.approx(
        min(rob_bal.values())
    )
    assert std[report["worst_group_standard"]] == pytest.approx(min(std.values()))
    assert rob[report["worst_group_robust"]] == pytest.approx(min(rob.values()))
    assert report["standard_accuracy"] == pytest.approx(accuracy_score(y, clean))
    assert report["robust_accuracy"] == pytest.approx(accuracy_score(y, adv))
    # the worst (group, class) recall is the minimum over cells with samples
    recalls = [
        np.mean(adv[(groups == g) & (y == c)] == c)
        for g in std
        for c in (0, 1)
        if ((groups == g) & (y == c)).any()
    ]
    assert report["worst_group_class_robust_recall"] == pytest.approx(min(recalls))
