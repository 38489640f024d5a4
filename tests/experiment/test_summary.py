"""summarize, paired_differences and plot_learning_curves on a hand-made table."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from skfral.experiment import (
    SUMMARY_METRICS,
    paired_differences,
    plot_learning_curves,
    summarize,
    summary_markdown,
    write_report,
)


def _table():
    rows = []
    # robust accuracy at rounds 0, 1, 2 per (strategy, seed)
    curves = {
        "random": {0: [0.5, 0.6, 0.7], 1: [0.4, 0.5, 0.6], 2: [0.5, 0.5, 0.5]},
        "worst_group": {0: [0.5, 0.7, 0.8], 1: [0.4, 0.4, 0.5], 2: [0.5, 0.6, 0.6]},
        "jin": {0: [0.5, 0.7, 0.9], 1: [0.4, 0.6, 0.7], 2: [0.5, 0.6, 0.4]},
    }
    for strategy, seeds in curves.items():
        for seed, values in seeds.items():
            for r, v in enumerate(values):
                row = {
                    "dataset": "d",
                    "strategy": strategy,
                    "seed": seed,
                    "round": r,
                    "n_labels": 10 + 5 * r,
                    "majority_class_level": 0.45,
                    "query_seconds": np.nan if r == 0 else 0.1 * (1 + seed),
                    "train_seconds": 0.2,
                }
                for m in SUMMARY_METRICS:
                    row[m] = v
                rows.append(row)
    return pd.DataFrame(rows)


def test_paired_differences_counts_better_seeds():
    diffs = paired_differences(
        _table(), "random", metrics=["worst_group_robust_accuracy"]
    )
    final = diffs[(diffs["strategy"] == "jin") & (diffs["aggregate"] == "final")].iloc[
        0
    ]
    # jin - random at the last round: +0.2, +0.1, -0.1
    assert final["mean"] == pytest.approx(0.2 / 3)
    assert final["std"] == pytest.approx(np.std([0.2, 0.1, -0.1], ddof=1))
    assert (final["n_better"], final["n_seeds"]) == (2, 3)
    rounds = diffs[
        (diffs["strategy"] == "jin") & (diffs["aggregate"] == "rounds")
    ].iloc[0]
    assert rounds["mean"] == pytest.approx(np.mean([0.1, 2 / 30, 0.0]))
    assert set(diffs["strategy"]) == {"jin", "worst_group"}
    assert paired_differences(_table(), "absent").empty


def test_summarize_has_final_rounds_and_paired_columns():
    s = summarize(_table())
    assert s["strategy"].tolist() == ["random", "worst_group", "jin"]
    jin = s.set_index("strategy").loc["jin"]
    assert jin["n_seeds"] == 3
    assert jin["worst_group_robust_accuracy_final_mean"] == pytest.approx(2 / 3)
    # mean over rounds per seed: 0.7, 17/30, 0.5; then the mean over seeds
    assert jin["worst_group_robust_accuracy_rounds_mean"] == pytest.approx(
        np.mean([0.7, 17 / 30, 0.5])
    )
    assert jin["worst_group_robust_accuracy_final_vs_random_n_better"] == 2
    assert jin["worst_group_robust_accuracy_final_vs_worst_group_n_better"] == 2
    assert np.isnan(
        s.set_index("strategy").loc[
            "random", "worst_group_robust_accuracy_final_vs_random_mean"
        ]
    )
    assert jin["query_seconds_mean"] == pytest.approx(0.2)
    text = summary_markdown(s)
    assert "## d" in text and "against worst_group" in text and "(2/3)" in text


def test_plot_learning_curves_on_axes_and_file(tmp_path):
    df = _table()
    axes = Figure().subplots(1, 2)
    out = plot_learning_curves(df, axes)
    assert len(out) == 2
    labels = [t.get_text() for t in axes[-1].get_legend().get_texts()]
    assert labels == ["random", "worst_group", "jin", "majority-class level"]
    line = axes[1].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [10, 15, 20])
    np.testing.assert_allclose(line.get_ydata(), [14 / 30, 16 / 30, 0.6])
    path = plot_learning_curves(df, tmp_path / "c.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="one Axes per metric"):
        plot_learning_curves(df, axes[0])
    with pytest.raises(ValueError, match="dataset='x' is not in the table"):
        plot_learning_curves(df, tmp_path / "c.png", dataset="x")


@pytest.mark.slow
def test_write_report_files(tmp_path):
    summary, text, files = write_report(_table(), tmp_path)
    assert [f.name for f in files] == [
        "summary.md",
        "summary.csv",
        "curves_d.png",
        "curves_d_balanced.png",
    ]
    assert pd.read_csv(tmp_path / "summary.csv").shape[0] == 3
    assert text.startswith("# FRAL results")


def test_summarize_refuses_incomplete_table():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['round'\]"):
        summarize(_table().drop(columns=["round"]))


def _reference_lines(ax):
    return {
        line.get_label(): line.get_ydata()[0]
        for line in ax.get_lines()
        if line.get_linestyle() in ("--", ":")
    }


def test_balanced_curves_draw_the_balanced_trivial_level_not_the_majority_line():
    df = _table()
    balanced = [
        "worst_group_standard_balanced_accuracy",
        "worst_group_robust_balanced_accuracy",
    ]
    # plain panels keep the majority-class line (0.45 in the table)
    plain = plot_learning_curves(df, Figure().subplots(1, 2))
    assert _reference_lines(plain[0]) == {"majority-class level": pytest.approx(0.45)}
    # balanced panels: 1/k for k classes (a constant prediction's balanced accuracy)
    axes = plot_learning_curves(
        df, Figure().subplots(1, 2), metrics=balanced, n_classes=3
    )
    for ax in axes:
        lines = _reference_lines(ax)
        assert lines == {"trivial balanced level (1/3)": pytest.approx(1 / 3)}
    # from a column of the table, and per data set from a dict
    axes = plot_learning_curves(
        df.assign(n_classes=4), Figure().subplots(1, 2), metrics=balanced
    )
    assert _reference_lines(axes[0]) == {"trivial balanced level (1/4)": 0.25}
    axes = plot_learning_curves(
        df, Figure().subplots(1, 2), metrics=balanced, n_classes={"d": 2}
    )
    assert _reference_lines(axes[1]) == {"trivial balanced level (1/2)": 0.5}
    # an unknown data set with no class count: no (wrong) reference line at all
    axes = plot_learning_curves(df, Figure().subplots(1, 2), metrics=balanced)
    assert _reference_lines(axes[0]) == {}
    with pytest.raises(ValueError, match="n_classes=1 is invalid"):
        plot_learning_curves(df, Figure().subplots(1, 2), metrics=balanced, n_classes=1)


def test_balanced_level_of_a_bundled_data_set_is_read_from_the_registry():
    df = _table().assign(dataset="synthetic")
    ax = Figure().subplots()
    plot_learning_curves(df, ax, metrics=["worst_group_robust_balanced_accuracy"])
    assert _reference_lines(ax) == {"trivial balanced level (1/2)": 0.5}


def test_summarize_adds_intervals_and_win_tie_loss_columns():
    s = summarize(_table(), metrics=["worst_group_robust_accuracy"], n_boot=500)
    jin = s.set_index("strategy").loc["jin"]
    col = "worst_group_robust_accuracy_rounds"
    assert jin[f"{col}_ci_low"] <= jin[f"{col}_mean"] <= jin[f"{col}_ci_high"]
    assert jin[f"{col}_wins"] + jin[f"{col}_ties"] + jin[f"{col}_losses"] == 2
    text = summary_markdown(s, metrics=["worst_group_robust_accuracy"])
    assert "Wins / ties / losses against every other strategy" in text


def test_summary_says_when_seeds_are_too_few_for_a_verdict():
    # three seeds: fewer than the 6 non-zero differences a verdict needs
    s = summarize(_table(), n_boot=50)
    text = summary_markdown(s)
    assert "Too few seeds for a verdict (fewer than 6): random (3)" in text
    assert (s["worst_group_robust_accuracy_rounds_wins"] == 0).all()
