"""Summary tables of a run: final round, mean over rounds, paired differences.

FRAL.md section 5: per data set and strategy, the mean +- std over seeds of
the final-round value and of the mean over rounds (the area under the
learning curve divided by its length) of the worst-group standard and robust
accuracy and their balanced versions; paired differences against ``random``
and against ``worst_group`` (mean +- std over the shared seeds and the number
of seeds where the strategy was better); the query time.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import WORST_GROUP_METRICS
from ._plot import CURVE_METRICS, plot_learning_curves
from ._stats import (
    AGGREGATES,
    SUMMARY_METRICS,
    check_results_table,
    complete_rounds,
    confidence_intervals,
    paired_comparisons,
    per_seed,
    win_tie_loss,
)

__all__ = [
    "SUMMARY_METRICS",
    "paired_differences",
    "plot_learning_curves",
    "summarize",
    "summary_markdown",
    "write_report",
]

BASELINES = ("random", "worst_group")
_SHORT = {
    "worst_group_standard_accuracy": "WG std acc",
    "worst_group_robust_accuracy": "WG robust acc",
    "worst_group_standard_balanced_accuracy": "WG bal. std acc",
    "worst_group_robust_balanced_accuracy": "WG bal. robust acc",
}
_KEYS = ["dataset", "strategy"]


def _check_table(df, metrics):
    check_results_table(df, metrics)


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
        ``{metric}_{final|rounds}_vs_{b}_mean``, ``_std``, ``_n_better``.

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
    for timing in ("query_seconds", "train_seconds"):
        if timing in seeds.columns:
            table[f"{timing}_mean"] = grouped[timing].mean().to_numpy()
            table[f"{timing}_std"] = grouped[timing].std().to_numpy()
    for baseline in baselines:
        diffs = paired_differences(df, baseline, metrics=metrics)
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
        "A win: the 95% bootstrap interval of the paired difference (by seed) "
        "lies above 0; a loss: below 0; a tie: it contains 0.\n\n"
        f"{_md_table(header, rows)}\n"
    )


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
        for agg, title in (("final", "Final round"), ("rounds", "Mean over rounds")):
            header = ["strategy", "seeds", "labels"] + [
                _SHORT.get(m, m) for m in metrics
            ]
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
        baseline, the mean paired difference with its bootstrap interval, the
        seeds better / worse, the Wilcoxon p-value, the outcome and the note.
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
                "difference [95% CI]",
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
                        f"**{r.outcome}**" if r.outcome != "tie" else r.outcome,
                        r.note or "",
                    ]
                )
            out.append(
                f"### {_SHORT.get(metric, metric)}: paired differences, {title}\n\n"
                f"{_md_table(header, rows)}\n"
            )
    return "\n".join(out)


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


def _focus(results):
    """The strategies whose comparisons a report details: JIN's, else all."""
    if "base_strategy" in results.columns:
        jin = results.loc[results["base_strategy"] == "jin", "strategy"]
        if len(jin):
            return list(dict.fromkeys(jin))
    return None


def _read_run(path):
    """Results, n_rounds and expected cells of a run folder (from its manifest)."""
    from ._store import RunStore, load_results

    results = load_results(path)
    manifest = RunStore(path).read_manifest() or {}
    config = manifest.get("config", {})
    n_rounds = config.get("n_rounds")
    cells = None
    if {"datasets", "strategies", "seeds"} <= set(config):
        cells = [
            (d, s, seed)
            for d in config["datasets"]
            for s in config["strategies"]
            for seed in config["seeds"]
        ]
    return results, n_rounds, cells


def write_report(
    results,
    out_dir,
    *,
    n_rounds=None,
    confidence=0.95,
    n_boot=10_000,
    random_state=0,
):
    """Write ``summary.md``, ``summary.csv`` and learning-curve PNGs.

    The report summarises complete rounds only: on a partial run folder (an
    interrupted or growing run), cells that have not finished every round
    are left out and listed by name (data set, strategy, seed, rounds done /
    expected) at the top of ``summary.md``.

    Parameters
    ----------
    results : pandas.DataFrame, str or path
        The table of :func:`~skfral.experiment.run_fral`,
        :func:`~skfral.experiment.load_results` or
        :meth:`FRALRecorder.to_frame
        <skfral.experiment.FRALRecorder.to_frame>`; or a run folder (then
        the expected rounds and cells come from its manifest, so cells not
        started yet are listed too).
    out_dir : str or path
        Folder to write into (created if needed).
    n_rounds : int or None, default=None
        The rounds every cell should have (``0..n_rounds``); ``None``: from
        the run folder's manifest, else the highest round of each data set.
    confidence : float, default=0.95
        Coverage of the bootstrap intervals.
    n_boot : int, default=10000
        Bootstrap resamples of the seeds.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    summary : pandas.DataFrame
        The :func:`summarize` table.
    text : str
        Its Markdown: incomplete cells, then per data set the win/tie/loss
        table, the values with their intervals, the paired differences of
        JIN's strategies (every strategy when none is JIN) against every
        other strategy with intervals and Wilcoxon tests.
    files : list of Path
        Everything written: ``summary.md``, ``summary.csv``,
        ``curves_<dataset>.png`` (worst-group standard and robust accuracy) and
        ``curves_<dataset>_balanced.png`` (their balanced versions).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from skfral.experiment import write_report
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 4 + ["jin"] * 4,
    ...                    "seed": [0, 0, 1, 1] * 2, "round": [0, 1] * 4,
    ...                    "n_labels": [10, 20] * 4, "majority_class_level": 0.5,
    ...                    "worst_group_standard_accuracy": 0.6,
    ...                    "worst_group_robust_accuracy": 0.5})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary, text, files = write_report(df, tmp, n_boot=200)
    >>> [f.name for f in files]
    ['summary.md', 'summary.csv', 'curves_d.png']
    """
    from ._store import atomic_write, slug

    expected = None
    if isinstance(results, str | Path):
        results, manifest_rounds, expected = _read_run(results)
        if n_rounds is None:
            n_rounds = manifest_rounds
    metrics = [m for m in SUMMARY_METRICS if m in results.columns]
    stats = dict(confidence=confidence, n_boot=n_boot, random_state=random_state)
    full, incomplete = complete_rounds(
        results, n_rounds=n_rounds, expected_cells=expected
    )
    if len(full) == 0:
        raise ValueError(
            "the results have no complete round to report: "
            + _incomplete_warning(incomplete)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # listed in the report
        comparisons = paired_comparisons(full, metrics=metrics, **stats)
        summary = _summarize(
            full,
            baselines=BASELINES,
            metrics=metrics,
            n_rounds=None,
            stats=stats,
            comparisons=comparisons,
        )
    text = "# FRAL results\n\n"
    if len(incomplete):
        text += incomplete_markdown(incomplete) + "\n"
    text += summary_markdown(summary, metrics=metrics)
    detail = comparisons_markdown(comparisons, strategies=_focus(full))
    if detail:
        detail = "\n".join(
            "#" + ln if ln.startswith("#") else ln for ln in detail.splitlines()
        )
        text += (
            "\n## Paired comparisons (seed by seed; Wilcoxon signed-rank)\n\n" + detail
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "summary.md", out / "summary.csv"]
    atomic_write(files[0], text)
    atomic_write(files[1], summary.to_csv(index=False))
    balanced = tuple(m for m in WORST_GROUP_METRICS if "balanced" in m)
    plain = [m for m in CURVE_METRICS if m in full.columns]
    for dataset in dict.fromkeys(full["dataset"]):
        if plain:
            path = out / f"curves_{slug(dataset)}.png"
            files.append(
                plot_learning_curves(full, path, dataset=dataset, metrics=plain)
            )
        if all(m in full.columns for m in balanced):
            path = out / f"curves_{slug(dataset)}_balanced.png"
            files.append(
                plot_learning_curves(full, path, dataset=dataset, metrics=balanced)
            )
    return summary, text, files
