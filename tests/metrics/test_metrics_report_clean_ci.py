"""fairness_report: numeric dtype, the clean half (attack=None), the by-group
table, bootstrap confidence intervals (issues 12 and 15)."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skfral.metrics import (
    GROUP_NAME_KEYS,
    METRIC_NAMES,
    WORST_GROUP_METRICS,
    FairnessReport,
    fairness_report,
)
from skfral.nn import PGD

from . import metrics_helpers
from .metrics_helpers import FlipAttack


def make_data(n=120, seed=0):
    return metrics_helpers.make_data(n, seed)


@pytest.fixture(scope="module")
def data(clean_fit):
    return clean_fit(120, max_epochs=2)[0]


@pytest.fixture(scope="module")
def net(clean_fit):
    return clean_fit(120, max_epochs=2)[1]


def group_accuracy(y, y_pred, group):
    """Per-group accuracy with plain pandas (independent of fairlearn)."""
    return pd.Series(y == y_pred).groupby(group).mean()


# ------------------------------------------------------------------ dtype, names


def test_report_is_float_and_rounds(net, data):
    X, y, group = data
    report = fairness_report(
        net, X, y, sensitive_features=group, attack=PGD(eps=0.3, random_state=0)
    )
    assert isinstance(report, FairnessReport) and isinstance(report, pd.Series)
    assert report.dtype == np.float64
    rounded = report.round(3)
    assert rounded["standard_accuracy"] == round(report["standard_accuracy"], 3)
    assert set(METRIC_NAMES) <= set(report.index)
    assert set(WORST_GROUP_METRICS) <= set(METRIC_NAMES)
    # names beside the numbers, still readable the old way (the runner's .get)
    clean_acc = group_accuracy(y, net.predict(X), group)
    assert report.worst_groups["worst_group_standard"] == clean_acc.idxmin()
    for key in GROUP_NAME_KEYS:
        assert key not in report.index
        assert report[key] == report.worst_groups[key]
        assert report.get(key, np.nan) == report.worst_groups[key]
    assert np.isnan(report.get("no_such_key", np.nan))
    with pytest.raises(KeyError):
        report["no_such_key"]


def test_by_group_table(net, data):
    X, y, group = data
    report = fairness_report(net, X, y, sensitive_features=group, attack=FlipAttack())
    table = report.by_group
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "standard",
        "robust",
        "standard_balanced",
        "robust_balanced",
        "standard_worst_class_recall",
        "robust_worst_class_recall",
        "majority_class_level",
        "count",
    ]
    assert table["count"].dtype.kind == "i"
    assert table["count"].to_dict() == pd.Series(group).value_counts().to_dict()
    expected_std = group_accuracy(y, net.predict(X), group)
    expected_rob = group_accuracy(y, net.predict(-X), group)
    for g in ("min", "maj"):
        assert table.loc[g, "standard"] == pytest.approx(expected_std[g])
        assert table.loc[g, "robust"] == pytest.approx(expected_rob[g])
    # the plain-dict attribute (what survives pd.concat) holds the same numbers
    rebuilt = pd.DataFrame.from_dict(report.attrs["by_group"], orient="index")
    pd.testing.assert_frame_equal(rebuilt, table, check_names=False, check_dtype=False)
    # survives the usual Series operations
    assert report.round(2).by_group.equals(table)


def test_report_concat_and_frames(net, data):
    X, y, group = data
    a = fairness_report(net, X, y, sensitive_features=group, attack=FlipAttack())
    b = fairness_report(net, X, y, sensitive_features=group)
    both = pd.concat({"attacked": a, "clean": b}, axis=1)
    assert both.shape == (len(a), 2)
    assert both.dtypes.tolist() == [np.float64, np.float64]
    again = pickle.loads(pickle.dumps(a))
    assert isinstance(again, FairnessReport)
    assert again.worst_groups == a.worst_groups
    assert again.by_group.equals(a.by_group)


# ---------------------------------------------------------------- attack=None


def test_attack_none_gives_the_clean_half(net, data):
    X, y, group = data
    full = fairness_report(net, X, y, sensitive_features=group, attack=FlipAttack())
    clean = fairness_report(net, X, y, sensitive_features=group)
    assert list(clean.index) == list(full.index)  # same keys, always
    robust_keys = [k for k in METRIC_NAMES if "robust" in k]
    standard_keys = [k for k in full.index if k not in robust_keys]
    assert len(robust_keys) == 6
    assert clean[robust_keys].isna().all()
    pd.testing.assert_series_equal(
        clean[standard_keys], full[standard_keys], check_series_type=False
    )
    assert clean["worst_group_robust"] is None
    assert clean["worst_group_standard"] == full["worst_group_standard"]
    assert clean.by_group["robust"].isna().all()
    assert clean.by_group["standard"].notna().all()
    # the standard accuracy computed independently
    assert clean["standard_accuracy"] == pytest.approx(np.mean(net.predict(X) == y))


# ---------------------------------------------------------------- bootstrap CIs


@pytest.mark.slow
def test_ci_brackets_the_estimates_and_is_reproducible(net, data):
    X, y, group = data
    kwargs = dict(sensitive_features=group, n_boot=40)
    report = fairness_report(net, X, y, attack=FlipAttack(), random_state=0, **kwargs)
    clean = fairness_report(net, X, y, random_state=0, **kwargs)
    again = fairness_report(net, X, y, random_state=0, **kwargs)
    other = fairness_report(net, X, y, random_state=1, **kwargs)
    pd.testing.assert_series_equal(clean, again)
    pd.testing.assert_frame_equal(clean.by_group, again.by_group)
    ci_keys = [k for k in report.index if "_ci_" in k]
    assert len(ci_keys) == 8
    std_keys = [k for k in ci_keys if "standard" in k]
    # the clean intervals do not depend on the attack (paired resamples)
    pd.testing.assert_series_equal(report[std_keys], clean[std_keys])
    assert not np.allclose(clean[std_keys], other[std_keys])
    table = report.by_group
    for kind in ("standard", "robust"):
        assert (table[f"{kind}_ci_low"] <= table[kind]).all()
        assert (table[kind] <= table[f"{kind}_ci_high"]).all()
        assert (table[f"{kind}_ci_low"] < table[f"{kind}_ci_high"]).all()
        for key in (f"{kind}_accuracy", f"worst_group_{kind}_accuracy"):
            assert report[f"{key}_ci_low"] <= report[key] <= report[f"{key}_ci_high"]
    assert report.attrs["n_boot"] == 40 and report.attrs["ci"] == 0.95


@pytest.mark.slow
def test_ci_matches_an_independent_bootstrap(net, data):
    """Percentile bootstrap written here with numpy: same intervals within noise."""
    X, y, group = data
    report = fairness_report(
        net, X, y, sensitive_features=group, n_boot=200, ci=0.9, random_state=0
    )
    correct = net.predict(X) == y
    rng = np.random.RandomState(123)
    accs = {"min": [], "maj": []}
    for _ in range(2000):
        idx = rng.randint(0, len(y), len(y))
        for g in accs:
            mask = group[idx] == g
            accs[g].append(correct[idx][mask].mean())
    for g, values in accs.items():
        low, high = np.quantile(values, [0.05, 0.95])
        assert report.by_group.loc[g, "standard_ci_low"] == pytest.approx(low, abs=0.05)
        assert report.by_group.loc[g, "standard_ci_high"] == pytest.approx(
            high, abs=0.05
        )


@pytest.mark.slow
def test_ci_width_shrinks_with_n(net):
    X, y, group = make_data(n=60, seed=1)
    widths = []
    for copies in (1, 16):  # same accuracies, 16 times the samples
        Xn, yn, gn = np.tile(X, (copies, 1)), np.tile(y, copies), np.tile(group, copies)
        report = fairness_report(
            net, Xn, yn, sensitive_features=gn, n_boot=40, random_state=0
        )
        widths.append(
            report.by_group["standard_ci_high"] - report.by_group["standard_ci_low"]
        )
    assert (widths[1] < 0.5 * widths[0]).all()  # ~ 1/sqrt(16) = 1/4 in theory


def test_attack_runs_once_per_batch_with_bootstrap(net, data):
    X, y, group = data

    class Counting(FlipAttack):
        n_calls = 0

        def perturb(self, net, X, y=None):
            Counting.n_calls += 1
            return super().perturb(net, X, y)

    fairness_report(
        net, X, y, sensitive_features=group, attack=Counting(), n_boot=5, random_state=0
    )
    assert Counting.n_calls == 1  # 120 samples: one batch of 512


def test_ci_without_attack_has_nan_robust_bounds(net, data):
    X, y, group = data
    report = fairness_report(net, X, y, sensitive_features=group, n_boot=20)
    assert np.isnan(report["robust_accuracy_ci_low"])
    assert report.by_group["robust_ci_high"].isna().all()
    assert report.by_group["standard_ci_high"].notna().all()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_boot": 0}, ValueError, r"n_boot=0 is invalid: expected an integer >= 1"),
        ({"n_boot": 2.5}, TypeError, r"n_boot=2.5 has type float"),
        ({"n_boot": 10, "ci": 1.0}, ValueError, r"ci=1.0 is invalid: expected a "),
        ({"n_boot": 10, "ci": 0}, ValueError, r"ci=0 is invalid"),
        ({"n_boot": 10, "ci": "95%"}, TypeError, r"ci='95%' has type str"),
        ({"random_state": "0"}, TypeError, r"random_state='0' has type str"),
        ({"batch_size": 0}, ValueError, r"batch_size=0 is invalid"),
    ],
)
def test_bad_bootstrap_settings(net, data, kwargs, error, match):
    X, y, group = data
    with pytest.raises(error, match=match):
        fairness_report(net, X, y, sensitive_features=group, **kwargs)


# ------------------------------------------------------------------------ APGD


def test_apgd_works_as_the_attack(net, data):
    from skfral.metrics import robustness_curve
    from skfral.nn import APGD

    X, y, group = data
    direct = {}
    for loss in ("ce", "dlr"):
        attack = APGD(loss=loss, eps=0.3, n_steps=5, random_state=0)
        report = fairness_report(net, X, y, sensitive_features=group, attack=attack)
        # the same attack run directly (one batch: the same random start)
        X_adv = APGD(loss=loss, eps=0.3, n_steps=5, random_state=0).perturb(net, X, y)
        expected = direct[loss] = group_accuracy(y, net.predict(X_adv), group)
        assert report["worst_group_robust_accuracy"] == pytest.approx(expected.min())
        assert report["robust_accuracy"] <= report["standard_accuracy"]
    curve = robustness_curve(
        net,
        X,
        y,
        sensitive_features=group,
        eps=[0, 0.3],
        attack=APGD(eps=0.1, n_steps=5, random_state=0),
    )
    at = curve[curve["eps"] == 0.3].set_index("group")["accuracy"]
    assert at.to_dict() == pytest.approx(direct["ce"].to_dict())  # cloned at eps 0.3


def test_names_and_numbers_asked_together(net, data):
    X, y, group = data
    report = fairness_report(net, X, y, sensitive_features=group, attack=FlipAttack())
    mixed = report[["n_groups", "worst_group_robust", "worst_group_robust_accuracy"]]
    assert mixed.dtype == object
    assert mixed.tolist() == [
        2.0,
        report.worst_groups["worst_group_robust"],
        report["worst_group_robust_accuracy"],
    ]
    numbers = report[["n_groups", "robust_accuracy"]]
    assert isinstance(numbers, FairnessReport) and numbers.dtype == np.float64
    full = report.with_group_names()
    assert full.dtype == object
    keys = list(full.index)
    position = keys.index("worst_group_robust_accuracy")
    assert keys[position + 1 : position + 3] == list(GROUP_NAME_KEYS)
    assert len(full) == len(report) + 2
    # collected as DataFrame columns, names as rows (the old layout)
    table = pd.DataFrame({"a": full, "b": full})
    assert table.loc["worst_group_standard", "a"] == report["worst_group_standard"]
