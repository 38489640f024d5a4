"""Paired comparisons of strategies, seed by seed: differences, tests, win/tie/loss.

- :func:`paired_comparisons`: for every ordered pair of strategies, the
  difference paired by seed (same split, same model seeds), its t and
  bootstrap intervals, and the exact Wilcoxon signed-rank test
  (:func:`signed_rank_test`);
  :func:`paired_differences` is the same table against one baseline;
- :func:`verdict`: the one win/tie/loss rule (t interval and Wilcoxon test
  agree, at least :func:`min_seeds` non-zero differences), and
  :func:`win_tie_loss`: its counts per strategy.
"""

import functools

import numpy as np
import pandas as pd

from ._seeds import (
    _KEYS,
    AGGREGATES,
    SUMMARY_METRICS,
    _Bootstrap,
    _check_aggregates,
    _check_stats,
    _doc,
    check_results_table,
    per_seed,
)

__all__ = [
    "TOO_FEW_SEEDS",
    "VERDICT_RULE",
    "min_seeds",
    "signed_rank_test",
    "verdict",
    "paired_comparisons",
    "paired_differences",
    "win_tie_loss",
]

OUTCOMES = ("win", "tie", "loss")
# Paired differences this small are float noise of equal accuracies.
_ZERO = 1e-12
TOO_FEW_SEEDS = "too few seeds"
"""The reason of a tie forced by the number of seeds (see :func:`verdict`)."""
VERDICT_RULE = (
    "A win (a loss): the 95% Student t interval of the paired difference (by "
    "seed) lies above (below) 0 and the exact Wilcoxon signed-rank test gives "
    "p < 0.05; a tie otherwise, and always with fewer than 6 non-zero paired "
    "differences (tie, too few seeds). Under two identical strategies this rule "
    "calls a win or a loss in at most 5% of comparisons at 2 to 20 seeds "
    "(benchmarks/results/calibration.md)."
)
"""The rule of :func:`verdict` in one sentence, for reports and tables."""


def min_seeds(confidence=0.95):
    """Fewest non-zero paired differences for which :func:`verdict` can call a win.

    The smallest two-sided p-value of the exact Wilcoxon signed-rank test on
    ``n`` non-zero differences is ``2 / 2**n`` (every difference of one
    sign), so the test can reach ``p < 1 - confidence`` only from this ``n``
    on: 6 at the default 95%.

    Parameters
    ----------
    confidence : float, default=0.95
        Coverage of the interval; the test's level is ``1 - confidence``.

    Returns
    -------
    n : int

    Examples
    --------
    >>> from skfral.experiment import min_seeds
    >>> min_seeds(), min_seeds(0.9)
    (6, 5)
    """
    alpha = 1 - _check_confidence(confidence)
    n = 1
    while 2.0 / 2**n >= alpha:
        n += 1
    return n


def _check_confidence(confidence):
    return _check_stats(confidence, 1, 0)[0]


@functools.lru_cache(maxsize=256)
def _t_quantile(q, df):
    from scipy import stats

    return float(stats.t.ppf(q, df))


def signed_rank_test(differences):
    """Exact two-sided Wilcoxon signed-rank test, ties and zeros included.

    Zero differences are dropped (``zero_method="wilcox"``); tied absolute
    differences get their mean rank, and the p-value is exact under the
    sign-flip null given those ranks (every sign pattern equally likely),
    computed by counting the sums of ranks (no normal approximation, fast
    for any number of seeds). Without ties it is
    :func:`scipy.stats.wilcoxon`'s exact test.

    Parameters
    ----------
    differences : array-like of shape (n,)
        Paired differences.

    Returns
    -------
    statistic : float
        The smaller of the positive and negative rank sums (NaN without a
        non-zero difference).
    p_value : float
        ``min(1, 2 * P(T <= statistic))`` (NaN without a non-zero difference).
    n_nonzero : int
        The differences that entered the test.
    """
    from scipy.stats import rankdata

    d = np.asarray(differences, dtype=float)
    d = d[np.abs(d) > _ZERO]
    n = len(d)
    if n == 0:
        return np.nan, np.nan, 0
    twice = np.rint(2 * rankdata(np.abs(d))).astype(np.int64)  # midranks * 2
    total = int(twice.sum())
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for w in twice:  # counts[k]: sign patterns whose positive ranks sum to k / 2
        counts[w:] = counts[w:] + counts[: total + 1 - w].copy()
    positive = int(twice[d > 0].sum())
    low = min(positive, total - positive)
    p_value = min(1.0, 2.0 * counts[: low + 1].sum() / 2.0**n)
    return low / 2.0, float(p_value), n


def _judge(diff, confidence):
    """Everything :func:`verdict` decides on: interval, test, outcome, reason."""
    d = np.asarray(diff, dtype=float)
    d = np.where(np.abs(d) <= _ZERO, 0.0, d)
    n = len(d)
    alpha = 1 - confidence
    out = {
        "ci_low": np.nan,
        "ci_high": np.nan,
        "wilcoxon_statistic": np.nan,
        "p_value": np.nan,
        "outcome": "tie",
    }
    nonzero = int(np.count_nonzero(d))
    needed = min_seeds(confidence)
    if n >= 2:
        half = _t_quantile(1 - alpha / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
        out["ci_low"], out["ci_high"] = d.mean() - half, d.mean() + half
    if n == 0:
        out["reason"] = f"{TOO_FEW_SEEDS}: no shared seed"
        return out
    if nonzero == 0:
        out["reason"] = "all paired differences are zero"
        return out
    statistic, p, _ = signed_rank_test(d)
    out["wilcoxon_statistic"], out["p_value"] = statistic, p
    zeros = f"; {n - nonzero} zero difference(s) dropped" if nonzero < n else ""
    if nonzero < needed:
        out["reason"] = (
            f"{TOO_FEW_SEEDS}: {nonzero} non-zero difference(s) < {needed}, the "
            f"exact Wilcoxon test cannot reach p < {alpha:.2g}" + zeros
        )
        return out
    low, high = out["ci_low"], out["ci_high"]
    interval = low > 0 or high < 0
    if interval and p < alpha:
        out["outcome"] = "win" if low > 0 else "loss"
        out["reason"] = (
            f"the {confidence:.0%} t interval excludes 0 and Wilcoxon p = "
            f"{p:.3g} < {alpha:.2g}" + zeros
        )
    elif interval:
        out["reason"] = (
            f"the t interval excludes 0 but Wilcoxon p = {p:.3g} >= {alpha:.2g}" + zeros
        )
    elif p < alpha:
        out["reason"] = (
            f"Wilcoxon p = {p:.3g} < {alpha:.2g} but the t interval contains 0" + zeros
        )
    else:
        out["reason"] = (
            f"the t interval contains 0 and Wilcoxon p = {p:.3g} >= {alpha:.2g}" + zeros
        )
    return out


def verdict(differences, *, confidence=0.95):
    """Win, tie or loss from paired differences, with the reason: the one rule.

    A **win** (a **loss**) needs two things at once: the ``confidence``
    Student t interval of the mean difference lies entirely above (below) 0,
    and the two-sided exact Wilcoxon signed-rank test
    (:func:`signed_rank_test`, zero differences dropped) gives
    ``p < 1 - confidence``. Anything else is a **tie**; in particular with
    fewer than :func:`min_seeds` non-zero differences (6 at 95%), where the
    exact test cannot reach the level, the verdict is a tie whose reason
    starts with ``"too few seeds"``.

    The rule was chosen by a simulation of two identical strategies
    (``benchmarks/bench_calibration.py``, table in
    ``benchmarks/results/calibration.md``): with normal and skewed noise,
    several spreads and accuracies rounded to a test-set grid it calls a win or
    a loss in at most 5% of the comparisons at 2, 3, 5, 10 and 20 seeds; the
    percentile bootstrap interval used before called one in about 10% at 10
    seeds and half at 2.

    Parameters
    ----------
    differences : array-like of shape (n_seeds,)
        ``strategy - baseline``, one value per seed both ran (NaN not
        allowed: drop the seeds first).
    confidence : float, default=0.95
        Coverage of the t interval; the test's level is ``1 - confidence``.

    Returns
    -------
    outcome : {"win", "tie", "loss"}
    reason : str
        Why, in words (e.g. ``"too few seeds: 3 non-zero difference(s) < 6
        ..."``).

    See Also
    --------
    paired_comparisons : The rule applied to every pair of strategies.

    Examples
    --------
    >>> from skfral.experiment import verdict
    >>> verdict([0.02, 0.03, 0.01, 0.04, 0.02, 0.03])[0]
    'win'
    >>> outcome, reason = verdict([0.02, 0.03, 0.01])
    >>> outcome, reason.split(":")[0]
    ('tie', 'too few seeds')
    """
    confidence = _check_confidence(confidence)
    try:
        d = np.asarray(differences, dtype=float)
    except (TypeError, ValueError):
        d = np.full((0, 0), np.nan)
    if d.ndim != 1 or not np.all(np.isfinite(d)):
        raise ValueError(
            f"differences={differences!r} is invalid: expected a 1-d sequence of "
            "finite numbers (one paired difference per seed)."
        )
    out = _judge(d, confidence)
    return out["outcome"], out["reason"]


# -------------------------------------------------------------- comparisons
COMPARISON_COLUMNS = (
    "dataset",
    "strategy",
    "baseline",
    "metric",
    "aggregate",
    "n_seeds",
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "boot_low",
    "boot_high",
    "n_better",
    "n_worse",
    "wilcoxon_statistic",
    "p_value",
    "outcome",
    "note",
)


@_doc
def paired_comparisons(
    df,
    *,
    baselines=None,
    metrics=SUMMARY_METRICS,
    aggregates=AGGREGATES,
    confidence=0.95,
    n_boot=10_000,
    random_state=0,
):
    """Paired differences of every strategy against every other, seed by seed.

    For each data set, each strategy and each baseline (every other strategy
    of that data set unless ``baselines`` is given), the difference
    ``strategy - baseline`` is taken seed by seed over the seeds both ran
    (paired: same split and model seeds), then summarised by its mean, its
    Student t interval, a percentile bootstrap interval over seeds and a
    two-sided exact Wilcoxon signed-rank test (:func:`signed_rank_test`:
    zero differences dropped, tied sizes by mean ranks). The outcome is
    :func:`verdict`'s: a win (loss) when the t interval lies entirely above
    (below) 0 *and* the Wilcoxon p-value is below ``1 - confidence``; a tie
    otherwise, and always with fewer than :func:`min_seeds` non-zero
    differences (6 at 95%).

    Parameters
    ----------
    df : pandas.DataFrame
        The results table of :func:`~skfral.experiment.run_fral`,
        :func:`~skfral.experiment.load_results` or
        :meth:`FRALRecorder.to_frame <skfral.experiment.FRALRecorder.to_frame>`.
    baselines : sequence of str or None, default=None
        The strategies to compare against; ``None``: every strategy. A name
        absent from a data set is skipped there.
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns.
    aggregates : sequence of {"final", "rounds"}, default=("final", "rounds")
        Final-round value and/or mean over rounds.
    {stats}

    Returns
    -------
    comparisons : pandas.DataFrame
        One row per (dataset, strategy, baseline, metric, aggregate):
        ``n_seeds`` (shared seeds), ``mean`` and ``std`` of the difference,
        ``ci_low``, ``ci_high`` (the t interval the verdict reads),
        ``boot_low``, ``boot_high`` (the percentile bootstrap interval, shown
        for comparison: it is too narrow with few seeds), ``n_better`` /
        ``n_worse`` (seeds where the strategy is strictly higher / lower),
        ``wilcoxon_statistic`` (the smaller of the signed-rank sums),
        ``p_value`` (NaN when every difference is zero), ``outcome``
        (``"win"``, ``"tie"`` or ``"loss"``) and ``note``: the verdict's
        reason (e.g. ``"too few seeds: ..."``).

    See Also
    --------
    verdict : The rule, on one vector of differences.
    win_tie_loss : Counts of the outcomes per strategy.
    confidence_intervals : Intervals of each strategy on its own.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import paired_comparisons
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 6 + ["jin"] * 6,
    ...                    "seed": list(range(6)) * 2, "round": 0,
    ...                    "acc": [0.50, 0.60, 0.55, 0.52, 0.58, 0.54,
    ...                            0.60, 0.65, 0.62, 0.60, 0.61, 0.63]})
    >>> out = paired_comparisons(df, metrics=["acc"], aggregates="final")
    >>> out[["strategy", "baseline", "n_better", "outcome"]].values.tolist()
    [['random', 'jin', 0, 'loss'], ['jin', 'random', 6, 'win']]
    """
    metrics = check_results_table(df, metrics, "df")
    aggregates = _check_aggregates(aggregates)
    confidence, n_boot, random_state = _check_stats(confidence, n_boot, random_state)
    boot = _Bootstrap(confidence, n_boot, random_state)
    if baselines is not None:
        baselines = [baselines] if isinstance(baselines, str) else list(baselines)
    seeds = per_seed(df, metrics).sort_values(_KEYS + ["seed"], kind="stable")
    rows = []
    for dataset in dict.fromkeys(df["dataset"]):
        part = seeds[seeds["dataset"] == dataset]
        names = list(dict.fromkeys(df.loc[df["dataset"] == dataset, "strategy"]))
        tables = {s: part[part["strategy"] == s].set_index("seed") for s in names}
        against = names if baselines is None else [b for b in baselines if b in tables]
        columns = [f"{m}_{a}" for m in metrics for a in aggregates]
        done = {}  # (baseline, strategy) -> its rows: the mirror is their negation
        for strategy in names:
            for baseline in against:
                if baseline == strategy:
                    continue
                if (baseline, strategy) in done:
                    for row in done[(baseline, strategy)]:
                        rows.append(_mirror(row))
                    continue
                mine, base = tables[strategy], tables[baseline]
                shared = mine.index.intersection(base.index).sort_values()
                diffs = mine.loc[shared, columns].to_numpy(dtype=float) - base.loc[
                    shared, columns
                ].to_numpy(dtype=float)
                cell = []
                for j, (metric, agg) in enumerate(
                    (m, a) for m in metrics for a in aggregates
                ):
                    diff = diffs[:, j]
                    diff = diff[np.isfinite(diff)]
                    cell.append(
                        _comparison_row(
                            diff,
                            boot,
                            confidence,
                            (dataset, strategy, baseline, metric, agg),
                        )
                    )
                rows += cell
                done[(strategy, baseline)] = cell
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _mirror(row):
    """``baseline - strategy`` from ``strategy - baseline``: the same test, negated."""
    flip = {"win": "loss", "loss": "win", "tie": "tie"}
    return {
        **row,
        "strategy": row["baseline"],
        "baseline": row["strategy"],
        "mean": -row["mean"],
        "ci_low": -row["ci_high"],
        "ci_high": -row["ci_low"],
        "boot_low": -row["boot_high"],
        "boot_high": -row["boot_low"],
        "n_better": row["n_worse"],
        "n_worse": row["n_better"],
        "outcome": flip[row["outcome"]],
    }


def _comparison_row(diff, boot, confidence, names):
    dataset, strategy, baseline, metric, agg = names
    judged = _judge(diff, confidence)
    boot_low, boot_high = boot.interval(diff)
    return {
        "dataset": dataset,
        "strategy": strategy,
        "baseline": baseline,
        "metric": metric,
        "aggregate": agg,
        "n_seeds": len(diff),
        "mean": float(diff.mean()) if len(diff) else np.nan,
        "std": float(diff.std(ddof=1)) if len(diff) > 1 else np.nan,
        "ci_low": judged["ci_low"],
        "ci_high": judged["ci_high"],
        "boot_low": boot_low,
        "boot_high": boot_high,
        "n_better": int((diff > _ZERO).sum()),
        "n_worse": int((diff < -_ZERO).sum()),
        "wilcoxon_statistic": judged["wilcoxon_statistic"],
        "p_value": judged["p_value"],
        "outcome": judged["outcome"],
        "note": judged["reason"],
    }


def win_tie_loss(comparisons, **kwargs):
    """Count wins, ties and losses of each strategy against every other.

    The outcome of each pair is :func:`verdict`'s (see
    :func:`paired_comparisons`): a win needs the t interval of the paired
    difference above 0 and the Wilcoxon test below the level at once; fewer
    than :func:`min_seeds` non-zero differences is always a tie.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        The table of :func:`paired_comparisons`, or a results table (then
        :func:`paired_comparisons` is called on it with ``**kwargs``).
    **kwargs : dict
        Passed to :func:`paired_comparisons` when ``comparisons`` is a results
        table (``metrics``, ``aggregates``, ``baselines``, ``confidence``,
        ``n_boot``, ``random_state``); refused otherwise.

    Returns
    -------
    table : pandas.DataFrame
        One row per (dataset, strategy, metric, aggregate): ``wins``,
        ``ties``, ``losses`` and ``n_compared`` (the number of baselines).

    See Also
    --------
    paired_comparisons : The differences, intervals and tests counted here.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import win_tie_loss
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 6 + ["jin"] * 6,
    ...                    "seed": list(range(6)) * 2, "round": 0,
    ...                    "acc": [0.50, 0.60, 0.55, 0.52, 0.58, 0.54,
    ...                            0.60, 0.65, 0.62, 0.60, 0.61, 0.63]})
    >>> wtl = win_tie_loss(df, metrics=["acc"], aggregates="final")
    >>> wtl[["strategy", "wins", "ties", "losses"]].values.tolist()
    [['random', 0, 0, 1], ['jin', 1, 0, 0]]
    """
    if not isinstance(comparisons, pd.DataFrame):
        raise TypeError(
            f"comparisons has type {type(comparisons).__name__}: expected the "
            "DataFrame of paired_comparisons or a results table."
        )
    if {"baseline", "outcome"} <= set(comparisons.columns):
        if kwargs:
            raise TypeError(
                f"win_tie_loss got {sorted(kwargs)} with a paired_comparisons table: "
                "these settings apply only to a results table; pass them to "
                "paired_comparisons instead."
            )
    else:
        comparisons = paired_comparisons(comparisons, **kwargs)
    keys = ["dataset", "strategy", "metric", "aggregate"]
    columns = keys + ["wins", "ties", "losses", "n_compared"]
    if comparisons.empty:
        return pd.DataFrame(columns=columns)
    counts = pd.crosstab(
        [comparisons[k] for k in keys], comparisons["outcome"], dropna=False
    )
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0)
    counts.columns = ["wins", "ties", "losses"]
    counts["n_compared"] = counts.sum(axis=1)
    counts = counts.reset_index()
    # back in the order of the comparisons table (crosstab sorts)
    order = comparisons[keys].drop_duplicates()
    out = order.merge(counts, on=keys, how="left")
    for col in ("wins", "ties", "losses", "n_compared"):
        out[col] = out[col].fillna(0).astype(int)
    return out[columns].reset_index(drop=True)


def paired_differences(df, baseline="random", *, metrics=SUMMARY_METRICS, **kwargs):
    """Paired differences of every strategy against one ``baseline``, seed by seed.

    The same question as :func:`paired_comparisons`, against one strategy:
    ``paired_comparisons(df, baselines=[baseline], metrics=metrics,
    **kwargs)``; kept under this name for the code that uses it.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral`.
    baseline : str, default="random"
        The strategy label to compare against (in the same data set, same seed).
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns.
    **kwargs : dict
        Passed to :func:`paired_comparisons` (``aggregates``, ``confidence``,
        ``n_boot``, ``random_state``).

    Returns
    -------
    diffs : pandas.DataFrame
        :func:`paired_comparisons`' table for this baseline: one row per
        (dataset, strategy other than the baseline, metric, aggregate) with
        ``mean`` and ``std`` of ``strategy - baseline`` over the seeds both
        ran, ``n_better`` (seeds where the strategy is strictly higher),
        ``n_seeds``, the intervals, the test and the verdict. Empty when the
        baseline is absent.

    See Also
    --------
    paired_comparisons : The same differences against every strategy.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import paired_differences
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 2 + ["jin"] * 2,
    ...                    "seed": [0, 1, 0, 1], "round": 1,
    ...                    "worst_group_robust_accuracy": [0.5, 0.6, 0.55, 0.58]})
    >>> out = paired_differences(df, metrics=["worst_group_robust_accuracy"])
    >>> final = out[out["aggregate"] == "final"]
    >>> final[["strategy", "n_better", "n_seeds"]].values.tolist()
    [['jin', 1, 2]]
    """
    if not isinstance(baseline, str):
        raise TypeError(
            f"baseline={baseline!r} has type {type(baseline).__name__}: expected "
            "one strategy label (a str); use paired_comparisons(baselines=[...]) "
            "for several."
        )
    return paired_comparisons(df, baselines=[baseline], metrics=metrics, **kwargs)
