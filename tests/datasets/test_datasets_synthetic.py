"""make_fral_classification: shapes, determinism, the harder minority, errors."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from skfral.datasets import make_fral_classification


def test_shapes_dtypes_and_exact_group_counts():
    X, y, s = make_fral_classification(n_samples=500, n_features=6, random_state=0)
    assert X.shape == (500, 6) and X.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert s.dtype == np.int64 and np.bincount(s).tolist() == [400, 100]
    assert np.isfinite(X).all()


def test_standardised_scale():
    X, _, _ = make_fral_classification(n_samples=4000, random_state=1)
    std = X.std(axis=0)
    assert np.all((std > 0.8) & (std < 1.6)), std
    assert np.all(np.abs(X.mean(axis=0)) < 0.5)


def test_minority_is_more_class_imbalanced():
    _, y, s = make_fral_classification(n_samples=4000, random_state=2)
    share = [y[s == g].mean() for g in (0, 1)]
    assert abs(share[0] - 0.5) < 0.03  # balanced majority
    assert 0.28 < share[1] < 0.40  # 1/3 positives, then 5% label noise


def test_determinism_and_no_global_rng():
    state = np.random.get_state()  # noqa: NPY002 (checks the global rng is untouched)
    a = make_fral_classification(n_samples=300, random_state=7)
    b = make_fral_classification(n_samples=300, random_state=7)
    c = make_fral_classification(n_samples=300, random_state=8)
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert state[0] == after[0] and np.array_equal(state[1], after[1])
    rs = np.random.RandomState(7)
    d = make_fral_classification(n_samples=300, random_state=rs)
    assert all(np.array_equal(u, v) for u, v in zip(a, d))


# Margin checked against 3 seeds: the measured gap is 0.12 to 0.18 for both
# models (majority about 0.90, minority about 0.73 to 0.79).
MIN_GAP = 0.08


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(),
        MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0),
    ],
    ids=["logistic", "mlp"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_minority_accuracy_clearly_lower(model, seed):
    X, y, s = make_fral_classification(n_samples=3000, random_state=seed)
    # Samples come in random order: the first 1000 are a random training sample.
    model.fit(X[:1000], y[:1000])
    correct = model.predict(X[1000:]) == y[1000:]
    acc = [correct[s[1000:] == g].mean() for g in (0, 1)]
    assert acc[0] - acc[1] >= MIN_GAP, acc


def test_minority_more_fragile_under_linf_attack():
    X, y, s = make_fral_classification(n_samples=4000, random_state=3)
    model = LogisticRegression().fit(X[:2000], y[:2000])
    Xt, yt, st = X[2000:], y[2000:], s[2000:]
    signed = (2 * yt - 1) * model.decision_function(Xt)
    eps = 0.1  # exact L-inf attack on a linear model: margin - eps * ||w||_1
    robust = signed - eps * np.abs(model.coef_).sum() > 0
    clean = signed > 0
    drop = [clean[st == g].mean() - robust[st == g].mean() for g in (0, 1)]
    assert drop[1] > drop[0] + 0.02, drop


def test_multiclass_and_three_groups():
    X, y, s = make_fral_classification(
        n_samples=600,
        n_features=5,
        n_classes=3,
        group_proportions=(0.6, 0.3, 0.1),
        random_state=0,
    )
    assert X.shape == (600, 5)
    assert np.bincount(s).tolist() == [360, 180, 60]
    assert set(np.unique(y)) == {0, 1, 2}


def test_two_features_is_enough_for_binary():
    X, y, s = make_fral_classification(n_samples=50, n_features=2, random_state=0)
    assert X.shape == (50, 2)


def test_custom_per_group_settings():
    bunch = make_fral_classification(
        n_samples=200,
        class_weights_per_group=[[0.5, 0.5], [0.9, 0.1]],
        group_shift=[0.0, 3.0],
        rotation=0,
        class_sep=2.0,
        flip_y=0.0,
        return_bunch=True,
        random_state=0,
    )
    assert bunch.params["class_sep"].tolist() == [2.0, 2.0]
    assert bunch.params["rotation"].tolist() == [0.0, 0.0]
    # no label noise: class counts are exact
    assert np.bincount(bunch.target[bunch.sensitive == 1]).tolist() == [36, 4]


def test_bunch_and_descr():
    bunch = make_fral_classification(n_samples=100, return_bunch=True, random_state=0)
    assert set(bunch) >= {
        "data",
        "target",
        "sensitive",
        "feature_names",
        "DESCR",
        "params",
    }
    assert len(bunch.feature_names) == 10
    assert "Generative model" in bunch.DESCR and "flip_y" in bunch.DESCR
    assert bunch.sensitive_names.tolist() == ["majority", "minority_1"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples=0 is invalid"),
        ({"n_samples": "10"}, TypeError, "n_samples='10'"),
        ({"n_classes": 4, "n_features": 5}, ValueError, "n_features=5 is too small"),
        ({"group_proportions": (0.7, 0.2)}, ValueError, "summing to 1"),
        ({"group_proportions": (1.0,)}, ValueError, "at least two"),
        ({"group_proportions": "ab"}, TypeError, "group_proportions='ab'"),
        ({"class_weights_per_group": [[1.0, 0.0]]}, ValueError, r"shape \(n_groups"),
        (
            {"class_weights_per_group": [[0.5, 0.6], [0.5, 0.5]]},
            ValueError,
            "summing to 1",
        ),
        ({"rotation": 120}, ValueError, "rotation=120 is invalid"),
        ({"flip_y": (0.1, 0.1, 0.1)}, ValueError, "flip_y=.* has 3 entries"),
        ({"class_sep": -1}, ValueError, r"class_sep\[0\]=-1"),
        (
            {"n_samples": 3, "group_proportions": (0.9, 0.1)},
            ValueError,
            "group 1 would get",
        ),
        ({"return_bunch": 1}, TypeError, "return_bunch=1"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_fral_classification(**kwargs)
