"""Learning curves: worst-group accuracy against labels spent, one line per strategy."""

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ...utils._validation import check_int

__all__ = ["plot_learning_curves"]

CURVE_METRICS = ("worst_group_standard_accuracy", "worst_group_robust_accuracy")
_TITLES = {
    "worst_group_standard_accuracy": "Worst-group standard accuracy",
    "worst_group_robust_accuracy": "Worst-group robust accuracy",
    "worst_group_standard_balanced_accuracy": "Worst-group balanced standard accuracy",
    "worst_group_robust_balanced_accuracy": "Worst-group balanced robust accuracy",
}


def _curve_table(df, metric):
    """Mean and std over seeds of ``metric`` per (strategy, round), with mean labels."""
    grouped = df.groupby(["strategy", "round"], sort=False)
    out = grouped.agg(
        n_labels=("n_labels", "mean"), mean=(metric, "mean"), std=(metric, "std")
    ).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def _n_classes(df, dataset, n_classes):
    """The number of classes of ``dataset``: argument, ``n_classes`` column, registry."""
    if isinstance(n_classes, Mapping):
        n_classes = n_classes.get(dataset)
    if n_classes is not None:
        return check_int(n_classes, "n_classes", min_value=2)
    if "n_classes" in df.columns and df["n_classes"].notna().any():
        return int(df["n_classes"].max())
    from .._catalog import DATASETS, load_dataset

    if isinstance(dataset, str) and dataset in DATASETS:
        return _registry_classes(dataset, load_dataset)
    return None


_CLASS_COUNTS = {}


def _registry_classes(dataset, load):
    if dataset not in _CLASS_COUNTS:
        _CLASS_COUNTS[dataset] = len(np.unique(load(dataset)[1]))
    return _CLASS_COUNTS[dataset]


def _has(df, column):
    return column in df.columns and df[column].notna().any()


def _draw(ax, df, metric, *, title=None, n_classes=None):
    if metric not in df.columns:
        raise ValueError(f"metric={metric!r} is not a column of the results table.")
    table = _curve_table(df, metric)
    for strategy in dict.fromkeys(df["strategy"]):
        part = table[table["strategy"] == strategy].sort_values("round")
        x, y, sd = (
            part["n_labels"].to_numpy(),
            part["mean"].to_numpy(),
            part["std"].to_numpy(),
        )
        (line,) = ax.plot(x, y, marker="o", markersize=3, label=str(strategy))
        ax.fill_between(
            x, y - sd, y + sd, color=line.get_color(), alpha=0.15, linewidth=0
        )
    if "balanced" in metric:
        # A constant (or per-group majority) prediction has recall 1 on one
        # class and 0 on the others: balanced accuracy 1/k, not the plain
        # majority-class level.
        if n_classes is not None:
            ax.axhline(
                1.0 / n_classes,
                color="0.4",
                linestyle=":",
                linewidth=1,
                label=f"trivial balanced level (1/{n_classes})",
            )
    elif (
        "majority_class_level" in df.columns
        and df["majority_class_level"].notna().any()
    ):
        level = float(df["majority_class_level"].mean())
        ax.axhline(
            level,
            color="0.4",
            linestyle="--",
            linewidth=1,
            label="majority-class level",
        )
    if "balanced" not in metric and _has(df, "floor_worst_group_accuracy"):
        # the best constant prediction: the labelled set's majority class for
        # every sample (its robust accuracy is its clean accuracy)
        floor = (
            df.groupby("round")
            .agg(x=("n_labels", "mean"), y=("floor_worst_group_accuracy", "mean"))
            .sort_index()
        )
        ax.plot(
            floor["x"].to_numpy(),
            floor["y"].to_numpy(),
            color="black",
            linestyle="-.",
            linewidth=1.2,
            label="majority floor (labelled set's class for all)",
        )
    ax.set_xlabel("labels used")
    ax.set_ylabel("accuracy")
    ax.set_title(title or _TITLES.get(metric, metric), fontsize=10)
    ax.grid(True, alpha=0.3)
    return ax


def plot_learning_curves(
    df, path_or_ax, *, dataset=None, metrics=CURVE_METRICS, n_classes=None
):
    """Worst-group accuracy against labels used: mean over seeds with a +-std band.

    One line per strategy, and the trivial rules as reference lines: on plain
    accuracy panels the majority floor where the table has it (the
    worst-group accuracy of predicting the labelled set's majority class for
    every sample, round by round: ``floor_worst_group_accuracy``, dash-dot;
    a model at or below it does no better than a constant) and the
    majority-class level (predicting each group's own majority class of the
    test labels, an oracle, dashed); on balanced
    accuracy panels the balanced trivial level ``1/k`` for ``k`` classes
    (dotted), since a constant prediction has balanced accuracy ``1/k``
    whatever the class frequencies (0.5 on Adult, where the plain majority
    level is 0.69).

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`~skfral.experiment.run_fral` (or
        :func:`~skfral.experiment.load_results`).
    path_or_ax : str, path, matplotlib Axes or sequence of Axes
        A file name: a PNG (Agg, no display needed) with one row per data set
        and one panel per metric. Axes: one per metric, for a single data set.
    dataset : str or None, default=None
        Restrict to this data set (required with Axes when the table holds
        several).
    metrics : sequence of str, default=CURVE_METRICS
        Columns to plot, one panel each (default: worst-group standard and
        robust accuracy).
    n_classes : int, dict or None, default=None
        The number of classes ``k`` for the balanced trivial level ``1/k``
        (an int, or a dict per data set). ``None``: the table's
        ``n_classes`` column when it has one, else the class count of a
        bundled data set (:data:`~skfral.experiment.DATASETS`, loaded once);
        for other data sets no balanced reference line is drawn.

    Returns
    -------
    path or axes
        The path written, or the axes drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from skfral.experiment import plot_learning_curves
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["a", "a"], "seed": 0,
    ...                    "round": [0, 1], "n_labels": [10, 20],
    ...                    "worst_group_robust_accuracy": [0.5, 0.6],
    ...                    "majority_class_level": 0.55})
    >>> ax = Figure().subplots()
    >>> plot_learning_curves(df, ax, metrics=["worst_group_robust_accuracy"])
    [<Axes: ...>]
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics is empty: expected at least one column to plot.")
    if dataset is not None:
        if dataset not in set(df["dataset"]):
            raise ValueError(
                f"dataset={dataset!r} is not in the table: expected one of "
                f"{sorted(map(str, set(df['dataset'])))}."
            )
        df = df[df["dataset"] == dataset]
    if len(df) == 0:
        raise ValueError("the results table is empty: nothing to plot.")
    datasets = list(dict.fromkeys(df["dataset"]))
    balanced = any("balanced" in m for m in metrics)

    if isinstance(path_or_ax, str | Path):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(
            figsize=(5.2 * len(metrics), 3.8 * len(datasets)), layout="constrained"
        )
        FigureCanvasAgg(fig)
        axes = np.atleast_2d(fig.subplots(len(datasets), len(metrics), squeeze=False))
        for i, name in enumerate(datasets):
            part = df[df["dataset"] == name]
            k = _n_classes(part, name, n_classes) if balanced else None
            for j, metric in enumerate(metrics):
                title = _TITLES.get(metric, metric)
                _draw(axes[i, j], part, metric, title=f"{name}: {title}", n_classes=k)
        handles, labels = {}, []
        for ax in axes.ravel():  # every reference line, once
            for handle, label in zip(*ax.get_legend_handles_labels()):
                if label not in handles:
                    handles[label] = handle
                    labels.append(label)
        handles = [handles[label] for label in labels]
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=min(6, len(labels)),
            fontsize=8,
            frameon=False,
        )
        path = Path(path_or_ax)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        return path

    axes = [path_or_ax] if hasattr(path_or_ax, "plot") else list(path_or_ax)
    if len(axes) != len(metrics):
        raise ValueError(
            f"got {len(axes)} Axes for {len(metrics)} metrics {metrics}: pass one "
            "Axes per "
            "metric, or a file name."
        )
    if len(datasets) > 1:
        raise ValueError(
            f"the table holds several data sets {datasets}: pass dataset=... to plot "
            "one "
            "on these Axes, or a file name."
        )
    k = _n_classes(df, datasets[0], n_classes) if balanced else None
    for ax, metric in zip(axes, metrics):
        _draw(ax, df, metric, n_classes=k)
    axes[-1].legend(fontsize=8, loc="best")
    return axes
