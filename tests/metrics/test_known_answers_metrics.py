"""Known answers for the fairness metrics (issue 17).

The net's clean and adversarial predictions are chosen by the test (the input
row holds the probabilities, a controlled attack swaps in the adversarial
ones); every expected number is then computed here with plain numpy loops,
independently of fairlearn and of skfral.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from skfral.metrics import (
    fairness_report,
    group_scores,
    majority_class_levels,
    robust_metric_frame,
    worst_group,
)
from skfral.nn import RobustNeuralNetClassifier

C = 3


class ProbaModule(torch.nn.Module):
    """Outputs ``log p`` with ``p`` the first ``C`` input columns."""

    def __init__(self, n_classes=C):
        super().__init__()
        self.n_classes = n_classes
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.log(x[:, : self.n_classes].clamp_min(1e-12)) + 0.0 * self.dummy


class SwapToAdv:
    """The attack: the clean block becomes the adversarial block."""

    calls = 0

    def perturb(self, net, X, y=None):
        type(self).calls += 1
        X = np.array(X, dtype=np.float32, copy=True)
        X[:, :C] = X[:, C : 2 * C]
        return X


def rows(pred, sure=0.8):
    p = np.full((len(pred), C), (1 - sure) / (C - 1))
    p[np.arange(len(pred)), pred] = sure
    return p


def world(seed=0):
    """Three groups of different sizes and class mixes, random predictions."""
    rng = np.random.RandomState(seed)
    g = np.array(["a"] * 9 + ["b"] * 12 + ["c"] * 15)
    y = np.concatenate(
        [
            rng.choice(C, 9, p=[0.6, 0.3, 0.1]),
            rng.choice(C, 12, p=[0.2, 0.2, 0.6]),
            rng.choice(C, 15, p=[0.34, 0.33, 0.33]),
        ]
    )
    y[:2] = [2, 1]  # every class is present in group a
    clean = np.where(rng.rand(len(y)) < 0.7, y, rng.randint(0, C, len(y)))
    adv = np.where(rng.rand(len(y)) < 0.45, y, rng.randint(0, C, len(y)))
    X = np.hstack([rows(clean), rows(adv)]).astype(np.float32)
    net = RobustNeuralNetClassifier(
        ProbaModule, adversarial=None, max_epochs=0, random_state=0
    ).fit(X, y)
    return net, X, y, g, clean, adv


# ------------------------------------------------------------ by-hand metrics
def acc(y, p):
    return sum(int(a == b) for a, b in zip(y, p)) / len(y)


def recall(y, p, c):
    idx = [i for i in range(len(y)) if y[i] == c]
    return sum(int(p[i] == c) for i in idx) / len(idx) if idx else np.nan


def balanced(y, p):
    return float(np.mean([recall(y, p, c) for c in sorted(set(y.tolist()))]))


def per_group(fn, y, p, g):
    return {k: fn(y[g == k], p[g == k]) for k in sorted(set(g.tolist()))}


def majority(y):
    return max(np.bincount(y)) / len(y)


@pytest.mark.slow
def test_world_is_a_strict_test():
    _, _, y, g, clean, adv = world(seed=1)
    for pred in (clean, adv):
        values = sorted(per_group(acc, y, pred, g).values())
        assert values[0] < values[1] < values[2]  # unique worst and best groups
    assert per_group(acc, y, clean, g) != per_group(balanced, y, clean, g)


def test_fairness_report_numbers_by_hand():
    net, X, y, g, clean, adv = world(seed=1)  # unique worst groups
    SwapToAdv.calls = 0
    report = fairness_report(net, X, y, sensitive_features=g, attack=SwapToAdv())
    assert SwapToAdv.calls >= 1
    expected = {"n_samples": len(y), "n_groups": 3}
    for kind, pred in (("standard", clean), ("robust", adv)):
        accs = per_group(acc, y, pred, g)
        bals = per_group(balanced, y, pred, g)
        cells = [
            recall(y[g == k], pred[g == k], c)
            for k in "abc"
            for c in range(C)
            if np.any(y[g == k] == c)
        ]
        expected.update(
            {
                f"{kind}_accuracy": acc(y, pred),
                f"{kind}_balanced_accuracy": balanced(y, pred),
                f"worst_group_{kind}_accuracy": min(accs.values()),
                f"{kind}_accuracy_gap": max(accs.values()) - min(accs.values()),
                f"worst_group_{kind}_balanced_accuracy": min(bals.values()),
                f"worst_group_class_{kind}_recall": min(cells),
            }
        )
        assert report[f"worst_group_{kind}"] == min(accs, key=accs.get)
    expected["majority_class_level"] = min(majority(y[g == k]) for k in "abc")
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, abs=1e-12), key


def test_fairness_report_by_group_table_by_hand():
    net, X, y, g, clean, adv = world(seed=6)
    report = fairness_report(net, X, y, sensitive_features=g, attack=SwapToAdv())
    table = report.by_group
    assert list(table.index) == ["a", "b", "c"]
    for k in "abc":
        m = g == k
        row = table.loc[k]
        assert row["count"] == m.sum()
        assert row["standard"] == pytest.approx(acc(y[m], clean[m]))
        assert row["robust"] == pytest.approx(acc(y[m], adv[m]))
        assert row["standard_balanced"] == pytest.approx(balanced(y[m], clean[m]))
        assert row["robust_balanced"] == pytest.approx(balanced(y[m], adv[m]))
        assert row["majority_class_level"] == pytest.approx(majority(y[m]))
        for kind, pred in (("standard", clean), ("robust", adv)):
            worst_recall = np.nanmin([recall(y[m], pred[m], c) for c in range(C)])
            assert row[f"{kind}_worst_class_recall"] == pytest.approx(worst_recall)


def test_fairness_report_without_attack_is_the_clean_half():
    net, X, y, g, clean, _ = world(seed=2)
    report = fairness_report(net, X, y, sensitive_features=g, attack=None)
    assert report["standard_accuracy"] == pytest.approx(acc(y, clean))
    assert np.isnan(report["robust_accuracy"])
    assert np.isnan(report["worst_group_robust_accuracy"])


CRITERIA = {
    "standard": lambda y, c, a: acc(y, c),
    "robust": lambda y, c, a: acc(y, a),
    "mean": lambda y, c, a: (acc(y, c) + acc(y, a)) / 2,
    "balanced_standard": lambda y, c, a: balanced(y, c),
    "balanced_robust": lambda y, c, a: balanced(y, a),
    "balanced_mean": lambda y, c, a: (balanced(y, c) + balanced(y, a)) / 2,
}


@pytest.mark.parametrize("criterion", list(CRITERIA))
@pytest.mark.parametrize("seed", [0, 3])
def test_worst_group_ranks_groups_by_the_criterion(criterion, seed):
    net, X, y, g, clean, adv = world(seed=seed)
    by_hand = {
        k: CRITERIA[criterion](y[g == k], clean[g == k], adv[g == k]) for k in "abc"
    }
    order = sorted(by_hand, key=lambda k: (by_hand[k], k))
    table = worst_group(
        net, X, y, sensitive_features=g, attack=SwapToAdv(), criterion=criterion
    )
    assert list(table.index) == order
    np.testing.assert_allclose(table["score"], [by_hand[k] for k in order], atol=1e-12)
    np.testing.assert_allclose(
        table["standard"], [acc(y[g == k], clean[g == k]) for k in order]
    )
    np.testing.assert_allclose(
        table["robust_balanced"], [balanced(y[g == k], adv[g == k]) for k in order]
    )
    assert table["count"].tolist() == [int((g == k).sum()) for k in order]
    # group_scores gives the same table from the predictions themselves
    pd.testing.assert_frame_equal(
        group_scores(y, clean, adv, g, criterion=criterion), table
    )


def test_worst_group_ties_keep_group_label_order():
    y = np.array([0, 1, 0, 1, 0, 1])
    pred = np.array([0, 0, 0, 0, 0, 0])  # every group: accuracy 1/2
    g = np.array(["c", "c", "a", "a", "b", "b"])
    table = group_scores(y, pred, pred, g, criterion="standard")
    assert list(table.index) == ["a", "b", "c"]
    np.testing.assert_allclose(table["score"], 0.5)


def test_robust_metric_frame_by_hand():
    net, X, y, g, clean, adv = world(seed=4)
    frame = robust_metric_frame(net, X, y, sensitive_features=g, attack=SwapToAdv())
    np.testing.assert_array_equal(frame.y_pred_clean, clean)
    np.testing.assert_array_equal(frame.y_pred_adv, adv)
    table = frame.by_group()
    for k in "abc":
        assert table.loc[k, "clean"] == pytest.approx(acc(y[g == k], clean[g == k]))
        assert table.loc[k, "adversarial"] == pytest.approx(acc(y[g == k], adv[g == k]))


def test_majority_class_levels_by_hand():
    y = np.array([0, 0, 1, 2, 2, 2, 1, 1, 0, 1])
    g = np.array(["x"] * 3 + ["y"] * 4 + ["z"] * 3)
    levels = majority_class_levels(y, g)
    assert levels.to_dict() == pytest.approx({"x": 2 / 3, "y": 3 / 4, "z": 2 / 3})


def test_intersectional_groups_by_hand():
    net, X, y, g, clean, adv = world(seed=5)
    second = np.where(np.arange(len(y)) % 2 == 0, "even", "odd")
    sf = pd.DataFrame({"g": g, "parity": second})
    table = worst_group(net, X, y, sensitive_features=sf, attack=SwapToAdv())
    keys = [f"{a},{b}" for a in "abc" for b in ("even", "odd")]
    by_hand = {}
    for key in keys:
        a, b = key.split(",")
        m = (g == a) & (second == b)
        by_hand[key] = (acc(y[m], clean[m]) + acc(y[m], adv[m])) / 2
    order = sorted(by_hand, key=lambda k: (by_hand[k], k))
    assert list(table.index) == order
    np.testing.assert_allclose(table["score"], [by_hand[k] for k in order], atol=1e-12)


def test_with_group_names_puts_the_names_after_the_robust_accuracy():
    net, X, y, g, clean, adv = world(seed=1)
    report = fairness_report(net, X, y, sensitive_features=g, attack=SwapToAdv())
    full = report.with_group_names()
    keys = list(full.index)
    at = keys.index("worst_group_robust_accuracy")
    assert keys[at + 1 : at + 3] == ["worst_group_standard", "worst_group_robust"]
    assert [k for k in keys if k not in report.worst_groups] == list(report.index)
    accs = {
        kind: per_group(acc, y, pred, g)
        for kind, pred in (("standard", clean), ("robust", adv))
    }
    assert full["worst_group_standard"] == min(
        accs["standard"], key=accs["standard"].get
    )
    assert full["worst_group_robust"] == min(accs["robust"], key=accs["robust"].get)
    assert full.dtype == object and full.name == report.name
    assert full["standard_accuracy"] == pytest.approx(acc(y, clean))
    assert full.attrs["worst_groups"] == report.worst_groups
    # without the robust accuracy, the names go last
    clean_only = report.drop(["worst_group_robust_accuracy"]).with_group_names()
    assert list(clean_only.index)[-2:] == ["worst_group_standard", "worst_group_robust"]


@pytest.mark.slow
def test_bootstrap_intervals_of_sure_groups_are_points():
    net, X, y, g, clean, adv = world(seed=1)
    X = X.copy()
    sure = g == "c"  # group c: every clean prediction right
    X[sure, :C] = rows(y[sure])
    report = fairness_report(
        net, X, y, sensitive_features=g, attack=SwapToAdv(), n_boot=40, random_state=0
    )
    table = report.by_group
    assert (
        table.loc["c", "standard_ci_low"] == table.loc["c", "standard_ci_high"] == 1.0
    )
    for kind in ("standard", "robust"):
        for key in (f"{kind}_accuracy", f"worst_group_{kind}_accuracy"):
            assert report[f"{key}_ci_low"] <= report[key] + 1e-12
            assert report[key] - 1e-12 <= report[f"{key}_ci_high"]
            assert report[f"{key}_ci_low"] < report[f"{key}_ci_high"]
        assert np.all(table[f"{kind}_ci_low"] <= table[kind] + 1e-12)
        assert np.all(table[kind] <= table[f"{kind}_ci_high"] + 1e-12)
    narrow = fairness_report(
        net,
        X,
        y,
        sensitive_features=g,
        attack=SwapToAdv(),
        n_boot=40,
        ci=0.5,
        random_state=0,
    )
    width = report["standard_accuracy_ci_high"] - report["standard_accuracy_ci_low"]
    assert (
        narrow["standard_accuracy_ci_high"] - narrow["standard_accuracy_ci_low"] < width
    )


@pytest.mark.slow
def test_bootstrap_intervals_are_reproducible_with_random_state():
    """The same random_state gives the same intervals; another seed moves them
    (40 resamples of 3 groups cannot repeat every quantile by chance)."""
    net, X, y, g, clean, adv = world(seed=2)

    def cis(seed):
        report = fairness_report(
            net,
            X,
            y,
            sensitive_features=g,
            attack=SwapToAdv(),
            n_boot=40,
            random_state=seed,
        )
        table = report.by_group
        cols = [c for c in table.columns if c.endswith(("_ci_low", "_ci_high"))]
        keys = [k for k in report.index if k.endswith(("_ci_low", "_ci_high"))]
        return np.concatenate([table[cols].to_numpy().ravel(), report[keys].to_numpy()])

    first = cis(0)
    np.testing.assert_array_equal(cis(0), first)
    assert not np.array_equal(cis(1), first)


def test_with_group_names_of_a_report_built_by_hand():
    from skfral.metrics import FairnessReport

    report = FairnessReport(
        {"standard_accuracy": 0.75, "worst_group_robust_accuracy": 0.5}
    )
    full = report.with_group_names()  # no names recorded: just the numbers
    assert full.to_dict() == {
        "standard_accuracy": 0.75,
        "worst_group_robust_accuracy": 0.5,
    }
    assert full.dtype == object


# ------------------------------------------- intersections and report lookups
def two_column_groups(n):
    """sex x race where ("f", "z") is empty and ("m", "z") a single sample."""
    sex = np.array(["f", "m"] * (n // 2))
    race = np.array(["x", "x", "y"] * (n // 3))[:n]
    race[1] = "z"  # sex[1] == "m"
    return pd.DataFrame({"sex": sex, "race": race})


def test_group_counts_list_the_non_empty_intersections():
    net, X, y, _, _, _ = world(seed=3)
    sf = two_column_groups(len(y))
    frames = robust_metric_frame(net, X, y, sensitive_features=sf, attack=SwapToAdv())
    expected = {}
    for s, r in zip(sf["sex"], sf["race"]):
        expected[f"{s},{r}"] = expected.get(f"{s},{r}", 0) + 1
    assert expected["m,z"] == 1 and "f,z" not in expected
    counts = frames.group_counts
    assert counts.to_dict() == expected
    assert counts.name == "count"
    assert counts.dtype.kind == "i"


def test_majority_class_levels_of_the_non_empty_intersections():
    net, X, y, _, _, _ = world(seed=3)
    sf = two_column_groups(len(y))
    levels = majority_class_levels(y, sf)
    expected = {}
    for key in {f"{s},{r}" for s, r in zip(sf["sex"], sf["race"])}:
        members = [
            yi for yi, s, r in zip(y, sf["sex"], sf["race"]) if f"{s},{r}" == key
        ]
        expected[key] = max(members.count(c) for c in set(members)) / len(members)
    assert levels.to_dict() == pytest.approx(expected)
    assert levels.dtype == np.float64
    with pytest.raises(
        ValueError,
        match=r"Inconsistent lengths: y has 35 samples, sensitive_features has 36",
    ):
        majority_class_levels(y[:-1], sf)


def test_report_lookups_of_values_and_group_names():
    from skfral.metrics import FairnessReport

    net, X, y, g, clean, adv = world(seed=0)
    report = fairness_report(net, X, y, sensitive_features=g, attack=SwapToAdv())
    robust = {k: acc(y[g == k], adv[g == k]) for k in "abc"}
    worst = min(robust, key=robust.get)
    # a list with a group-name key: an object Series named as the report
    mixed = report[["robust_accuracy", "worst_group_robust"]]
    assert mixed.dtype == object and mixed.name == report.name
    assert mixed.to_dict() == {
        "robust_accuracy": pytest.approx(acc(y, adv)),
        "worst_group_robust": worst,
    }
    # a list of numbers only stays a float Series
    plain = report[["robust_accuracy", "worst_group_robust_accuracy"]]
    assert plain.dtype == np.float64
    assert plain.tolist() == pytest.approx([acc(y, adv), robust[worst]])
    # a hand-built report: a name key held as a value is that value; one that is
    # neither a value nor a recorded name is a KeyError
    by_hand = FairnessReport({"worst_group_standard": 0.5, "standard_accuracy": 0.75})
    assert by_hand["worst_group_standard"] == 0.5
    with pytest.raises(KeyError):
        by_hand["worst_group_robust"]


def test_group_scores_of_intersections_ties_and_types():
    """Empty intersections are left out, the flat labels are named after the
    columns, equal scores keep the groups' label order (also past 16 groups,
    where an unstable sort would move them) and the columns have fixed types."""
    rng = np.random.RandomState(5)
    letters = [f"g{i:02d}" for i in range(20)]
    sf = pd.DataFrame(
        {"a": np.repeat(letters, 4), "b": np.tile(["x", "x", "y", "y"], 20)}
    )
    sf.loc[sf["a"] == "g07", "b"] = "x"  # (g07, y) is empty
    y = rng.randint(0, 2, len(sf))
    y_clean = y.copy()
    y_clean[::8] = 1 - y_clean[::8]  # a few errors; many groups tie at 1.0
    table = group_scores(y, y_clean, None, sf, criterion="standard")
    keys = [f"{a},{b}" for a, b in zip(sf["a"], sf["b"])]
    present = sorted(set(keys))
    assert "g07,y" not in present and sorted(table.index) == present
    assert table.index.name == "a,b" and table.index.dtype == object
    score = {
        k: np.mean([y[i] == y_clean[i] for i in range(len(y)) if keys[i] == k])
        for k in present
    }
    # by score, ties in label order
    assert list(table.index) == sorted(present, key=lambda k: (score[k], k))
    assert table["count"].dtype.kind == "i"
    assert table["standard"].dtype == np.float64
    assert table["count"].to_dict() == {k: keys.count(k) for k in present}


def test_group_accuracies_of_single_class_groups_raise_no_warning():
    """A group whose true labels are one class (and predicted another) has a
    defined balanced accuracy: no scikit-learn warning leaks out."""
    import warnings

    y = np.array([0, 0, 0, 1, 0, 1])
    y_pred = np.array([0, 1, 1, 1, 0, 0])
    g = np.array(["a", "a", "a", "b", "b", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = group_scores(y, y_pred, y_pred, g)
    # group a: only class 0, recall 1/3
    assert table.loc["a", "standard_balanced"] == pytest.approx(1 / 3)
