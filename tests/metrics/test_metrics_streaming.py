"""Streaming evaluation (issue 14): batch by batch, a lazy array never read whole."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfral.metrics import (
    fairness_report,
    make_worst_group_scorer,
    robust_metric_frame,
    robustness_curve,
    worst_group,
)
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier

from . import metrics_helpers
from .metrics_helpers import FlipAttack

BATCH = 16


class GuardedLazyArray:
    """A lazy array that refuses to hand out more than ``limit`` rows at once.

    Not an ndarray; no ``__array__`` (``np.asarray`` of the whole would fail);
    counts the rows it served.
    """

    def __init__(self, X, limit):
        self._X = X
        self.limit = limit
        self.rows_read = 0
        self.largest_read = 0

    @property
    def shape(self):
        return self._X.shape

    @property
    def dtype(self):
        return self._X.dtype

    def __len__(self):
        return len(self._X)

    def __getitem__(self, key):
        rows = self._X[key]
        n = 1 if rows.ndim < self._X.ndim else len(rows)
        if n > self.limit:
            raise MemoryError(f"{n} rows requested at once (limit {self.limit})")
        self.rows_read += n
        self.largest_read = max(self.largest_read, n)
        return rows.copy()

    def __array__(self, *args, **kwargs):
        raise MemoryError("the whole lazy array was materialised")


class ShapeSpyAttack:
    """PGD, recording the size of every batch it is given."""

    def __init__(self, **params):
        self.attack = PGD(**params)
        self.sizes = []

    @property
    def batch_size(self):
        return self.attack.batch_size

    def perturb(self, net, X, y=None):
        self.sizes.append(len(X))
        return self.attack.perturb(net, X, y)


def make_data(n=100, seed=0):
    return metrics_helpers.make_data(n, seed)


@pytest.fixture(scope="module")
def data(clean_fit):
    return clean_fit(100, max_epochs=2)[0]


@pytest.fixture(scope="module")
def net(clean_fit):
    return clean_fit(100, max_epochs=2)[1]


def test_lazy_array_is_read_one_batch_at_a_time(net, data):
    X, y, group = data
    lazy = GuardedLazyArray(X, limit=BATCH)
    with pytest.raises(MemoryError):
        np.asarray(lazy)  # the guard works
    attack = PGD(eps=0.2, n_steps=2, random_state=0)
    report = fairness_report(
        net, lazy, y, sensitive_features=group, attack=attack, batch_size=BATCH
    )
    assert lazy.largest_read <= BATCH and lazy.rows_read == len(X)  # read once
    # the same numbers as on the in-memory array, same batches
    expected = fairness_report(
        net, X, y, sensitive_features=group, attack=attack, batch_size=BATCH
    )
    pd.testing.assert_series_equal(report, expected)


def test_every_entry_point_streams(net, data):
    X, y, group = data
    attack = PGD(eps=0.2, n_steps=2, random_state=0)
    for call in (
        lambda L: robust_metric_frame(
            net, L, y, sensitive_features=group, attack=attack, batch_size=BATCH
        ),
        lambda L: worst_group(
            net, L, y, sensitive_features=group, attack=attack, batch_size=BATCH
        ),
        lambda L: robustness_curve(
            net, L, y, sensitive_features=group, eps=[0, 0.1, 0.2], batch_size=BATCH
        ),
        lambda L: fairness_report(
            net, L, y, sensitive_features=group, batch_size=BATCH, n_boot=3
        ),
    ):
        lazy = GuardedLazyArray(X, limit=BATCH)
        call(lazy)
        assert 0 < lazy.largest_read <= BATCH
        assert lazy.rows_read == len(X)  # one pass, even for three radii


def test_robust_scorer_streams_with_the_attack_batch_size(net, data):
    X, y, group = data
    attack = ShapeSpyAttack(eps=0.2, n_steps=2, random_state=0, batch_size=BATCH)
    scorer = make_worst_group_scorer("robust", attack=attack)
    lazy = GuardedLazyArray(X, limit=BATCH)
    score = scorer(net, lazy, y, sensitive_features=group)
    assert max(attack.sizes) <= BATCH and sum(attack.sizes) == len(X)
    assert lazy.largest_read <= BATCH
    assert 0 <= score <= 1


def test_attack_only_sees_batches(net, data):
    X, y, group = data
    attack = ShapeSpyAttack(eps=0.2, n_steps=2, random_state=0)
    fairness_report(net, X, y, sensitive_features=group, attack=attack, batch_size=30)
    assert attack.sizes == [30, 30, 30, 10]
    attack.sizes.clear()
    attack.attack.batch_size = 40  # no batch_size given: the attack's own
    fairness_report(net, X, y, sensitive_features=group, attack=attack)
    assert attack.sizes == [40, 40, 20]


def test_batches_do_not_change_a_deterministic_result(net, data):
    X, y, group = data
    one = fairness_report(net, X, y, sensitive_features=group, attack=FlipAttack())
    many = fairness_report(
        net, X, y, sensitive_features=group, attack=FlipAttack(), batch_size=7
    )
    pd.testing.assert_series_equal(one, many)
    assert one.by_group.equals(many.by_group)
    # independently: robust accuracy of the flipped inputs
    assert one["robust_accuracy"] == pytest.approx(np.mean(net.predict(-X) == y))


def test_seeded_attack_batches_get_distinct_reproducible_starts(net, data):
    """An int random_state must not give every batch the same random start."""
    X, y, group = data
    seen = []

    class Recorder(BaseEstimator):
        def __init__(self, random_state=7, batch_size=25):
            self.random_state = random_state
            self.batch_size = batch_size

        def perturb(self, net, X, y=None):
            seen.append(self.random_state)
            return np.asarray(X)

    fairness_report(net, X, y, sensitive_features=group, attack=Recorder())
    first = list(seen)
    assert len(first) == 4 and first[0] == 7 and len(set(first)) == 4
    seen.clear()
    fairness_report(net, X, y, sensitive_features=group, attack=Recorder())
    assert seen == first


def test_pipeline_transforms_each_batch(data):
    X, y, group = data
    X_raw = X * 10 + 3  # the scaler matters
    pipe = make_pipeline(
        StandardScaler(),
        RobustNeuralNetClassifier(
            MLP, module__n_features=4, adversarial=None, max_epochs=2, random_state=0
        ),
    ).fit(X_raw, y)
    lazy = GuardedLazyArray(X_raw, limit=BATCH)
    frames = robust_metric_frame(
        pipe, lazy, y, sensitive_features=group, attack=FlipAttack(), batch_size=BATCH
    )
    # attack in the scaled space: -scaler(X), predicted by the net
    Xt = pipe[:-1].transform(X_raw)
    np.testing.assert_array_equal(frames.y_pred_clean, pipe.predict(X_raw))
    np.testing.assert_array_equal(frames.y_pred_adv, pipe[-1].predict(-Xt))


def test_dataframe_input_is_sliced_by_position(data):
    X, y, group = data
    df = pd.DataFrame(X, columns=list("abcd"), index=np.arange(len(X))[::-1] * 3)
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=4, adversarial=None, max_epochs=2, random_state=0
    )
    pipe = make_pipeline(StandardScaler(), net).fit(df, y)
    table = worst_group(
        pipe, df, y, sensitive_features=group, attack=FlipAttack(), batch_size=9
    )
    expected = pd.Series(pipe.predict(df) == y).groupby(group).mean()
    for g in expected.index:
        assert table.loc[g, "standard"] == pytest.approx(expected[g])


def test_wrong_sized_attack_output_names_the_batch(net, data):
    X, y, group = data

    class Short:
        def perturb(self, net, X, y=None):
            return np.asarray(X)[:-1]

    with pytest.raises(ValueError, match="attack.perturb returned 15 samples for 16"):
        fairness_report(
            net, X, y, sensitive_features=group, attack=Short(), batch_size=16
        )
