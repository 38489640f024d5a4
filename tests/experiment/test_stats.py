"""Known answers for the statistics over seeds (issue 15 item 1) and partial runs (issue 13).

Every expected value is computed here, independently of skfral: the bootstrap
with numpy directly (and against scipy.stats.bootstrap), the Wilcoxon p-value
by enumerating every sign assignment, the outcomes from the definition.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skfral.experiment import (
    complete_rounds,
    confidence_intervals,
    paired_comparisons,
    summarize,
    win_tie_loss,
    write_report,
)

M = "worst_group_robust_accuracy"


def _table(values, *, dataset="d", rounds=(0,)):
    """A results table: ``values[strategy]`` is a list (per seed) of per-round lists."""
    rows = []
    for strategy, per_seed in values.items():
        for seed, curve in enumerate(per_seed):
            curve = np.atleast_1d(curve)
            for r, v in zip(rounds, curve, strict=True):
                rows.append(
                    {
                        "dataset": dataset,
                        "strategy": strategy,
                        "seed": seed,
                        "round": r,
                        "n_labels": 10 + 10 * r,
                        M: v,
                    }
                )
    return pd.DataFrame(rows)


def _numpy_bootstrap(values, n_boot, seed=0, confidence=0.95):
    values = np.asarray(values, dtype=float)
    idx = np.random.default_rng(seed).integers(
        0, len(values), size=(n_boot, len(values))
    )
    tail = 100 * (1 - confidence) / 2
    return np.percentile(values[idx].mean(axis=1), [tail, 100 - tail])


def _exact_wilcoxon(d):
    """Two-sided exact signed-rank p-value by enumerating all 2**n sign flips."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    observed = min(w_plus, ranks.sum() - w_plus)
    count = 0
    total = 0
    for signs in itertools.product((0, 1), repeat=len(d)):
        wp = ranks[np.array(signs, dtype=bool)].sum()
        total += 1
        count += min(wp, ranks.sum() - wp) <= observed + 1e-12
    return observed, count / total


# --------------------------------------------------------------- intervals
def test_confidence_intervals_match_numpy_bootstrap_of_the_seed_means():
    curves = [[0.50, 0.60], [0.40, 0.70], [0.55, 0.65], [0.30, 0.50], [0.62, 0.61]]
    df = _table({"jin": curves}, rounds=(0, 1))
    out = confidence_intervals(df, metrics=[M], n_boot=2000, random_state=3)
    rounds = out[out["aggregate"] == "rounds"].iloc[0]
    final = out[out["aggregate"] == "final"].iloc[0]
    per_seed_mean = [np.mean(c) for c in curves]
    per_seed_final = [c[-1] for c in curves]
    assert rounds["n_seeds"] == 5
    assert rounds["mean"] == pytest.approx(np.mean(per_seed_mean))
    assert rounds["std"] == pytest.approx(np.std(per_seed_mean, ddof=1))
    np.testing.assert_allclose(
        [rounds["ci_low"], rounds["ci_high"]],
        _numpy_bootstrap(per_seed_mean, 2000, seed=3),
    )
    np.testing.assert_allclose(
        [final["ci_low"], final["ci_high"]],
        _numpy_bootstrap(per_seed_final, 2000, seed=3),
    )


def test_confidence_interval_agrees_with_scipy_percentile_bootstrap():
    rng = np.random.default_rng(1)
    values = rng.normal(0.6, 0.05, size=10)
    df = _table({"jin": list(values)})
    out = confidence_intervals(df, metrics=[M], aggregates="final", n_boot=20_000)
    ref = stats.bootstrap(
        (values,),
        np.mean,
        method="percentile",
        n_resamples=20_000,
        random_state=np.random.default_rng(7),
    ).confidence_interval
    assert out.loc[0, "ci_low"] == pytest.approx(ref.low, abs=3e-3)
    assert out.loc[0, "ci_high"] == pytest.approx(ref.high, abs=3e-3)


def test_interval_is_reproducible_and_independent_of_the_rest_of_the_table():
    a = _table({"jin": [0.5, 0.6, 0.7, 0.4]})
    b = pd.concat([a, _table({"random": [0.1, 0.9, 0.3, 0.2]})], ignore_index=True)
    ci_a = confidence_intervals(a, metrics=[M], aggregates="final", n_boot=500)
    ci_b = confidence_intervals(b, metrics=[M], aggregates="final", n_boot=500)
    pd.testing.assert_frame_equal(ci_a, ci_b[ci_b["strategy"] == "jin"])


def test_one_seed_has_no_interval():
    out = confidence_intervals(_table({"jin": [0.5]}), metrics=[M], aggregates="final")
    assert out.loc[0, "n_seeds"] == 1
    assert np.isnan(out.loc[0, "ci_low"]) and np.isnan(out.loc[0, "ci_high"])


# ------------------------------------------------------------- comparisons
def test_paired_comparison_known_answer_with_exact_wilcoxon():
    base = np.array([0.50, 0.52, 0.61, 0.47, 0.55, 0.58, 0.49])
    diff = np.array([0.03, 0.05, -0.01, 0.02, 0.04, 0.06, 0.07])  # distinct |d|
    df = _table({"random": list(base), "jin": list(base + diff)})
    out = paired_comparisons(df, metrics=[M], aggregates="final", n_boot=3000)
    row = out[(out["strategy"] == "jin") & (out["baseline"] == "random")].iloc[0]
    statistic, p_value = _exact_wilcoxon(diff)
    assert (statistic, row["wilcoxon_statistic"]) == (1.0, 1.0)
    assert row["p_value"] == pytest.approx(p_value)
    assert p_value == pytest.approx(4 / 128)  # W- = 1: {}, {1} on either side
    assert row["mean"] == pytest.approx(diff.mean())
    assert row["std"] == pytest.approx(diff.std(ddof=1))
    # the verdict's interval: Student t, from scipy directly
    t_ci = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
    np.testing.assert_allclose([row["ci_low"], row["ci_high"]], t_ci, atol=1e-12)
    np.testing.assert_allclose(
        [row["boot_low"], row["boot_high"]], _numpy_bootstrap(diff, 3000), atol=1e-12
    )
    assert (row["n_better"], row["n_worse"], row["n_seeds"]) == (6, 1, 7)
    # t interval above 0 and p = 4/128 < 0.05 with 7 >= 6 non-zero differences
    assert t_ci[0] > 0
    assert row["outcome"] == "win"
    assert row["note"].startswith("the 95% t interval excludes 0 and Wilcoxon p")
    mirror = out[(out["strategy"] == "random") & (out["baseline"] == "jin")].iloc[0]
    assert mirror["outcome"] == "loss"
    assert mirror["mean"] == pytest.approx(-diff.mean())
    assert mirror["p_value"] == pytest.approx(p_value)


def test_all_zero_differences_are_a_tie_with_no_test():
    values = [0.5, 0.6, 0.7, 0.55]
    df = _table({"entropy": values, "margin": values})
    out = paired_comparisons(df, metrics=[M], aggregates="final", n_boot=200)
    row = out.iloc[0]
    assert row["outcome"] == "tie"
    assert (row["ci_low"], row["ci_high"]) == (0.0, 0.0)
    assert np.isnan(row["p_value"]) and np.isnan(row["wilcoxon_statistic"])
    assert "all paired differences are zero" in row["note"]
    assert (row["n_better"], row["n_worse"]) == (0, 0)


def test_few_seeds_and_zero_differences_are_named_in_the_note():
    base = [0.5, 0.6, 0.7, 0.55, 0.4]
    other = [0.6, 0.6, 0.8, 0.65, 0.5]  # one zero, four of +0.1
    df = _table({"random": base, "jin": other})
    row = paired_comparisons(df, metrics=[M], aggregates="final", n_boot=200)
    row = row[row["strategy"] == "jin"].iloc[0]
    assert "1 zero difference(s) dropped" in row["note"]
    assert row["note"].startswith("too few seeds: 4 non-zero difference(s) < 6")
    assert row["outcome"] == "tie"
    # scipy on the four non-zero differences (zeros dropped), computed directly
    ref = stats.wilcoxon([0.1, 0.1, 0.1, 0.1])
    assert row["p_value"] == pytest.approx(ref.pvalue)


def test_pairs_use_shared_seeds_only():
    df = _table({"random": [0.5, 0.6, 0.7], "jin": [0.6, 0.7]})  # jin lacks seed 2
    out = paired_comparisons(df, metrics=[M], aggregates="final", n_boot=200)
    row = out[out["strategy"] == "jin"].iloc[0]
    assert row["n_seeds"] == 2
    assert row["mean"] == pytest.approx(0.1)
    one = paired_comparisons(
        _table({"random": [0.5], "jin": [0.6]}), metrics=[M], aggregates="final"
    )
    assert one.loc[0, "outcome"] == "tie"
    assert one.loc[0, "note"].startswith("too few seeds: 1 non-zero difference(s)")
    assert np.isnan(one.loc[0, "ci_low"])


def test_baselines_argument_restricts_the_columns():
    df = _table({"random": [0.5, 0.6], "jin": [0.6, 0.7], "badge": [0.4, 0.5]})
    out = paired_comparisons(
        df, baselines=["random", "absent"], metrics=[M], aggregates="final"
    )
    assert set(out["baseline"]) == {"random"}
    assert sorted(out["strategy"]) == ["badge", "jin"]


# ------------------------------------------------------------ win/tie/loss
def test_win_tie_loss_counts_from_the_definition():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.4, 0.6, size=8)
    noise = rng.normal(0, 0.002, size=8)
    df = _table(
        {
            "c": list(base),
            "b": list(base + 0.05 + noise),  # clearly above c
            "a": list(base + 0.10 + noise),  # clearly above b and c
            # a +- 0.01 in turn: paired differences with mean 0, a clear tie
            "a_twin": list(base + 0.10 + noise + np.resize([0.01, -0.01], 8)),
        }
    )
    comps = paired_comparisons(df, metrics=[M], aggregates="final", n_boot=2000)
    # outcomes by the definition: the t interval (scipy) excludes 0 and the
    # exact Wilcoxon p (enumerated) is below 0.05, with >= 6 non-zero values
    expected = {}
    for r in comps.itertuples():
        d = df[df["strategy"] == r.strategy][M].to_numpy() - (
            df[df["strategy"] == r.baseline][M].to_numpy()
        )
        low, high = stats.t.interval(0.95, 7, loc=d.mean(), scale=stats.sem(d))
        p = _exact_wilcoxon(d)[1]
        assert r.ci_low == pytest.approx(low) and r.p_value == pytest.approx(p)
        sure = p < 0.05 and np.count_nonzero(d) >= 6
        kind = "win" if sure and low > 0 else "loss" if sure and high < 0 else "tie"
        expected.setdefault(r.strategy, []).append(kind)
    wtl = win_tie_loss(comps).set_index("strategy")
    for strategy, kinds in expected.items():
        assert wtl.loc[strategy, "wins"] == kinds.count("win")
        assert wtl.loc[strategy, "ties"] == kinds.count("tie")
        assert wtl.loc[strategy, "losses"] == kinds.count("loss")
        assert wtl.loc[strategy, "n_compared"] == 3
    assert tuple(wtl.loc["c", ["wins", "ties", "losses"]]) == (0, 0, 3)
    assert tuple(wtl.loc["b", ["wins", "ties", "losses"]]) == (1, 0, 2)
    assert tuple(wtl.loc["a", ["wins", "ties", "losses"]]) == (2, 1, 0)
    assert tuple(wtl.loc["a_twin", ["wins", "ties", "losses"]]) == (2, 1, 0)
    # from a results table directly, with the same settings
    direct = win_tie_loss(df, metrics=[M], aggregates="final", n_boot=2000)
    pd.testing.assert_frame_equal(direct, win_tie_loss(comps))
    with pytest.raises(TypeError, match="apply only to a results table"):
        win_tie_loss(comps, n_boot=10)


# ------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"confidence": 1.0}, ValueError, r"confidence=1.0 is invalid: expected a "),
        ({"confidence": 0}, ValueError, "confidence=0"),
        ({"n_boot": 0}, ValueError, r"n_boot=0 is invalid"),
        ({"random_state": None}, TypeError, "random_state=None has type NoneType"),
        ({"aggregates": "last"}, ValueError, r"aggregates=\['last'\] is invalid"),
        ({"metrics": ["nope"]}, ValueError, r"lacks column\(s\) \['nope'\]"),
        ({"metrics": []}, ValueError, "metrics is empty"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    df = _table({"random": [0.5, 0.6], "jin": [0.6, 0.7]})
    kwargs = {"metrics": [M], **kwargs}
    for func in (confidence_intervals, paired_comparisons):
        with pytest.raises(error, match=match):
            func(df, **kwargs)


def test_non_dataframe_is_refused():
    with pytest.raises(TypeError, match="expected the pandas DataFrame"):
        confidence_intervals([1, 2, 3])
    with pytest.raises(TypeError, match="expected the DataFrame of paired_comparisons"):
        win_tie_loss("table")


def test_inputs_are_not_modified():
    df = _table({"random": [0.5, 0.6, 0.4], "jin": [0.6, 0.7, 0.5]}, rounds=(0,))
    df = df.sample(frac=1.0, random_state=0)  # shuffled rows, non-default index
    before = df.copy()
    confidence_intervals(df, metrics=[M], n_boot=100)
    paired_comparisons(df, metrics=[M], n_boot=100)
    complete_rounds(df)
    pd.testing.assert_frame_equal(df, before)


# ----------------------------------------------------- partial run folders
def _partial():
    """seed 0 finished rounds 0..5, seed 1 stopped after round 2 (both strategies)."""
    rows = []
    for strategy, shift in (("random", 0.0), ("jin", 0.05)):
        for seed, last in ((0, 5), (1, 2)):
            for r in range(last + 1):
                rows.append(
                    {
                        "dataset": "d",
                        "strategy": strategy,
                        "seed": seed,
                        "round": r,
                        "n_labels": 10 + 20 * r,
                        M: 0.5 + 0.01 * r + shift + 0.1 * seed,
                    }
                )
    return pd.DataFrame(rows)


def test_complete_rounds_keeps_complete_cells_and_names_the_others():
    complete, incomplete = complete_rounds(_partial())
    assert set(complete["seed"]) == {0}
    assert len(complete) == 12
    assert incomplete[["strategy", "seed", "rounds_done", "rounds_expected"]].to_dict(
        "records"
    ) == [
        {"strategy": "random", "seed": 1, "rounds_done": 3, "rounds_expected": 6},
        {"strategy": "jin", "seed": 1, "rounds_done": 3, "rounds_expected": 6},
    ]
    assert set(incomplete["used"]) == {"none"}


def test_complete_rounds_with_manifest_rounds_and_cells():
    cells = [("d", s, seed) for s in ("random", "jin") for seed in (0, 1, 2)]
    complete, incomplete = complete_rounds(_partial(), n_rounds=6, expected_cells=cells)
    assert complete.empty is False  # no cell has 7 rounds: an early look
    assert set(complete["round"]) == {0, 1, 2}  # what every started cell finished
    missing = incomplete.set_index(["strategy", "seed"])
    assert missing.loc[("jin", 2), "rounds_done"] == 0
    assert missing.loc[("jin", 2), "used"] == "none"
    assert missing.loc[("jin", 0), "used"] == "0..2"
    assert (missing["rounds_expected"] == 7).all()
    assert len(missing) == 6


def test_summarize_never_mixes_round_5_with_round_2():
    df = _partial()
    with pytest.warns(UserWarning, match=r"\(d, jin, seed 1: 3/6 rounds\)"):
        s = summarize(df, metrics=[M], n_boot=200)
    jin = s.set_index("strategy").loc["jin"]
    assert jin["n_seeds"] == 1
    assert jin["n_labels"] == 110  # seed 0's final round, not (110 + 50) / 2
    assert jin[f"{M}_final_mean"] == pytest.approx(0.5 + 0.05 + 0.05)


def test_summarize_keeps_a_table_without_round_zero():
    df = _table({"random": [0.5, 0.6], "jin": [0.55, 0.58]}, rounds=(1,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = summarize(df, metrics=[M], n_boot=200)
    assert s["n_seeds"].tolist() == [2, 2]


def test_write_report_on_a_partial_run_folder(tmp_path):
    from skfral.experiment._store import CellStore, RunStore

    run = tmp_path / "run"
    config = {
        "datasets": {"d": "d"},
        "strategies": {"random": ["random", {}], "jin": ["jin", {}]},
        "seeds": [0, 1, 2],
        "n_rounds": 5,
    }
    RunStore(run).open(config)
    for row in _partial().to_dict("records"):
        cell = CellStore(run, row["dataset"], row["strategy"], row["seed"])
        cell.write_round(int(row["round"]), row, [])
    summary, text, files = write_report(run, tmp_path / "report", n_boot=200)
    assert "## Incomplete cells" in text
    assert "| d | jin | 1 | 3 / 6 | none |" in text
    assert "| d | jin | 2 | 0 / 6 | none |" in text  # never started: from the manifest
    assert summary["n_seeds"].tolist() == [1, 1]
    assert (tmp_path / "report" / "summary.md").read_text() == text
