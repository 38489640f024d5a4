"""plot_group_accuracy draws on the given Axes under the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from skfral.metrics import (  # noqa: E402
    fairness_report,
    group_scores,
    plot_group_accuracy,
    robust_metric_frame,
    worst_group,
)
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    group = np.array(["a", "b", "c", "d"])[rng.randint(0, 4, size=40)]
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=4, adversarial=None, max_epochs=2, random_state=0
    ).fit(X, y)
    return net, X, y, group


def attack():
    return PGD(eps=0.3, n_steps=2, random_state=0)


def bar_heights(ax):
    return [p.get_height() for p in ax.patches]


def test_plot_robust_metric_frame(fitted):
    net, X, y, group = fitted
    frames = robust_metric_frame(net, X, y, sensitive_features=group, attack=attack())
    ax = Figure().subplots()
    assert plot_group_accuracy(frames, ax=ax) is ax
    assert len(ax.patches) == 8  # 4 groups x (clean, adversarial)
    table = frames.by_group()
    np.testing.assert_allclose(
        bar_heights(ax), np.concatenate([table["clean"], table["adversarial"]])
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]


def test_plot_worst_group_table_keeps_its_order(fitted):
    net, X, y, group = fitted
    table = worst_group(net, X, y, sensitive_features=group, attack=attack())
    ax = Figure().subplots()
    plot_group_accuracy(table, ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(g) for g in table.index]
    clean_only = worst_group(
        net, X, y, sensitive_features=group, attack=None, criterion="standard"
    )
    ax = Figure().subplots()
    plot_group_accuracy(clean_only, ax=ax, metric="balanced_accuracy")
    np.testing.assert_allclose(bar_heights(ax), clean_only["standard_balanced"])


def test_plot_report_series_with_majority_marks(fitted):
    net, X, y, group = fitted
    report = fairness_report(net, X, y, sensitive_features=group, attack=attack())
    ax = Figure().subplots()
    plot_group_accuracy(report, ax=ax)
    assert len(ax.patches) == 8
    assert len(ax.collections) == 1  # the dashed majority-class marks
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "majority-class level" in labels


def test_plot_creates_axes_when_none():
    import matplotlib.pyplot as plt

    table = group_scores([0, 1, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0], ["a", "a", "b", "b"])
    ax = plot_group_accuracy(table)
    try:
        assert len(ax.patches) == 4
    finally:
        plt.close(ax.figure)


def test_plot_errors():
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="without attrs"):
        plot_group_accuracy(pd.Series({"standard_accuracy": 0.5}), ax=ax)
    with pytest.raises(ValueError, match="expected 'standard'"):
        plot_group_accuracy(pd.DataFrame({"x": [1.0]}), ax=ax)
    with pytest.raises(TypeError, match="report_or_frame of type list"):
        plot_group_accuracy([0.5], ax=ax)
    table = group_scores([0, 1], [0, 1], [0, 0], ["a", "b"])
    with pytest.raises(ValueError, match="metric='f1'"):
        plot_group_accuracy(table, ax=ax, metric="f1")
