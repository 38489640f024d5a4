"""skfral.metrics._report: equal to fairlearn's MetricFrame, hand-computed, errors."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfral.metrics import (
    GROUP_CRITERIA,
    GROUP_NAME_KEYS,
    RobustMetricFrame,
    fairness_report,
    group_scores,
    majority_class_levels,
    robust_metric_frame,
    worst_group,
)
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
from skfral.utils import check_sensitive_features

from . import metrics_helpers

REPORT_KEYS = {
    "n_samples",
    "standard_accuracy",
    "robust_accuracy",
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "standard_accuracy_gap",
    "robust_accuracy_gap",
    "worst_group_standard",
    "worst_group_robust",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
    "worst_group_class_standard_recall",
    "worst_group_class_robust_recall",
    "majority_class_level",
}


class CountingAttack:
    """Wraps an attack; counts calls and keeps what it was given and returned."""

    def __init__(self, attack):
        self.attack = attack
        self.n_calls = 0

    def perturb(self, net, X, y=None):
        self.n_calls += 1
        self.X, self.y = np.array(X, copy=True), None if y is None else np.array(y)
        self.X_adv = self.attack.perturb(net, X, y)
        return self.X_adv


class FixedAttack:
    """Returns a fixed array whatever it is asked."""

    def __init__(self, X_adv):
        self.X_adv = X_adv
        self.n_calls = 0

    def perturb(self, net, X, y=None):
        self.n_calls += 1
        return self.X_adv


def pgd():
    return PGD(eps=0.3, n_steps=2, random_state=0)


def make_data(n=80, seed=0):
    return metrics_helpers.make_data(n, seed)


@pytest.fixture(scope="module")
def data(clean_fit):
    return clean_fit(80, max_epochs=5)[0]


@pytest.fixture(scope="module")
def net(clean_fit):
    return clean_fit(80, max_epochs=5)[1]


def direct_frame(metrics, y, y_pred, sf):
    return MetricFrame(metrics=metrics, y_true=y, y_pred=y_pred, sensitive_features=sf)


# ---------------------------------------------------------------- equal to fairlearn


def test_robust_metric_frame_equals_direct_metric_frames(net, data):
    X, y, group = data
    attack = CountingAttack(pgd())
    frames = robust_metric_frame(net, X, y, sensitive_features=group, attack=attack)
    assert isinstance(frames, RobustMetricFrame)
    assert attack.n_calls == 1
    np.testing.assert_array_equal(attack.y, y)  # attack made with the true labels
    expected_clean = direct_frame(
        {"accuracy": accuracy_score}, y, net.predict(X), group
    )
    expected_adv = direct_frame(
        {"accuracy": accuracy_score}, y, net.predict(attack.X_adv), group
    )
    pd.testing.assert_frame_equal(frames.clean.by_group, expected_clean.by_group)
    pd.testing.assert_frame_equal(frames.adversarial.by_group, expected_adv.by_group)
    pd.testing.assert_series_equal(frames.clean.overall, expected_clean.overall)
    np.testing.assert_array_equal(frames.y_pred_adv, net.predict(attack.X_adv))
    assert frames.group_counts.to_dict() == pd.Series(group).value_counts().to_dict()
    table = frames.by_group()
    assert list(table.columns) == ["clean", "adversarial"]
    assert (
        table.loc["min", "adversarial"] == expected_adv.by_group.loc["min", "accuracy"]
    )


def test_robust_metric_frame_metric_forms(net, data):
    X, y, group = data
    single = robust_metric_frame(
        net,
        X,
        y,
        sensitive_features=group,
        attack=pgd(),
        metrics=balanced_accuracy_score,
    )
    assert isinstance(single.clean.by_group, pd.Series)
    expected = direct_frame(balanced_accuracy_score, y, net.predict(X), group)
    pd.testing.assert_series_equal(single.clean.by_group, expected.by_group)
    assert single.by_group().shape == (2, 2)
    several = robust_metric_frame(
        net,
        X,
        y,
        sensitive_features=group,
        attack=pgd(),
        metrics={"acc": accuracy_score, "bal": balanced_accuracy_score},
    )
    assert list(several.adversarial.by_group.columns) == ["acc", "bal"]
    assert several.by_group().equals(several.by_group("acc"))
    with pytest.raises(ValueError, match="metric='nope'"):
        several.by_group("nope")
    with pytest.raises(TypeError, match="metrics"):
        robust_metric_frame(
            net, X, y, sensitive_features=group, attack=pgd(), metrics="acc"
        )
    with pytest.raises(TypeError, match="metrics has entry 1"):
        robust_metric_frame(
            net,
            X,
            y,
            sensitive_features=group,
            attack=pgd(),
            metrics={1: accuracy_score},
        )


def test_fairness_report_equals_direct_metric_frames(net, data):
    X, y, group = data
    attack = CountingAttack(pgd())
    report = fairness_report(net, X, y, sensitive_features=group, attack=attack)
    assert attack.n_calls == 1
    # numbers in the float Series; the worst groups' names beside them (issue 12)
    assert REPORT_KEYS - set(GROUP_NAME_KEYS) <= set(report.index)
    assert set(report.worst_groups) == set(GROUP_NAME_KEYS)
    assert report["n_samples"] == len(y)

    def recall(label):
        return lambda yt, yp: (
            recall_score(yt, yp, labels=[label], average=None)[0]
            if (yt == label).any()
            else np.nan
        )

    metrics = {
        "acc": accuracy_score,
        "bal": balanced_accuracy_score,
        "r0": recall(0),
        "r1": recall(1),
    }
    for kind, y_pred in (
        ("standard", net.predict(X)),
        ("robust", net.predict(attack.X_adv)),
    ):
        mf = direct_frame(metrics, y, y_pred, group)
        assert report[f"{kind}_accuracy"] == pytest.approx(accuracy_score(y, y_pred))
        assert report[f"worst_group_{kind}_accuracy"] == pytest.approx(
            mf.group_min()["acc"]
        )
        assert report[f"worst_group_{kind}"] == mf.by_group["acc"].idxmin()
        assert report[f"{kind}_accuracy_gap"] == pytest.approx(
            mf.by_group["acc"].max() - mf.by_group["acc"].min()
        )
        assert report[f"worst_group_{kind}_balanced_accuracy"] == pytest.approx(
            mf.group_min()["bal"]
        )
        assert report[f"worst_group_class_{kind}_recall"] == pytest.approx(
            np.nanmin(mf.by_group[["r0", "r1"]].to_numpy())
        )
    levels = (
        pd.Series(y)
        .groupby(group)
        .apply(lambda v: v.value_counts(normalize=True).max())
    )
    assert report["majority_class_level"] == pytest.approx(levels.min())
    by_group = pd.DataFrame.from_dict(report.attrs["by_group"], orient="index")
    assert by_group.loc["min", "count"] == (group == "min").sum()
    assert by_group.loc["maj", "majority_class_level"] == pytest.approx(levels["maj"])


def test_worst_group_equals_group_scores_and_fairlearn(net, data):
    X, y, group = data
    attack = CountingAttack(pgd())
    table = worst_group(net, X, y, sensitive_features=group, attack=attack)
    assert attack.n_calls == 1
    assert list(table.columns) == [
        "standard",
        "robust",
        "standard_balanced",
        "robust_balanced",
        "count",
        "score",
    ]
    y_clean, y_adv = net.predict(X), net.predict(attack.X_adv)
    pd.testing.assert_frame_equal(table, group_scores(y, y_clean, y_adv, group))
    mf = direct_frame(accuracy_score, y, y_adv, group)
    for g in ("min", "maj"):
        assert table.loc[g, "robust"] == pytest.approx(mf.by_group[g])
    assert (table["score"] == (table["standard"] + table["robust"]) / 2).all()
    assert table["score"].is_monotonic_increasing


def test_worst_group_standard_criterion_skips_attack(net, data):
    X, y, group = data
    table = worst_group(
        net, X, y, sensitive_features=group, attack=None, criterion="standard"
    )
    assert table[["robust", "robust_balanced"]].isna().all().all()
    assert (table["score"] == table["standard"]).all()
    balanced = worst_group(
        net, X, y, sensitive_features=group, attack=None, criterion="balanced_standard"
    )
    assert (balanced["score"] == balanced["standard_balanced"]).all()
    with pytest.raises(TypeError, match="attack=None"):
        worst_group(
            net, X, y, sensitive_features=group, attack=None, criterion="robust"
        )


# ---------------------------------------------------------------- hand-computed


def test_group_scores_hand_computed_every_criterion():
    y = [0, 1, 1, 1, 0, 0]
    clean = [0, 1, 0, 1, 0, 1]
    adv = [1, 1, 0, 0, 0, 1]
    groups = ["a", "a", "a", "b", "b", "b"]
    # a: clean 2/3, balanced (1 + 1/2)/2; adv 1/3, balanced (0 + 1/2)/2
    # b: clean 2/3, balanced (1 + 1/2)/2; adv 1/3, balanced (0 + 1/2)/2  (a tie)
    expected = {
        "standard": 2 / 3,
        "robust": 1 / 3,
        "mean": 0.5,
        "balanced_standard": 0.75,
        "balanced_robust": 0.25,
        "balanced_mean": 0.5,
    }
    for criterion in GROUP_CRITERIA:
        table = group_scores(y, clean, adv, groups, criterion=criterion)
        assert list(table.index) == ["a", "b"]  # tie broken by group label order
        np.testing.assert_allclose(table["score"], expected[criterion])
    table = group_scores(y, clean, adv, ["b", "b", "b", "a", "a", "a"])
    assert list(table.index) == ["a", "b"]
    table = group_scores(
        y, clean, adv, ["z", "z", "z", "z", "z", "y"], criterion="robust"
    )
    assert list(table.index) == ["y", "z"]
    assert table.loc["y", "robust"] == 0.0  # y=0 attacked into 1
    assert table.loc["z", "robust"] == pytest.approx(2 / 5)
    assert table.loc["y", "robust_balanced"] == 0.0  # one class: balanced = accuracy
    assert table.loc["y", "count"] == 1


GROUP_SCORE_ARGS = {
    "y_true": [0, 1, 1],
    "y_pred_clean": [0, 1, 0],
    "y_pred_adv": [0, 0, 0],
    "sensitive_features": ["a", "a", "b"],
}


@pytest.mark.parametrize("short", list(GROUP_SCORE_ARGS))
def test_group_scores_names_every_length_in_a_mismatch(short):
    import re

    args = {k: list(v) for k, v in GROUP_SCORE_ARGS.items()}
    args[short] = args[short][:2]
    expected = (
        "Inconsistent lengths: y_true has {} samples, y_pred_clean has {}, "
        "y_pred_adv has {}, sensitive_features has {}: expected the same number."
    ).format(*(2 if k == short else 3 for k in GROUP_SCORE_ARGS))
    with pytest.raises(ValueError, match=re.escape(expected)):
        group_scores(**args)


@pytest.mark.parametrize("name", ["y_true", "y_pred_clean", "y_pred_adv"])
def test_group_scores_names_the_labels_with_missing_values(name):
    args = {k: list(v) for k, v in GROUP_SCORE_ARGS.items()}
    args[name] = [0.0, np.nan, 1.0]
    with pytest.raises(
        ValueError, match=f"^{name} contains missing values \\(NaN/None\\)"
    ):
        group_scores(**args)


def test_group_scores_without_adversarial_predictions_says_what_to_do():
    import re

    expected = (
        "y_pred_adv=None but criterion='robust' needs robust accuracy: pass the "
        "predictions on adversarial inputs, or use criterion='standard' or "
        "'balanced_standard'."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        group_scores([0, 1, 1], [0, 1, 0], None, [1, 1, 2], criterion="robust")


def test_group_scores_without_adversarial_predictions():
    table = group_scores([0, 1, 1], [0, 1, 0], None, [1, 1, 2], criterion="standard")
    assert table["robust"].isna().all()
    assert list(table.index) == [2, 1]
    with pytest.raises(ValueError, match="y_pred_adv=None but criterion='mean'"):
        group_scores([0, 1, 1], [0, 1, 0], None, [1, 1, 2])
    with pytest.raises(ValueError, match="criterion='worst'"):
        group_scores([0, 1, 1], [0, 1, 0], [0, 1, 0], [1, 1, 2], criterion="worst")
    with pytest.raises(ValueError, match="y_pred_clean has 2"):
        group_scores([0, 1, 1], [0, 1], None, [1, 1, 2], criterion="standard")


def test_majority_class_levels_hand_computed():
    levels = majority_class_levels([0, 0, 0, 1, 1, 0, 1], ["a"] * 4 + ["b"] * 3)
    assert levels.to_dict() == pytest.approx({"a": 0.75, "b": 2 / 3})
    assert levels.name == "majority_class_level"


@pytest.fixture(scope="module")
def separable():
    """A net that is right on every training point (clear margin on feature 0)."""
    rng = np.random.RandomState(1)
    y = np.array([0, 0, 0, 1, 0, 1] * 5)
    group = np.array(["a", "a", "a", "a", "b", "b"] * 5)
    X = rng.randn(len(y), 4).astype(np.float32) * 0.1
    X[:, 0] += np.where(y == 1, 2.0, -2.0)
    net = RobustNeuralNetClassifier(
        MLP,
        module__n_features=4,
        adversarial=None,
        max_epochs=8,
        lr=0.1,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(net.predict(X), y)
    np.testing.assert_array_equal(net.predict(-X), 1 - y)
    return net, X, y, group


def test_fairness_report_hand_computed_with_fixed_attack(separable):
    net, X, y, group = separable
    X_adv = np.where(
        (group == "b")[:, None], -X, X
    )  # every b sample flipped, a untouched
    attack = FixedAttack(X_adv)
    report = fairness_report(net, X, y, sensitive_features=group, attack=attack)
    assert attack.n_calls == 1
    assert report["standard_accuracy"] == 1.0
    assert report["robust_accuracy"] == pytest.approx(20 / 30)
    assert report["worst_group_standard_accuracy"] == 1.0
    assert report["worst_group_standard"] == "a"  # tie: first group label
    assert report["worst_group_robust_accuracy"] == 0.0
    assert report["worst_group_robust"] == "b"
    assert report["standard_accuracy_gap"] == 0.0
    assert report["robust_accuracy_gap"] == 1.0
    assert report["worst_group_robust_balanced_accuracy"] == 0.0
    assert report["worst_group_class_standard_recall"] == 1.0
    assert report["worst_group_class_robust_recall"] == 0.0
    # a: 15 zeros, 5 ones -> 0.75; b: 5 zeros, 5 ones -> 0.5
    assert report["majority_class_level"] == 0.5
    assert report.attrs["by_group"]["a"]["majority_class_level"] == 0.75
    assert report["n_groups"] == 2
    other = fairness_report(net, X, y, sensitive_features=group, attack=FixedAttack(-X))
    assert other["robust_accuracy"] == 0.0
    both = pd.concat(
        [report, other], axis=1
    )  # attrs of plain values: concat still works
    assert both.shape == (len(report), 2)


# ---------------------------------------------------------------- group label forms


@pytest.mark.parametrize(
    "make_groups",
    [
        pytest.param(lambda g: np.where(g == "min", 7, 3), id="ints"),
        pytest.param(lambda g: g.tolist(), id="string-list"),
        pytest.param(
            lambda g: pd.Series(g, name="sex", dtype="category"), id="categorical"
        ),
        pytest.param(lambda g: pd.Categorical(g), id="pd.Categorical"),
        pytest.param(lambda g: pd.Series(g, name=0), id="int-named-series"),
        pytest.param(lambda g: g.reshape(-1, 1), id="2d-one-column"),
    ],
)
def test_group_label_forms(net, data, make_groups):
    X, y, group = data
    sf = make_groups(group)
    labels = check_sensitive_features(sf, len(y))
    table = worst_group(net, X, y, sensitive_features=sf, attack=pgd())
    assert set(table.index) == set(labels)
    assert not table.isna().any().any()
    assert table["count"].sum() == len(y)
    report = fairness_report(net, X, y, sensitive_features=sf, attack=pgd())
    assert report["worst_group_robust"] in set(labels)
    assert set(report.attrs["by_group"]) == set(labels)


def test_group_with_one_sample(net, data):
    X, y, group = data
    group = group.astype(object)
    group[5] = "solo"
    table = worst_group(net, X, y, sensitive_features=group, attack=pgd())
    assert table.loc["solo", "count"] == 1
    assert table.loc["solo", "standard"] in (0.0, 1.0)
    assert table.loc["solo", "standard_balanced"] == table.loc["solo", "standard"]
    levels = majority_class_levels(y, group)
    assert levels["solo"] == 1.0


def test_several_sensitive_columns_intersectional(net, data):
    X, y, group = data
    race = np.where(np.arange(len(y)) % 3 == 0, "x", "y")
    race[group == "min"] = "y"  # no ("min", "x") sample: an empty intersection
    sf = pd.DataFrame({"sex": group, "race": race})
    attack = CountingAttack(pgd())
    frames = robust_metric_frame(net, X, y, sensitive_features=sf, attack=attack)
    assert isinstance(frames.clean.by_group.index, pd.MultiIndex)
    assert frames.clean.by_group.index.names == ["sex", "race"]
    expected = direct_frame(
        {"accuracy": accuracy_score}, y, net.predict(attack.X_adv), sf
    )
    pd.testing.assert_frame_equal(frames.adversarial.by_group, expected.by_group)
    assert list(frames.by_group().index) == [
        "maj,x",
        "maj,y",
        "min,y",
    ]  # empty one dropped

    table = worst_group(net, X, y, sensitive_features=sf, attack=pgd())
    assert set(table.index) == set(check_sensitive_features(sf, len(y)))
    assert not table.isna().any().any()
    in_min = group == "min"  # every "min" sample has race "y"
    assert table.loc["min,y", "standard"] == pytest.approx(
        accuracy_score(y[in_min], net.predict(X[in_min]))
    )
    report = fairness_report(net, X, y, sensitive_features=sf, attack=pgd())
    assert report["n_groups"] == 3
    assert report["worst_group_standard"] in {"maj,x", "maj,y", "min,y"}
    # 2-d numpy arrays work the same way (fairlearn names the columns)
    table2 = worst_group(net, X, y, sensitive_features=sf.to_numpy(), attack=pgd())
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), table2.reset_index(drop=True)
    )


# ---------------------------------------------------------------- estimators


def test_pipeline_attack_in_transformed_space(data):
    X, y, group = data
    X = X * 10 + 5
    pipe = make_pipeline(
        StandardScaler(),
        RobustNeuralNetClassifier(
            MLP, module__n_features=4, adversarial=None, max_epochs=3, random_state=0
        ),
    ).fit(X, y)
    attack = CountingAttack(pgd())
    table = worst_group(pipe, X, y, sensitive_features=group, attack=attack)
    Xt = pipe[0].transform(X)
    np.testing.assert_allclose(attack.X, Xt, rtol=1e-5)
    net = pipe[-1]
    expected = group_scores(y, net.predict(Xt), net.predict(attack.X_adv), group)
    pd.testing.assert_frame_equal(table, expected)
    report = fairness_report(pipe, X, y, sensitive_features=group, attack=pgd())
    assert report["standard_accuracy"] == pytest.approx(pipe.score(X, y))


def test_pipeline_with_column_transformer_and_dataframe():
    X_num, y, group = make_data(40, seed=2)
    frame = pd.DataFrame(X_num[:, :3], columns=["a", "b", "c"])
    frame["colour"] = np.where(X_num[:, 3] > 0, "red", "blue")
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["a", "b", "c"]),
            ("cat", OneHotEncoder(), ["colour"]),
        ]
    )
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=5, adversarial=None, max_epochs=3, random_state=0
    )
    pipe = make_pipeline(pre, net).fit(frame, y)
    attack = CountingAttack(pgd())
    report = fairness_report(pipe, frame, y, sensitive_features=group, attack=attack)
    assert attack.X.shape == (40, 5)
    assert attack.n_calls == 1
    assert 0 <= report["worst_group_robust_accuracy"] <= 1


def test_string_class_labels(data):
    X, y, group = data
    labels = np.array(["no", "yes"])[y]
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=4, adversarial=None, max_epochs=3, random_state=0
    ).fit(X, labels)
    attack = CountingAttack(pgd())
    report = fairness_report(net, X, labels, sensitive_features=group, attack=attack)
    assert attack.y.tolist() == labels.tolist()
    mf = direct_frame(accuracy_score, labels, net.predict(X), group)
    assert report["worst_group_standard_accuracy"] == pytest.approx(mf.group_min())


# ---------------------------------------------------------------- errors


@pytest.fixture(params=["robust_metric_frame", "fairness_report", "worst_group"])
def evaluate(request):
    func = {
        "robust_metric_frame": robust_metric_frame,
        "fairness_report": fairness_report,
        "worst_group": worst_group,
    }[request.param]

    def call(estimator, X, y, sensitive_features, attack=None):
        attack = pgd() if attack is None else attack
        return func(
            estimator, X, y, sensitive_features=sensitive_features, attack=attack
        )

    return call


def test_nan_in_sensitive_features(net, data, evaluate):
    X, y, group = data
    bad = group.astype(object)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="sensitive_features contains missing values"):
        evaluate(net, X, y, bad)
    with pytest.raises(ValueError, match="sensitive_features contains missing values"):
        evaluate(net, X, y, pd.Series(bad))


def test_length_mismatch(net, data, evaluate):
    X, y, group = data
    with pytest.raises(ValueError, match="sensitive_features has 79"):
        evaluate(net, X, y, group[:-1])
    with pytest.raises(ValueError, match=r"y.* has 79"):
        evaluate(net, X, y[:-1], group)
    with pytest.raises(ValueError, match="sensitive_features is required"):
        evaluate(net, X, y, None)


def test_unused_categorical_level_is_refused(net, data, evaluate):
    X, y, group = data
    sf = pd.Series(
        pd.Categorical(group, categories=["maj", "min", "other"]), name="sex"
    )
    with pytest.raises(
        ValueError, match=r"sensitive_features has categorical level\(s\) 'other'"
    ):
        evaluate(net, X, y, sf)
    with pytest.raises(ValueError, match="remove_unused_categories"):
        evaluate(net, X, y, sf.to_frame())
    table = worst_group(
        net, X, y, sensitive_features=sf.cat.remove_unused_categories(), attack=pgd()
    )
    assert set(table.index) == {"maj", "min"}


def test_attack_without_perturb(net, data, evaluate):
    X, y, group = data
    with pytest.raises(TypeError, match="attack=.*has no perturb"):
        evaluate(net, X, y, group, attack=object())


def test_attack_none_is_refused_where_robust_numbers_are_needed(net, data):
    # fairness_report(attack=None) now gives the clean half (issue 12):
    # tests/metrics/test_metrics_report_clean_ci.py
    X, y, group = data
    for func in (robust_metric_frame, worst_group):
        with pytest.raises(TypeError, match="attack=None has no perturb"):
            func(net, X, y, sensitive_features=group, attack=None)


def test_unfitted_estimator(data, evaluate):
    X, y, group = data
    net = RobustNeuralNetClassifier(MLP, module__n_features=4, adversarial=None)
    with pytest.raises(NotFittedError):
        evaluate(net, X, y, group)
    with pytest.raises(NotFittedError):
        worst_group(
            net, X, y, sensitive_features=group, attack=None, criterion="standard"
        )


def test_not_a_net(data):
    from sklearn.linear_model import LogisticRegression

    X, y, group = data
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match="estimator=LogisticRegression"):
        fairness_report(clf, X, y, sensitive_features=group, attack=pgd())


def test_bad_criterion(net, data):
    X, y, group = data
    with pytest.raises(ValueError, match="criterion='worst' is not valid"):
        worst_group(
            net, X, y, sensitive_features=group, attack=pgd(), criterion="worst"
        )


def test_attack_returning_wrong_number_of_samples(net, data):
    X, y, group = data
    with pytest.raises(ValueError, match="attack.perturb returned 3 samples"):
        fairness_report(net, X, y, sensitive_features=group, attack=FixedAttack(X[:3]))
