"""The majority floor beside the strategies (issue 24 item 3): tables, plots, warning."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skfral.experiment import (
    TrivialModelWarning,
    derive_seed,
    plot_learning_curves,
    run_fral,
    summarize,
    summary_markdown,
)
from skfral.experiment._stats import trivial_strategies, warn_if_trivial

M = "worst_group_robust_accuracy"


def _table():
    """jin above the floor, random at it, badge below; floor 0.6 then 0.5."""
    rows = []
    finals = {"jin": 0.8, "random": 0.5, "badge": 0.4}
    for strategy, final in finals.items():
        for seed in range(2):
            for r, (value, floor) in enumerate(((0.55, 0.6), (final, 0.5))):
                rows.append(
                    {
                        "dataset": "d",
                        "strategy": strategy,
                        "seed": seed,
                        "round": r,
                        "n_labels": 10 + 10 * r,
                        M: value,
                        "worst_group_standard_accuracy": value + 0.05,
                        "majority_class_level": 0.7,
                        "floor_accuracy": floor + 0.1,
                        "floor_worst_group_accuracy": floor,
                        "floor_balanced_accuracy": 0.5,
                    }
                )
    return pd.DataFrame(rows)


def test_summary_has_the_floor_columns_and_a_section():
    s = summarize(_table(), metrics=[M], n_boot=50).set_index("strategy")
    # the final round's floor, mean over seeds (not round 0's 0.6)
    assert s.loc["jin", "floor_worst_group_accuracy_final_mean"] == pytest.approx(0.5)
    assert s.loc["jin", "floor_accuracy_final_mean"] == pytest.approx(0.6)
    assert s.loc["jin", "floor_balanced_accuracy_final_mean"] == pytest.approx(0.5)
    text = summary_markdown(s.reset_index(), metrics=[M])
    assert "### Majority floor" in text
    assert "majority floor (WG)" in text  # the column beside the strategies
    below = text.split("**Not above the majority floor**")[1].split("\n")[0]
    # random equals the floor (0.5), badge is under it; jin (0.8) is above
    assert "random (0.500)" in below and "badge (0.400)" in below
    assert "jin" not in below


def test_trivial_strategies_and_the_warning_name_strategy_metric_majority():
    trivial = trivial_strategies(_table())
    assert sorted(trivial["strategy"]) == ["badge", "random"]
    with pytest.warns(TrivialModelWarning) as record:
        warn_if_trivial(_table())
    message = str(record[0].message)
    for word in ("badge", "random", M, "majority", "floor_worst_group_accuracy"):
        assert word in message, word
    assert "jin" not in message
    assert issubclass(TrivialModelWarning, UserWarning)


def test_no_warning_without_floor_columns_or_when_above():
    df = _table().drop(columns=["floor_worst_group_accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrivialModelWarning)
        warn_if_trivial(df)
        warn_if_trivial(_table()[lambda d: d["strategy"] == "jin"])


def test_learning_curves_draw_the_floor():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    plot_learning_curves(_table(), [ax], metrics=[M])
    lines = {line.get_label(): line for line in ax.get_lines()}
    floor = [k for k in lines if k.startswith("majority floor")]
    assert floor, f"no floor line among {sorted(lines)}"
    # per round: mean n_labels on x, mean floor on y
    np.testing.assert_allclose(lines[floor[0]].get_xdata(), [10, 20])
    np.testing.assert_allclose(lines[floor[0]].get_ydata(), [0.6, 0.5])


@pytest.mark.slow
def test_run_fral_records_the_floor_and_warns():
    from skfral.datasets import fral_split

    rng = np.random.default_rng(0)
    n = 240
    X = rng.standard_normal((n, 4)).astype("float32")
    y = (rng.random(n) < 0.1).astype(int)  # labels unrelated to X, 90% class 0
    s = rng.choice(["a", "b"], n)
    kw = dict(
        n_rounds=1,
        budget=5,
        initial_size=20,
        val_size=60,
        test_size=60,
        estimator_params={"max_epochs": 1, "attack_n_steps": 1},
        eval_attack=2,
        torch_threads=1,
        progress=False,
    )
    with pytest.warns(TrivialModelWarning, match="majority"):
        df = run_fral({"noise": (X, y, s)}, ["random"], seeds=[0], **kw)
    # round 0: the floor of the initial labelled set, by a loop
    parts = fral_split(
        X,
        y,
        s,
        initial_size=20,
        val_size=60,
        test_size=60,
        random_state=derive_seed(0, 0, "split"),
    )
    c = np.bincount(parts["y_initial"]).argmax()
    yt, st = parts["y_test"], np.asarray(parts["s_test"])
    row = df[df["round"] == 0].iloc[0]
    assert row["floor_accuracy"] == pytest.approx(np.mean(yt == c))
    worst = min(np.mean(yt[st == g] == c) for g in np.unique(st))
    assert row["floor_worst_group_accuracy"] == pytest.approx(worst)
    assert row["floor_balanced_accuracy"] == pytest.approx(1 / len(np.unique(yt)))


@pytest.mark.slow
def test_cli_run_warns_and_the_report_shows_the_floor(tmp_path):
    from skfral.experiment._cli import main

    rng = np.random.default_rng(1)
    n = 240
    frame = pd.DataFrame(
        {
            "x1": rng.standard_normal(n),
            "x2": rng.standard_normal(n),
            "group": rng.choice(["a", "b"], n),
            "label": np.where(rng.random(n) < 0.1, "yes", "no"),  # unrelated to x
        }
    )
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["run", "--data", str(path), "--target", "label", "--sensitive", "group"]
    argv += ["--strategies", "random", "--seeds", "1", "--rounds", "1"]
    argv += ["--budget", "5", "--initial-size", "20", "--val-size", "60"]
    argv += ["--test-size", "60", "--max-epochs", "1", "--attack-steps", "1"]
    argv += ["--eval-steps", "2", "--torch-threads", "1", "--quiet"]
    with pytest.warns(TrivialModelWarning) as record:
        assert main([*argv, "--out", str(out)]) == 0
    message = str(record[0].message)
    assert "random" in message and M in message and "majority" in message
    summary = (out / "summary.md").read_text()
    assert "### Majority floor" in summary
    assert "**Not above the majority floor**" in summary
