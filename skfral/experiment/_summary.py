"""Summary tables of a run: final round, mean over rounds, paired differences.

FRAL.md section 5: per data set and strategy, the mean +- std over seeds of
the final-round value and of the mean over rounds (the area under the
learning curve divided by its length) of the worst-group standard and robust
accuracy and their balanced versions; paired differences against ``random``
and against ``worst_group`` (mean +- std over the shared seeds and the number
of seeds where the strategy was better); the query time.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ._plot import plot_learning_curves

__all__ = [
    "SUMMARY_METRICS",
    "paired_differences",
    "plot_learning_curves",
    "summarize",
    "summary_markdown",
    "write_report",
]

SUMMARY_METRICS = (
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
)
"""The accuracy columns summarised by :func:`summarize`."""
AGGREGATES = ("final", "rounds")
BASELINES = ("random", "worst_group")
_SHORT = {
    "worst_group_standard_accuracy": "WG std acc",
    "worst_group_robust_accuracy": "WG robust acc",
    "worst_group_standard_balanced_accuracy": "WG bal. std acc",
    "worst_group_robust_balanced_accuracy": "WG bal. robust acc",
}
_KEYS = ["dataset", "strategy"]


def _check_table(df, metrics):
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


def per_seed(df, metrics=SUMMARY_METRICS):
    """One row per (dataset, strategy, seed): final and mean-over-rounds values."""
    _check_table(df, metrics)
    df = df.sort_values("round", kind="stable")
    grouped = df.groupby(_KEYS + ["seed"], sort=False)
    final = grouped[list(metrics)].last().add_suffix("_final")
    rounds = grouped[list(metrics)].mean().add_suffix("_rounds")
    parts = [final, rounds]
    extra = {"n_labels": "last", "round": "max"}
    if "query_seconds" in df.columns:
        extra["query_seconds"] = "mean"  # NaN (round 0) skipped: mean per query
    if "train_seconds" in df.columns:
        extra["train_seconds"] = "mean"
    parts.append(
        grouped.agg(extra)
        if "n_labels" in df.columns
        else grouped.agg({"round": "max"})
    )
    return pd.concat(parts, axis=1).reset_index()


def paired_differences(df, baseline="random", *, metrics=SUMMARY_METRICS):
    """Paired differences of every strategy against ``baseline``, seed by seed.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral`.
    baseline : str, default="random"
        The strategy label to compare against (in the same data set, same seed).
    metrics : sequence of str, default=SUMMARY_METRICS

    Returns
    -------
    diffs : pandas.DataFrame
        One row per (dataset, strategy other than the baseline, metric,
        aggregate) with ``aggregate`` in {"final", "rounds"} (final round,
        mean over rounds): ``mean`` and ``std`` of ``strategy - baseline``
        over the seeds both ran, ``n_better`` (seeds where the strategy is
        strictly higher), ``n_seeds``. Empty when the baseline is absent.

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


def summarize(df, *, baselines=BASELINES, metrics=SUMMARY_METRICS):
    """The summary table: one row per (dataset, strategy).

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral`.
    baselines : sequence of str, default=("random", "worst_group")
        Strategies to compare against (skipped when absent from a data set).
    metrics : sequence of str, default=SUMMARY_METRICS

    Returns
    -------
    summary : pandas.DataFrame
        ``dataset, strategy, n_seeds, n_labels`` (final), then for each
        metric ``{metric}_final_mean``, ``_final_std``, ``_rounds_mean``,
        ``_rounds_std`` (mean over rounds); ``query_seconds_mean`` /
        ``_std`` (seconds per query, mean over seeds), ``train_seconds_mean``;
        and for each baseline ``b`` present
        ``{metric}_{final|rounds}_vs_{b}_mean``, ``_std``, ``_n_better``.

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
    metrics = list(metrics)
    seeds = per_seed(df, metrics)
    grouped = seeds.groupby(_KEYS, sort=False)
    table = grouped.agg(n_seeds=("seed", "nunique")).reset_index()
    if "n_labels" in seeds.columns:
        table["n_labels"] = grouped["n_labels"].mean().to_numpy()
    for metric in metrics:
        for agg in AGGREGATES:
            col = f"{metric}_{agg}"
            table[f"{col}_mean"] = grouped[col].mean().to_numpy()
            table[f"{col}_std"] = grouped[col].std().to_numpy()
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
                idx = pd.MultiIndex.from_frame(table[_KEYS])
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


def _md_table(header, rows):
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_markdown(summary, *, metrics=SUMMARY_METRICS):
    """Markdown text of a :func:`summarize` table, one section per data set."""
    metrics = [m for m in metrics if f"{m}_final_mean" in summary.columns]
    baselines = [
        b
        for b in BASELINES
        if any(c.endswith(f"_vs_{b}_mean") for c in summary.columns)
    ]
    out = []
    for dataset, part in summary.groupby("dataset", sort=False):
        out.append(f"## {dataset}\n")
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
                    _fmt(r[f"{m}_{agg}_mean"], r[f"{m}_{agg}_std"]) for m in metrics
                ]
                if agg == "final" and "query_seconds_mean" in part.columns:
                    row.append(
                        _fmt(r["query_seconds_mean"], r["query_seconds_std"], digits=2)
                    )
                rows.append(row)
            out.append(
                f"### {title} (mean ± std over seeds)\n\n{_md_table(header, rows)}\n"
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


def write_report(results, out_dir):
    """Write ``summary.md``, ``summary.csv`` and learning-curve PNGs.

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral` or
        :func:`~skfral.experiment.load_results`.
    out_dir : str or path
        Folder to write into (created if needed).

    Returns
    -------
    summary : pandas.DataFrame
        The :func:`summarize` table.
    text : str
        Its Markdown.
    files : list of Path
        Everything written: ``summary.md``, ``summary.csv``,
        ``curves_<dataset>.png`` (worst-group standard and robust accuracy) and
        ``curves_<dataset>_balanced.png`` (their balanced versions).
    """
    from ._store import atomic_write, slug

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    text = "# FRAL results\n\n" + summary_markdown(summary)
    files = [out / "summary.md", out / "summary.csv"]
    atomic_write(files[0], text)
    atomic_write(files[1], summary.to_csv(index=False))
    balanced = (
        "worst_group_standard_balanced_accuracy",
        "worst_group_robust_balanced_accuracy",
    )
    for dataset in dict.fromkeys(results["dataset"]):
        path = out / f"curves_{slug(dataset)}.png"
        files.append(plot_learning_curves(results, path, dataset=dataset))
        if all(m in results.columns for m in balanced):
            path = out / f"curves_{slug(dataset)}_balanced.png"
            files.append(
                plot_learning_curves(results, path, dataset=dataset, metrics=balanced)
            )
    return summary, text, files
