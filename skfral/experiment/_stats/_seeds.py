"""Statistics of each strategy over seeds: per-seed values, intervals, complete rounds.

Every function reads the tidy results table of
:func:`~skfral.experiment.run_fral` (or :func:`~skfral.experiment.load_results`,
or :meth:`FRALRecorder.to_frame <skfral.experiment.FRALRecorder.to_frame>`) and
reduces each (data set, strategy, seed) curve to two numbers per metric: the
value at the final round (``aggregate="final"``) and the mean over rounds
(``aggregate="rounds"``, the area under the learning curve divided by its
length). The statistics are then taken over seeds:

- :func:`per_seed`: the two numbers of every curve;
- :func:`confidence_intervals`: the mean over seeds with a percentile
  bootstrap confidence interval (seeds resampled with replacement);
- :func:`complete_rounds`: the part of a table an interrupted run can be
  summarised on (complete cells only), and the list of incomplete cells.

Comparisons between strategies are in :mod:`._paired`.
"""

import numpy as np
import pandas as pd

from ...metrics import WORST_GROUP_METRICS
from ...utils._validation import check_int, check_real

__all__ = [
    "AGGREGATES",
    "SUMMARY_METRICS",
    "complete_rounds",
    "confidence_intervals",
    "per_seed",
]

SUMMARY_METRICS = WORST_GROUP_METRICS
"""The accuracy columns summarised by default (skfral.metrics' worst-group metrics)."""
AGGREGATES = ("final", "rounds")
"""How a learning curve becomes one number: the final round, the mean over rounds."""
_KEYS = ["dataset", "strategy"]

_STATS_DOC = """\
    confidence : float, default=0.95
        Coverage of the percentile bootstrap intervals, in (0, 1).
    n_boot : int, default=10000
        Number of bootstrap resamples of the seeds.
    random_state : int, default=0
        Seed of the bootstrap: the resampled seed indices are drawn from
        ``numpy.random.default_rng(random_state)``, afresh for every cell, so
        one cell's interval does not depend on the rest of the table and the
        same table always gives the same intervals."""


def _doc(func):
    func.__doc__ = func.__doc__.replace("    {stats}", _STATS_DOC)
    return func


# ------------------------------------------------------------------- checks
def check_results_table(df, metrics, name="results"):
    """Raise a clear error unless ``df`` is a results table with ``metrics``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{name} has type {type(df).__name__}: expected the pandas DataFrame of "
            "run_fral, load_results or FRALRecorder.to_frame."
        )
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics is empty: expected at least one metric column.")
    needed = {"dataset", "strategy", "seed", "round", *metrics}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ValueError(
            f"the results table lacks column(s) {missing}: expected the table of "
            "run_fral "
            "or load_results."
        )
    if len(df) == 0:
        raise ValueError("the results table is empty: nothing to summarise.")
    return metrics


def _check_aggregates(aggregates):
    aggregates = [aggregates] if isinstance(aggregates, str) else list(aggregates)
    bad = [a for a in aggregates if a not in AGGREGATES]
    if bad or not aggregates:
        raise ValueError(
            f"aggregates={aggregates!r} is invalid: expected a non-empty subset of "
            f"{list(AGGREGATES)}."
        )
    return aggregates


def _check_stats(confidence, n_boot, random_state):
    confidence = check_real(confidence, "confidence", min_value=0, include_min=False)
    if confidence >= 1:
        raise ValueError(
            f"confidence={confidence!r} is invalid: expected a coverage in (0, 1), "
            "e.g. 0.95."
        )
    n_boot = check_int(n_boot, "n_boot", min_value=1)
    random_state = check_int(random_state, "random_state", min_value=0)
    return confidence, n_boot, random_state


# ----------------------------------------------------------------- per seed
def per_seed(df, metrics=SUMMARY_METRICS):
    """One row per (dataset, strategy, seed): final and mean-over-rounds values.

    Parameters
    ----------
    df : pandas.DataFrame
        The results table.
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns to reduce.

    Returns
    -------
    seeds : pandas.DataFrame
        ``dataset, strategy, seed``, then ``{metric}_final`` (the value at the
        highest round, NaN when that round's value is NaN: never an earlier
        round's) and ``{metric}_rounds`` (the mean over rounds, round 0
        included) for each metric, ``n_labels`` (final), ``round`` (the
        highest round) and the mean ``query_seconds`` / ``train_seconds``
        where present.

    Notes
    -----
    **Round 0 in the mean over rounds.** The mean over rounds is the area
    under the learning curve divided by its length, and the curve starts at
    the initial labelled set (round 0), so round 0 is included. In a
    :func:`~skfral.experiment.run_fral` table round 0 is the same for every
    strategy of a seed (same initial set, same model seed): it shrinks every
    paired difference of the mean over rounds by the factor ``R / (R + 1)``
    for ``R`` query rounds but changes no sign, no test and no verdict (the t
    interval and the Wilcoxon test are scale-free).

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import per_seed
    >>> df = pd.DataFrame({"dataset": "d", "strategy": "a", "seed": 0,
    ...                    "round": [0, 1], "acc": [0.5, 0.7]})
    >>> per_seed(df, ["acc"])[["acc_final", "acc_rounds"]].values.tolist()
    [[0.7, 0.6]]
    """
    metrics = check_results_table(df, metrics, "df")
    keys = _KEYS + ["seed"]
    df = df.sort_values("round", kind="stable")
    grouped = df.groupby(keys, sort=False)
    # the row of the highest round, NaN included (GroupBy.last would skip a
    # NaN and silently take an earlier round's value)
    last = df.drop_duplicates(keys, keep="last").set_index(keys)
    final = last[metrics].reindex(grouped.size().index).add_suffix("_final")
    rounds = grouped[metrics].mean().add_suffix("_rounds")
    parts = [final, rounds]
    if "n_labels" in df.columns:
        parts.append(last[["n_labels"]].reindex(final.index))
    extra = {"round": "max"}
    if "query_seconds" in df.columns:
        extra["query_seconds"] = "mean"  # NaN (round 0) skipped: mean per query
    if "train_seconds" in df.columns:
        extra["train_seconds"] = "mean"
    parts.append(grouped.agg(extra))
    return pd.concat(parts, axis=1).reset_index()


# ---------------------------------------------------------------- bootstrap
class _Bootstrap:
    """Percentile bootstrap of a mean; resample indices cached per sample size."""

    def __init__(self, confidence, n_boot, random_state):
        self.confidence = confidence
        self.n_boot = n_boot
        self.random_state = random_state
        self._indices = {}

    def interval(self, values):
        values = np.asarray(values, dtype=float)
        n = len(values)
        if n < 2 or not np.all(np.isfinite(values)):
            return np.nan, np.nan
        idx = self._indices.get(n)
        if idx is None:
            rng = np.random.default_rng(self.random_state)
            idx = self._indices[n] = rng.integers(0, n, size=(self.n_boot, n))
        means = values[idx].mean(axis=1)
        tail = 100 * (1 - self.confidence) / 2
        low, high = np.percentile(means, [tail, 100 - tail])
        return float(low), float(high)


# --------------------------------------------------------------- intervals
@_doc
def confidence_intervals(
    df,
    *,
    metrics=SUMMARY_METRICS,
    aggregates=AGGREGATES,
    confidence=0.95,
    n_boot=10_000,
    random_state=0,
):
    """Mean over seeds of each strategy, with a bootstrap confidence interval.

    Each (dataset, strategy, seed) curve is reduced to its final value and its
    mean over rounds (see :func:`per_seed`); the interval is the percentile
    bootstrap of the mean over seeds (seeds sorted, then resampled with
    replacement ``n_boot`` times).

    Parameters
    ----------
    df : pandas.DataFrame
        The results table of :func:`~skfral.experiment.run_fral`,
        :func:`~skfral.experiment.load_results` or
        :meth:`FRALRecorder.to_frame <skfral.experiment.FRALRecorder.to_frame>`.
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns.
    aggregates : sequence of {"final", "rounds"}, default=("final", "rounds")
        Final-round value and/or mean over rounds.
    {stats}

    Returns
    -------
    intervals : pandas.DataFrame
        One row per (dataset, strategy, metric, aggregate): ``n_seeds``,
        ``mean``, ``std`` (over seeds, ``ddof=1``), ``ci_low``, ``ci_high``
        (NaN with fewer than two seeds: one seed gives no interval).

    See Also
    --------
    paired_comparisons : Paired differences between strategies.
    summarize : The summary table, with these intervals as columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import confidence_intervals
    >>> df = pd.DataFrame({"dataset": "d", "strategy": "jin", "seed": [0, 1, 2],
    ...                    "round": 0, "acc": [0.5, 0.6, 0.7]})
    >>> ci = confidence_intervals(df, metrics=["acc"], aggregates="final")
    >>> ci[["n_seeds", "mean"]].round(3).values.tolist()
    [[3.0, 0.6]]
    >>> bool(ci.loc[0, "ci_low"] < 0.6 < ci.loc[0, "ci_high"])
    True
    """
    metrics = check_results_table(df, metrics, "df")
    aggregates = _check_aggregates(aggregates)
    boot = _Bootstrap(*_check_stats(confidence, n_boot, random_state))
    seeds = per_seed(df, metrics).sort_values(_KEYS + ["seed"], kind="stable")
    rows = []
    order = df[_KEYS].drop_duplicates()
    for dataset, strategy in order.itertuples(index=False):
        part = seeds[(seeds["dataset"] == dataset) & (seeds["strategy"] == strategy)]
        for metric in metrics:
            for agg in aggregates:
                values = part[f"{metric}_{agg}"].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                low, high = boot.interval(values)
                rows.append(
                    {
                        "dataset": dataset,
                        "strategy": strategy,
                        "metric": metric,
                        "aggregate": agg,
                        "n_seeds": len(values),
                        "mean": float(values.mean()) if len(values) else np.nan,
                        "std": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "strategy",
            "metric",
            "aggregate",
            "n_seeds",
            "mean",
            "std",
            "ci_low",
            "ci_high",
        ],
    )


# ---------------------------------------------------------- partial folders
def complete_rounds(df, *, n_rounds=None, expected_cells=None):
    """The part of a results table that can be summarised, and what is missing.

    A cell (data set, strategy, seed) is complete when it has every round
    ``0..n_rounds``. Summaries of an interrupted run must not average one
    seed's round 5 with another's round 2, so only complete cells are kept.
    Where a data set has no complete cell yet, its started cells are cut to
    the rounds every one of them finished (an early look, said so in
    ``incomplete``).

    Parameters
    ----------
    df : pandas.DataFrame
        The results table.
    n_rounds : int or None, default=None
        The number of query rounds the run was asked for (``run_fral``'s
        ``n_rounds``: rounds ``0..n_rounds``), e.g. from the run folder's
        manifest. ``None``: the highest round in each data set.
    expected_cells : iterable of (dataset, strategy, seed) or None, default=None
        Every cell the run should have (from the manifest); cells with no
        round at all are then listed too (with 0 rounds done).

    Returns
    -------
    complete : pandas.DataFrame
        The rows to summarise (a copy; the input is not modified).
    incomplete : pandas.DataFrame
        One row per incomplete cell: ``dataset, strategy, seed,
        rounds_done, rounds_expected, used`` (``used``: the rounds of it kept
        in ``complete``, e.g. ``"none"`` or ``"0..2"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import complete_rounds
    >>> df = pd.DataFrame({"dataset": "d", "strategy": "jin",
    ...                    "seed": [0, 0, 0, 1], "round": [0, 1, 2, 0], "acc": 0.5})
    >>> complete, incomplete = complete_rounds(df)
    >>> sorted(set(complete["seed"]))
    [0]
    >>> incomplete[["seed", "rounds_done", "rounds_expected"]].values.tolist()
    [[1, 1, 3]]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"df has type {type(df).__name__}: expected a results DataFrame."
        )
    missing = sorted({"dataset", "strategy", "seed", "round"} - set(df.columns))
    if missing:
        raise ValueError(
            f"the results table lacks column(s) {missing}: expected the table of "
            "run_fral or load_results."
        )
    if n_rounds is not None:
        n_rounds = check_int(n_rounds, "n_rounds", min_value=0)
    keys = ["dataset", "strategy", "seed"]
    present = df.groupby(keys, sort=False)["round"].agg(
        lambda r: frozenset(int(v) for v in r if np.isfinite(v))
    )
    present = present.rename("_rounds").reset_index()
    if expected_cells is not None:
        expected = pd.DataFrame(list(expected_cells), columns=keys)
        present = expected.merge(present, on=keys, how="outer")
        present["_rounds"] = [
            v if isinstance(v, frozenset) else frozenset() for v in present["_rounds"]
        ]
    wanted = {}
    for dataset, part in present.groupby("dataset", sort=False):
        if n_rounds is not None:
            wanted[dataset] = frozenset(range(n_rounds + 1))
        else:  # every round some cell of the data set reached
            wanted[dataset] = frozenset().union(*part["_rounds"])
    done = present[keys].copy()
    done["rounds_done"] = [
        len(r & wanted[d]) for d, r in zip(present["dataset"], present["_rounds"])
    ]
    done["rounds_expected"] = [len(wanted[d]) for d in present["dataset"]]
    done["used"] = "none"
    complete_cell = done["rounds_done"] >= done["rounds_expected"]
    mask = np.zeros(len(df), dtype=bool)
    cell_of = pd.MultiIndex.from_frame(df[keys])
    for dataset, part in present.groupby("dataset", sort=False):
        full = complete_cell[part.index]
        if full.any():
            cells, rounds = part[full], wanted[dataset]
        else:  # an early look: the rounds every started cell finished
            cells = part[part["_rounds"].map(len) > 0]
            rounds = frozenset.intersection(*cells["_rounds"]) if len(cells) else ()
            rounds = frozenset(rounds) & wanted[dataset]
            if rounds:
                done.loc[cells.index, "used"] = _span(rounds)
        if rounds:
            chosen = pd.MultiIndex.from_frame(cells[keys])
            mask |= cell_of.isin(chosen) & df["round"].isin(rounds).to_numpy()
    complete = df[mask].copy()
    incomplete = done[~complete_cell].reset_index(drop=True)
    return complete, incomplete


def _span(rounds):
    rounds = sorted(rounds)
    if rounds == list(range(rounds[0], rounds[-1] + 1)):
        return f"{rounds[0]}..{rounds[-1]}" if len(rounds) > 1 else str(rounds[0])
    return ",".join(map(str, rounds))
