"""Paired comparisons of strategies, seed by seed: differences, tests, win/tie/loss.

- :func:`paired_comparisons`: for every ordered pair of strategies, the
  difference paired by seed (same split, same model seeds), its bootstrap
  interval, and the Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`);
  :func:`paired_differences` is the same table against one baseline;
- :func:`win_tie_loss`: a win when the interval of the paired difference lies
  entirely above 0, a loss when it lies entirely below, a tie otherwise.
"""

import warnings

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
    "paired_comparisons",
    "paired_differences",
    "win_tie_loss",
]

OUTCOMES = ("win", "tie", "loss")
# Paired differences this small are float noise of equal accuracies.
_ZERO = 1e-12
# Fewest non-zero differences for which a two-sided exact Wilcoxon test can
# reach p < 0.05 (its smallest p-value is 2 / 2**n).
_WILCOXON_MIN_N = 6


def _wilcoxon(diff):
    """Two-sided Wilcoxon signed-rank test; zeros dropped; (statistic, p, note)."""
    from scipy.stats import wilcoxon

    d = np.where(np.abs(diff) <= _ZERO, 0.0, np.asarray(diff, dtype=float))
    if len(d) == 0:
        return np.nan, np.nan, "no shared seeds"
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        return np.nan, np.nan, "all paired differences are zero: no test"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    notes = []
    if nonzero < len(d):
        notes.append(f"{len(d) - nonzero} zero difference(s) dropped")
    if nonzero < _WILCOXON_MIN_N:
        notes.append(
            f"{nonzero} non-zero difference(s) (< {_WILCOXON_MIN_N}): "
            "p cannot fall below 0.05"
        )
    return float(res.statistic), float(res.pvalue), "; ".join(notes)


def _outcome(low, high):
    if np.isfinite(low) and low > 0:
        return "win"
    if np.isfinite(high) and high < 0:
        return "loss"
    return "tie"


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
    (paired: same split and model seeds), then summarised by its mean, a
    percentile bootstrap interval over seeds, and a two-sided Wilcoxon
    signed-rank test (:func:`scipy.stats.wilcoxon`, ``zero_method="wilcox"``:
    zero differences are dropped). The outcome is ``"win"`` when the interval
    lies entirely above 0, ``"loss"`` when it lies entirely below, ``"tie"``
    otherwise (also with fewer than two shared seeds, where there is no
    interval).

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
        ``ci_low``, ``ci_high``, ``n_better`` / ``n_worse`` (seeds where the
        strategy is strictly higher / lower), ``wilcoxon_statistic`` (the
        smaller of the signed-rank sums), ``p_value`` (NaN when every
        difference is zero), ``outcome`` (``"win"``, ``"tie"`` or ``"loss"``)
        and ``note``, which says when the test could not be run or is weak:
        all differences zero, zeros dropped, or fewer than six non-zero
        differences (the smallest two-sided p-value of the exact test is then
        at least 0.0625, so it can never reach 0.05).

    See Also
    --------
    win_tie_loss : Counts of the outcomes per strategy.
    confidence_intervals : Intervals of each strategy on its own.

    Notes
    -----
    The percentile bootstrap over a handful of seeds is a narrow interval (it
    ignores the uncertainty of the spread): read a win from 3 seeds as weak
    evidence; ``n_seeds`` is in every row for that reason.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import paired_comparisons
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 3 + ["jin"] * 3,
    ...                    "seed": [0, 1, 2] * 2, "round": 0,
    ...                    "acc": [0.50, 0.60, 0.55, 0.60, 0.65, 0.62]})
    >>> out = paired_comparisons(df, metrics=["acc"], aggregates="final")
    >>> out[["strategy", "baseline", "n_better", "outcome"]].values.tolist()
    [['random', 'jin', 0, 'loss'], ['jin', 'random', 3, 'win']]
    """
    metrics = check_results_table(df, metrics, "df")
    aggregates = _check_aggregates(aggregates)
    boot = _Bootstrap(*_check_stats(confidence, n_boot, random_state))
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
                            diff, boot, dataset, strategy, baseline, metric, agg
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
        "n_better": row["n_worse"],
        "n_worse": row["n_better"],
        "outcome": flip[row["outcome"]],
    }


def _comparison_row(diff, boot, dataset, strategy, baseline, metric, agg):
    low, high = boot.interval(diff)
    statistic, p_value, note = _wilcoxon(diff)
    if len(diff) < 2:
        note = "; ".join(
            filter(None, [f"{len(diff)} shared seed(s): no interval", note])
        )
    return {
        "dataset": dataset,
        "strategy": strategy,
        "baseline": baseline,
        "metric": metric,
        "aggregate": agg,
        "n_seeds": len(diff),
        "mean": float(diff.mean()) if len(diff) else np.nan,
        "std": float(diff.std(ddof=1)) if len(diff) > 1 else np.nan,
        "ci_low": low,
        "ci_high": high,
        "n_better": int((diff > _ZERO).sum()),
        "n_worse": int((diff < -_ZERO).sum()),
        "wilcoxon_statistic": statistic,
        "p_value": p_value,
        "outcome": _outcome(low, high),
        "note": note,
    }


def win_tie_loss(comparisons, **kwargs):
    """Count wins, ties and losses of each strategy against every other.

    A win: the confidence interval of the paired difference lies entirely
    above 0; a loss: entirely below; a tie: otherwise (see
    :func:`paired_comparisons`).

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
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 3 + ["jin"] * 3,
    ...                    "seed": [0, 1, 2] * 2, "round": 0,
    ...                    "acc": [0.50, 0.60, 0.55, 0.60, 0.65, 0.62]})
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


def paired_differences(df, baseline="random", *, metrics=SUMMARY_METRICS):
    """Paired differences of every strategy against ``baseline``, seed by seed.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral`.
    baseline : str, default="random"
        The strategy label to compare against (in the same data set, same seed).
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns.

    Returns
    -------
    diffs : pandas.DataFrame
        One row per (dataset, strategy other than the baseline, metric,
        aggregate) with ``aggregate`` in {"final", "rounds"} (final round,
        mean over rounds): ``mean`` and ``std`` of ``strategy - baseline``
        over the seeds both ran, ``n_better`` (seeds where the strategy is
        strictly higher), ``n_seeds``. Empty when the baseline is absent.

    See Also
    --------
    paired_comparisons : The same differences against every strategy, with
        bootstrap intervals, Wilcoxon tests and win/tie/loss outcomes.

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
    metrics = list(metrics)
    seeds = per_seed(df, metrics)
    columns = [
        "dataset",
        "strategy",
        "baseline",
        "metric",
        "aggregate",
        "mean",
        "std",
        "n_better",
        "n_seeds",
    ]
    out = []
    for dataset, part in seeds.groupby("dataset", sort=False):
        base = part[part["strategy"] == baseline].set_index("seed")
        if base.empty:
            continue
        for strategy, other in part.groupby("strategy", sort=False):
            if strategy == baseline:
                continue
            other = other.set_index("seed")
            shared = other.index.intersection(base.index)
            for metric in metrics:
                for agg in AGGREGATES:
                    col = f"{metric}_{agg}"
                    diff = (other.loc[shared, col] - base.loc[shared, col]).astype(
                        float
                    )
                    out.append(
                        {
                            "dataset": dataset,
                            "strategy": strategy,
                            "baseline": baseline,
                            "metric": metric,
                            "aggregate": agg,
                            "mean": float(diff.mean()) if len(diff) else np.nan,
                            "std": float(diff.std()) if len(diff) > 1 else np.nan,
                            "n_better": int((diff > 0).sum()),
                            "n_seeds": int(len(diff)),
                        }
                    )
    return pd.DataFrame(out, columns=columns)
