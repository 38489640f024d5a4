"""Summary tables of a run: final round, mean over rounds, paired differences.

FRAL.md section 5: per data set and strategy, the mean +- std over seeds of
the final-round value and of the mean over rounds (the area under the
learning curve divided by its length) of the worst-group standard and robust
accuracy and their balanced versions; paired differences against ``random``
and against ``worst_group`` (mean +- std over the shared seeds and the number
of seeds where the strategy was better); the query time.
"""

import warnings

import numpy as np
import pandas as pd

from ...metrics import FLOOR_NAMES
from ._floor import FLOOR_METRIC, floor_values
from ._paired import (
    TOO_FEW_SEEDS,
    VERDICT_RULE,
    min_seeds,
    paired_comparisons,
    win_tie_loss,
)
from ._seeds import (
    AGGREGATES,
    SUMMARY_METRICS,
    check_results_table,
    complete_rounds,
    confidence_intervals,
    per_seed,
)

__all__ = [
    "comparisons_markdown",
    "incomplete_markdown",
    "summarize",
    "summary_markdown",
]

BASELINES = ("random", "worst_group")
_SHORT = {
    "worst_group_standard_accuracy": "WG std acc",
    "worst_group_robust_accuracy": "WG robust acc",
    "worst_group_standard_balanced_accuracy": "WG bal. std acc",
    "worst_group_robust_balanced_accuracy": "WG bal. robust acc",
}
_KEYS = ["dataset", "strategy"]


def _incomplete_warning(incomplete):
    cells = ", ".join(
        f"({r.dataset}, {r.strategy}, seed {r.seed}: {r.rounds_done}/"
        f"{r.rounds_expected} rounds)"
        for r in incomplete.head(8).itertuples(index=False)
    )
    more = f" and {len(incomplete) - 8} more" if len(incomplete) > 8 else ""
    return (
        f"{len(incomplete)} incomplete cell(s) left out of the summary (complete "
        f"rounds only): {cells}{more}."
    )


def summarize(
    df,
    *,
    baselines=BASELINES,
    metrics=SUMMARY_METRICS,
    n_rounds=None,
    confidence=0.95,
    n_boot=10_000,
    random_state=0,
):
    """The summary table: one row per (dataset, strategy).

    Only complete cells are summarised (see
    :func:`~skfral.experiment.complete_rounds`): a seed stopped at round 2
    is never averaged with one at round 5; a :class:`UserWarning` names the
    cells left out.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral`.
    baselines : sequence of str, default=("random", "worst_group")
        Strategies to compare against (skipped when absent from a data set)
        in the ``_vs_{baseline}`` columns.
    metrics : sequence of str, default=SUMMARY_METRICS
        The metric columns.
    n_rounds : int or None, default=None
        The number of query rounds every cell should have (rounds
        ``0..n_rounds``); ``None``: the highest round of each data set.
    confidence : float, default=0.95
        Coverage of the bootstrap intervals.
    n_boot : int, default=10000
        Bootstrap resamples of the seeds.
    random_state : int, default=0
        Seed of the bootstrap (see
        :func:`~skfral.experiment.confidence_intervals`).

    Returns
    -------
    summary : pandas.DataFrame
        ``dataset, strategy, n_seeds, n_labels`` (final), then for each
        metric ``{metric}_final_mean``, ``_final_std``, ``_final_ci_low``,
        ``_final_ci_high`` and the same for ``_rounds`` (mean over rounds):
        the mean over seeds, its std and the percentile bootstrap interval;
        ``{metric}_{final|rounds}_wins``, ``_ties``, ``_losses``: the
        win/tie/loss counts against every other strategy of the data set
        (:func:`~skfral.experiment.win_tie_loss`); ``query_seconds_mean`` /
        ``_std`` (seconds per query, mean over seeds), ``train_seconds_mean``;
        and for each baseline ``b`` present
        ``{metric}_{final|rounds}_vs_{b}_mean``, ``_std``, ``_n_better``;
        where the table has them, ``floor_accuracy_final_mean``,
        ``floor_worst_group_accuracy_final_mean`` and
        ``floor_balanced_accuracy_final_mean``: the majority floor
        (:func:`skfral.metrics.majority_floor`) of each strategy's final
        labelled set, mean over seeds.

    See Also
    --------
    paired_comparisons : Every pair of strategies, with intervals and tests.
    write_report : The summary as Markdown, CSV and learning curves.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfral.experiment import summarize
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 2 + ["jin"] * 2,
    ...                    "seed": [0, 1, 0, 1], "round": 1, "n_labels": 20,
    ...                    "worst_group_robust_accuracy": [0.5, 0.6, 0.55, 0.58]})
    >>> s = summarize(df, metrics=["worst_group_robust_accuracy"])
    >>> col = "worst_group_robust_accuracy_final_mean"
    >>> s[["strategy", col]].round(3).values.tolist()
    [['random', 0.55], ['jin', 0.565]]
    """
    return _summarize(
        df,
        baselines=baselines,
        metrics=metrics,
        n_rounds=n_rounds,
        stats=dict(confidence=confidence, n_boot=n_boot, random_state=random_state),
    )


def _summarize(df, *, baselines, metrics, n_rounds, stats, comparisons=None):
    metrics = check_results_table(df, metrics)
    full, incomplete = complete_rounds(df, n_rounds=n_rounds)
    if len(incomplete):
        warnings.warn(_incomplete_warning(incomplete), UserWarning, stacklevel=3)
    if len(full) == 0:
        raise ValueError(
            "the results table has no complete round to summarise: "
            + _incomplete_warning(incomplete)
        )
    df = full
    seeds = per_seed(df, metrics)
    grouped = seeds.groupby(_KEYS, sort=False)
    table = grouped.agg(n_seeds=("seed", "nunique")).reset_index()
    if "n_labels" in seeds.columns:
        table["n_labels"] = grouped["n_labels"].mean().to_numpy()
    idx = pd.MultiIndex.from_frame(table[_KEYS])
    cis = confidence_intervals(df, metrics=metrics, **stats)
    if comparisons is None:
        comparisons = paired_comparisons(df, metrics=metrics, **stats)
    wtl = win_tie_loss(comparisons)
    for metric in metrics:
        for agg in AGGREGATES:
            col = f"{metric}_{agg}"
            table[f"{col}_mean"] = grouped[col].mean().to_numpy()
            table[f"{col}_std"] = grouped[col].std().to_numpy()
            part = cis[(cis["metric"] == metric) & (cis["aggregate"] == agg)]
            part = part.set_index(_KEYS).reindex(idx)
            table[f"{col}_ci_low"] = part["ci_low"].to_numpy()
            table[f"{col}_ci_high"] = part["ci_high"].to_numpy()
            part = wtl[(wtl["metric"] == metric) & (wtl["aggregate"] == agg)]
            part = part.set_index(_KEYS).reindex(idx)
            for name in ("wins", "ties", "losses"):
                table[f"{col}_{name}"] = pd.array(part[name].to_numpy(), dtype="Int64")
    floors = floor_values(df)
    if floors is not None:
        floors = floors.set_index(_KEYS).reindex(idx)
        for name in FLOOR_NAMES:
            if name in floors.columns:
                table[f"{name}_final_mean"] = floors[name].to_numpy()
    for timing in ("query_seconds", "train_seconds"):
        if timing in seeds.columns:
            table[f"{timing}_mean"] = grouped[timing].mean().to_numpy()
            table[f"{timing}_std"] = grouped[timing].std().to_numpy()
    for baseline in baselines:
        diffs = comparisons[comparisons["baseline"] == baseline]
        if diffs.empty:
            continue
        for metric in metrics:
            for agg in AGGREGATES:
                part = diffs[(diffs["metric"] == metric) & (diffs["aggregate"] == agg)]
                part = part.set_index(_KEYS)
                name = f"{metric}_{agg}_vs_{baseline}"
                table[f"{name}_mean"] = part["mean"].reindex(idx).to_numpy()
                table[f"{name}_std"] = part["std"].reindex(idx).to_numpy()
                table[f"{name}_n_better"] = pd.array(
                    part["n_better"].reindex(idx).to_numpy(), dtype="Int64"
                )
    return table


# ----------------------------------------------------------------- markdown
def _fmt(mean, std, *, signed=False, digits=3):
    if mean is None or not np.isfinite(mean):
        return "-"
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    if std is not None and np.isfinite(std):
        text += f" ± {std:.{digits}f}"
    return text


def _fmt_ci(low, high, *, signed=False, digits=3):
    if low is None or not (np.isfinite(low) and np.isfinite(high)):
        return ""
    spec = f"+.{digits}f" if signed else f".{digits}f"
    return f" [{low:{spec}}, {high:{spec}}]"


def _md_table(header, rows):
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _too_few_line(part):
    """A sentence when some strategy has too few seeds for any verdict."""
    needed = min_seeds()
    few = part[part["n_seeds"] < needed]
    if few.empty:
        return ""
    names = ", ".join(f"{r.strategy} ({r.n_seeds})" for r in few.itertuples())
    return (
        f" Too few seeds for a verdict (fewer than {needed}): {names}; their "
        "comparisons are ties (too few seeds)."
    )


def _wtl_section(part, metrics, agg, title):
    if not all(f"{m}_{agg}_wins" in part.columns for m in metrics):
        return None
    header = ["strategy", "seeds"] + [_SHORT.get(m, m) for m in metrics]
    rows = []
    for _, r in part.iterrows():
        cells = []
        for m in metrics:
            w, t, lo = (r[f"{m}_{agg}_{k}"] for k in ("wins", "ties", "losses"))
            cells.append("-" if pd.isna(w) else f"{int(w)} / {int(t)} / {int(lo)}")
        rows.append([r["strategy"], int(r["n_seeds"])] + cells)
    return (
        f"### Wins / ties / losses against every other strategy, {title}\n\n"
        f"{VERDICT_RULE}{_too_few_line(part)}\n\n"
        f"{_md_table(header, rows)}\n"
    )


def _has_floor(part):
    column = "floor_worst_group_accuracy_final_mean"
    return column in part.columns and part[column].notna().any()


def _floor_section(part):
    """The majority floor of a data set, and the strategies not above it."""
    if not _has_floor(part):
        return None
    values = ", ".join(
        f"{name} {part[f'{name}_final_mean'].mean():.3f}"
        for name in FLOOR_NAMES
        if f"{name}_final_mean" in part.columns
    )
    text = (
        "### Majority floor\n\n"
        "The best constant prediction: the labelled set's majority class for "
        "every test sample (a constant cannot be attacked: its robust accuracy "
        f"is its clean accuracy). Final round, mean over seeds: {values}.\n"
    )
    metric = f"{FLOOR_METRIC}_final_mean"
    if metric in part.columns:
        below = part[
            part[metric] <= part["floor_worst_group_accuracy_final_mean"] + 1e-12
        ]
        if len(below):
            names = ", ".join(
                f"{r.strategy} ({getattr(r, metric):.3f})"
                for r in below.itertuples(index=False)
            )
            text += (
                f"\n**Not above the majority floor** ({FLOOR_METRIC}, final "
                f"round): {names}.\n"
            )
    return text


def summary_markdown(summary, *, metrics=SUMMARY_METRICS):
    """Markdown text of a :func:`summarize` table, one section per data set.

    Per data set: the win/tie/loss counts (mean over rounds) when the table
    has them, the final-round and mean-over-rounds values (mean ± std over
    seeds, with the bootstrap interval in brackets), and the paired
    differences against ``random`` and ``worst_group``.

    Parameters
    ----------
    summary : pandas.DataFrame
        The table of :func:`summarize`.
    metrics : sequence of str, default=SUMMARY_METRICS
        The metrics to show (those absent from the table are skipped).

    Returns
    -------
    text : str
        Markdown, with ``## <dataset>`` and ``###`` headings.
    """
    metrics = [m for m in metrics if f"{m}_final_mean" in summary.columns]
    baselines = [
        b
        for b in BASELINES
        if any(c.endswith(f"_vs_{b}_mean") for c in summary.columns)
    ]
    out = []
    for dataset, part in summary.groupby("dataset", sort=False):
        out.append(f"## {dataset}\n")
        section = _wtl_section(part, metrics, "rounds", "mean over rounds")
        if section:
            out.append(section)
        floor = _floor_section(part)
        if floor:
            out.append(floor)
        for agg, title in (("final", "Final round"), ("rounds", "Mean over rounds")):
            header = ["strategy", "seeds", "labels"] + [
                _SHORT.get(m, m) for m in metrics
            ]
            show_floor = agg == "final" and _has_floor(part)
            if show_floor:
                header.append("majority floor (WG)")
            if agg == "final" and "query_seconds_mean" in part.columns:
                header.append("query s")
            rows = []
            for _, r in part.iterrows():
                row = [
                    r["strategy"],
                    int(r["n_seeds"]),
                    f"{r.get('n_labels', np.nan):.0f}",
                ]
                row += [
                    _fmt(r[f"{m}_{agg}_mean"], r[f"{m}_{agg}_std"])
                    + _fmt_ci(r.get(f"{m}_{agg}_ci_low"), r.get(f"{m}_{agg}_ci_high"))
                    for m in metrics
                ]
                if show_floor:
                    row.append(_fmt(r["floor_worst_group_accuracy_final_mean"], None))
                if agg == "final" and "query_seconds_mean" in part.columns:
                    row.append(
                        _fmt(r["query_seconds_mean"], r["query_seconds_std"], digits=2)
                    )
                rows.append(row)
            out.append(
                f"### {title} (mean ± std over seeds [95% bootstrap CI])\n\n"
                f"{_md_table(header, rows)}\n"
            )
        for baseline in baselines:
            for agg, title in (
                ("final", "final round"),
                ("rounds", "mean over rounds"),
            ):
                header = ["strategy"] + [_SHORT.get(m, m) for m in metrics]
                rows = []
                for _, r in part.iterrows():
                    if r["strategy"] == baseline:
                        continue
                    name = f"_{agg}_vs_{baseline}"
                    cells = []
                    for m in metrics:
                        mean = r[f"{m}{name}_mean"]
                        if not np.isfinite(mean):
                            cells.append("-")
                            continue
                        better = int(r[f"{m}{name}_n_better"])
                        cells.append(
                            f"{_fmt(mean, r[f'{m}{name}_std'], signed=True)} "
                            f"({better}/{int(r['n_seeds'])})"
                        )
                    rows.append([r["strategy"]] + cells)
                if rows:
                    out.append(
                        f"### Paired difference against {baseline}, {title} "
                        f"(mean ± std, seeds better)\n\n{_md_table(header, rows)}\n"
                    )
    return "\n".join(out)


def comparisons_markdown(comparisons, *, strategies=None, aggregate="rounds"):
    """Markdown tables of :func:`paired_comparisons`, one per data set and metric.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        The table of :func:`~skfral.experiment.paired_comparisons`.
    strategies : sequence of str or None, default=None
        The strategies whose rows are shown (each against every baseline);
        ``None``: all.
    aggregate : {"final", "rounds"}, default="rounds"
        Which reduction of the curves to show.

    Returns
    -------
    text : str
        Per data set (``## <dataset>``) and metric (``###``): strategy,
        baseline, the mean paired difference with its t interval, the seeds
        better / worse, the Wilcoxon p-value, the verdict (``"tie (too few
        seeds)"`` when the seeds cannot decide) and its reason.
    """
    part = comparisons[comparisons["aggregate"] == aggregate]
    if strategies is not None:
        part = part[part["strategy"].isin(list(strategies))]
    out = []
    title = {"rounds": "mean over rounds", "final": "final round"}[aggregate]
    for dataset, by_data in part.groupby("dataset", sort=False):
        out.append(f"## {dataset}\n")
        for metric, rows_ in by_data.groupby("metric", sort=False):
            header = [
                "strategy",
                "baseline",
                "seeds",
                "difference [95% t CI]",
                "better / worse",
                "Wilcoxon p",
                "outcome",
                "note",
            ]
            rows = []
            for r in rows_.itertuples(index=False):
                p = "-" if not np.isfinite(r.p_value) else f"{r.p_value:.3f}"
                rows.append(
                    [
                        r.strategy,
                        r.baseline,
                        r.n_seeds,
                        _fmt(r.mean, None, signed=True)
                        + _fmt_ci(r.ci_low, r.ci_high, signed=True),
                        f"{r.n_better} / {r.n_worse}",
                        p,
                        _outcome_cell(r.outcome, r.note),
                        r.note or "",
                    ]
                )
            out.append(
                f"### {_SHORT.get(metric, metric)}: paired differences, {title}\n\n"
                f"{_md_table(header, rows)}\n"
            )
    return "\n".join(out)


def _outcome_cell(outcome, note):
    if outcome != "tie":
        return f"**{outcome}**"
    if isinstance(note, str) and note.startswith(TOO_FEW_SEEDS):
        return f"tie ({TOO_FEW_SEEDS})"
    return outcome


def incomplete_markdown(incomplete):
    """Markdown list of the cells a partial run folder has not finished."""
    if incomplete is None or len(incomplete) == 0:
        return ""
    lines = [
        "## Incomplete cells\n",
        "These (data set, strategy, seed) cells have not finished every round; "
        "the summaries use complete cells only (where a data set has none yet, "
        "the rounds every started cell finished, as the `used` column says).\n",
    ]
    rows = [
        [
            r.dataset,
            r.strategy,
            r.seed,
            f"{r.rounds_done} / {r.rounds_expected}",
            r.used,
        ]
        for r in incomplete.itertuples(index=False)
    ]
    lines.append(
        _md_table(
            ["data set", "strategy", "seed", "rounds done / expected", "used"], rows
        )
    )
    return "\n".join(lines) + "\n"
