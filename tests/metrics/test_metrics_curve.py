"""robustness_curve and plot_robustness_curve (issue 15, item 3)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfral.metrics import plot_robustness_curve, robustness_curve  # noqa: E402
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier, attack_from_net  # noqa: E402


def make_data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    group = np.asarray(["a", "b", "c"], dtype=object)[rng.randint(0, 3, n)]
    return X, y, group


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def net(data):
    X, y, _ = data
    return RobustNeuralNetClassifier(
        MLP,
        module__n_features=4,
        adversarial=None,
        max_epochs=3,
        attack_eps=0.1,
        attack_step_size=0.05,
        attack_n_steps=3,
        random_state=0,
    ).fit(X, y)


def group_accuracy(y, y_pred, group):
    return pd.Series(y == y_pred).groupby(group).mean()


def test_curve_against_direct_attacks(net, data):
    X, y, group = data
    attack = PGD(eps=0.1, n_steps=3, random_start=False)  # deterministic
    radii = [0.3, 0, 0.1]  # any order, kept
    curve = robustness_curve(
        net, X, y, sensitive_features=group, eps=radii, attack=attack
    )
    assert list(curve.columns) == [
        "eps",
        "group",
        "accuracy",
        "balanced_accuracy",
        "count",
        "is_worst",
        "worst_group",
    ]
    assert curve["eps"].tolist() == [0.3] * 3 + [0.0] * 3 + [0.1] * 3
    assert curve["group"].tolist() == ["a", "b", "c"] * 3
    assert curve["is_worst"].dtype == bool
    counts = pd.Series(group).value_counts()
    for e in radii:
        rows = curve[curve["eps"] == e].set_index("group")
        if e == 0:
            y_pred = net.predict(X)
        else:  # step eps/4: the attack's default, at each radius
            X_adv = PGD(eps=e, n_steps=3, random_start=False).perturb(net, X, y)
            y_pred = net.predict(X_adv)
        expected = group_accuracy(y, y_pred, group)
        np.testing.assert_allclose(rows["accuracy"], expected[rows.index])
        assert rows["count"].to_dict() == counts[rows.index].to_dict()
        worst = expected.index[np.argmin(expected.to_numpy())]
        assert rows["is_worst"].sum() == 1 and rows["is_worst"][worst]
        assert (rows["worst_group"] == worst).all()
    # a stronger attack never helps on average here
    overall = curve.groupby("eps")["accuracy"].mean()
    assert overall[0.3] <= overall[0.0]


def test_explicit_step_size_scales_with_eps(net, data):
    X, y, group = data
    attack = PGD(eps=0.1, step_size=0.05, n_steps=2, random_start=False)
    curve = robustness_curve(
        net, X, y, sensitive_features=group, eps=[0.4], attack=attack
    )
    X_adv = PGD(eps=0.4, step_size=0.2, n_steps=2, random_start=False).perturb(
        net, X, y
    )
    expected = group_accuracy(y, net.predict(X_adv), group)
    np.testing.assert_allclose(curve["accuracy"], expected[curve["group"]])
    assert attack.eps == 0.1 and attack.step_size == 0.05  # the user's attack untouched


def test_default_attack_is_the_nets_own(net, data):
    X, y, group = data
    curve = robustness_curve(
        net, X, y, sensitive_features=group, eps=[0.2], random_state=3
    )
    own = attack_from_net(net, random_state=3)  # eps 0.1, step 0.05, 3 steps
    X_adv = own.set_params(eps=0.2, step_size=0.1).perturb(net, X, y)
    expected = group_accuracy(y, net.predict(X_adv), group)
    np.testing.assert_allclose(curve["accuracy"], expected[curve["group"]])


def test_pipeline_and_intersectional_groups(data):
    X, y, group = data
    X_raw = X * 5 - 1
    pipe = make_pipeline(
        StandardScaler(),
        RobustNeuralNetClassifier(
            MLP, module__n_features=4, adversarial=None, max_epochs=2, random_state=0
        ),
    ).fit(X_raw, y)
    sex = np.where(np.arange(len(y)) % 2 == 0, "f", "m")
    sf = pd.DataFrame({"g": group, "sex": sex})
    curve = robustness_curve(
        pipe,
        X_raw,
        y,
        sensitive_features=sf,
        eps=[0, 0.2],
        attack=PGD(n_steps=2, random_start=False),
    )
    assert set(curve["group"]) == {f"{g},{s}" for g in "abc" for s in "fm"}
    assert curve.attrs["group_name"] == "g,sex"
    clean = curve[curve["eps"] == 0].set_index("group")["accuracy"]
    expected = group_accuracy(
        y, pipe.predict(X_raw), [f"{g},{s}" for g, s in zip(group, sex)]
    )
    np.testing.assert_allclose(clean, expected[clean.index])


@pytest.mark.parametrize(
    "eps, error, match",
    [
        ([], ValueError, r"eps=\[\] is empty"),
        (
            [0.1, -0.1],
            ValueError,
            r"eps=-0.1 is invalid: expected a finite number >= 0",
        ),
        ([0.1, 0.1], ValueError, r"repeats \[0.1\]: expected distinct radii"),
        ("0.1", TypeError, r"eps='0.1' has type str"),
        (None, TypeError, r"eps=None has type NoneType"),
        ([np.nan], ValueError, r"eps=nan is invalid"),
    ],
)
def test_bad_eps(net, data, eps, error, match):
    X, y, group = data
    with pytest.raises(error, match=match):
        robustness_curve(net, X, y, sensitive_features=group, eps=eps)


def test_scalar_eps_and_numpy_radii(net, data):
    X, y, group = data
    one = robustness_curve(net, X, y, sensitive_features=group, eps=0)
    assert one["eps"].tolist() == [0.0] * 3
    arr = robustness_curve(net, X, y, sensitive_features=group, eps=np.array([0.0]))
    pd.testing.assert_frame_equal(one, arr)


def test_bad_attack(net, data):
    X, y, group = data

    class NoEps:
        def perturb(self, net, X, y=None):
            return X

    with pytest.raises(TypeError, match="attack=.*has no eps parameter"):
        robustness_curve(net, X, y, sensitive_features=group, eps=[0.1], attack=NoEps())
    with pytest.raises(TypeError, match="has no perturb"):
        robustness_curve(net, X, y, sensitive_features=group, eps=[0.1], attack="pgd")


# ------------------------------------------------------------------------- plot


def test_plot_draws_one_line_per_group_and_marks_the_worst(net, data):
    X, y, group = data
    curve = robustness_curve(
        net,
        X,
        y,
        sensitive_features=group,
        eps=[0.2, 0, 0.1],
        attack=PGD(n_steps=2, random_start=False),
    )
    ax = plot_robustness_curve(curve, ax=Figure().subplots())
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b", "c", "worst group"]
    for line in lines[:3]:  # points joined in increasing eps
        np.testing.assert_array_equal(line.get_xdata(), [0, 0.1, 0.2])
        rows = curve[curve["group"] == line.get_label()].sort_values("eps")
        np.testing.assert_allclose(line.get_ydata(), rows["accuracy"])
    worst = curve[curve["is_worst"]].sort_values("eps")
    np.testing.assert_allclose(lines[3].get_xdata(), worst["eps"])
    np.testing.assert_allclose(lines[3].get_ydata(), worst["accuracy"])
    bal = plot_robustness_curve(
        curve, ax=Figure().subplots(), metric="balanced_accuracy"
    )
    assert bal.get_ylabel() == "balanced accuracy"


def test_plot_bad_input():
    with pytest.raises(TypeError, match="curve of type list"):
        plot_robustness_curve([1, 2])
    with pytest.raises(
        ValueError, match=r"missing \['group', 'accuracy', 'is_worst'\]"
    ):
        plot_robustness_curve(pd.DataFrame({"eps": [0]}))
    curve = pd.DataFrame(
        {"eps": [0], "group": ["a"], "accuracy": [1.0], "is_worst": [True]}
    )
    with pytest.raises(ValueError, match="metric='f1' is not valid"):
        plot_robustness_curve(curve, metric="f1")
