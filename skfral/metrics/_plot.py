"""Plots: per-group accuracy bars (clean beside adversarial), robustness curves."""

import numpy as np
import pandas as pd

from ._curve import CURVE_COLUMNS
from ._frames import RobustMetricFrame
from ._report import FairnessReport

__all__ = ["plot_group_accuracy", "plot_robustness_curve"]


def _as_table(report_or_frame, metric):
    """``(table, majority)``: columns ``clean``, ``adversarial``; majority or None."""
    obj = report_or_frame
    if isinstance(obj, RobustMetricFrame):
        return obj.by_group(metric), None
    if isinstance(obj, FairnessReport) and obj.attrs.get("by_group"):
        obj = obj.by_group
    elif isinstance(obj, pd.Series):
        by_group = obj.attrs.get("by_group")
        if not by_group:
            raise ValueError(
                "report_or_frame is a Series without attrs['by_group']: expected the "
                "Series returned by fairness_report (pandas drops attrs on some "
                "operations, e.g. concatenating reports that differ), a DataFrame "
                "from worst_group, or a RobustMetricFrame."
            )
        obj = pd.DataFrame.from_dict(by_group, orient="index")
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in ("standard", "robust") if c not in obj.columns]
        if missing:
            raise ValueError(
                f"report_or_frame has columns {list(obj.columns)}: expected 'standard' "
                "and 'robust' (a DataFrame from worst_group or group_scores)."
            )
        if metric not in (None, "accuracy"):
            prefix = {"balanced_accuracy": "_balanced"}.get(metric)
            if prefix is None:
                raise ValueError(
                    f"metric={metric!r} is not available for this table: expected "
                    "None, 'accuracy' or 'balanced_accuracy'."
                )
            cols = ("standard" + prefix, "robust" + prefix)
        else:
            cols = ("standard", "robust")
        table = pd.DataFrame(
            {"clean": obj[cols[0]], "adversarial": obj[cols[1]]}, index=obj.index
        )
        majority = (
            obj["majority_class_level"] if "majority_class_level" in obj else None
        )
        return table, majority
    raise TypeError(
        f"report_or_frame of type {type(report_or_frame).__name__} is not supported: "
        "expected a RobustMetricFrame, a DataFrame from worst_group / group_scores, "
        "or a Series from fairness_report."
    )


def plot_group_accuracy(report_or_frame, ax=None, *, metric=None):
    """Grouped bars of accuracy per group: clean beside adversarial.

    Parameters
    ----------
    report_or_frame : RobustMetricFrame, pandas.DataFrame or pandas.Series
        - a :class:`RobustMetricFrame` (:func:`robust_metric_frame`): one
          metric of ``.clean`` and ``.adversarial`` per group;
        - a DataFrame from :func:`worst_group` / :func:`group_scores` (columns
          ``standard``, ``robust``), groups kept in its order (worst first);
          all-NaN robust accuracy (standard criterion, no attack) draws the
          clean bars only;
        - a Series from :func:`fairness_report`: its per-group table
          ``report.attrs["by_group"]``, plus each group's majority-class level
          as a dashed reference mark. A Series without that attribute (pandas
          drops ``attrs`` in some operations) raises a ValueError.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` creates a figure with
        ``matplotlib.pyplot.subplots()``.
    metric : str or None, default=None
        For a RobustMetricFrame, the metric's name (default ``"accuracy"``,
        else its first metric); for tables, ``"accuracy"`` (default) or
        ``"balanced_accuracy"``.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    See Also
    --------
    plot_robustness_curve : Per-group accuracy over attack radii.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> from skfral.metrics import group_scores, plot_group_accuracy
    >>> y, groups = [0, 1, 1, 0], ["a", "a", "b", "b"]
    >>> table = group_scores(y, [0, 1, 0, 0], [1, 1, 0, 0], groups)
    >>> ax = Figure().subplots()
    >>> plot_group_accuracy(table, ax=ax) is ax
    True
    """
    table, majority = _as_table(report_or_frame, metric)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    series = ["clean"]
    if not table["adversarial"].isna().all():
        series.append("adversarial")
    labels = [str(g) for g in table.index]
    x = np.arange(len(labels))
    width = 0.8 / len(series)
    names = {"clean": "clean", "adversarial": "adversarial (attacked)"}
    for k, col in enumerate(series):
        offset = (k - (len(series) - 1) / 2) * width
        ax.bar(x + offset, table[col].to_numpy(dtype=float), width, label=names[col])
    if majority is not None:
        ax.hlines(
            majority.to_numpy(dtype=float),
            x - 0.4,
            x + 0.4,
            colors="black",
            linestyles="dashed",
            label="majority-class level",
        )
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45 if len(labels) > 6 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(table.index.name or "group")
    ax.set_ylabel(metric or "accuracy")
    ax.set_title("Accuracy per group")
    ax.legend(loc="lower right")
    return ax


def plot_robustness_curve(curve, ax=None, *, metric="accuracy"):
    """One line per group: accuracy against the attack radius, worst group marked.

    Parameters
    ----------
    curve : pandas.DataFrame
        The table of :func:`robustness_curve` (columns ``eps``, ``group``,
        ``accuracy``, ``balanced_accuracy``, ``is_worst``, ...). Each group's
        line joins its points in increasing ``eps``.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` creates a figure with
        ``matplotlib.pyplot.subplots()``.
    metric : {"accuracy", "balanced_accuracy"}, default="accuracy"
        The column drawn. The worst-group marks follow ``is_worst`` (the
        lowest plain accuracy at each radius).

    Returns
    -------
    ax : matplotlib Axes
        With one line per group and black rings on the worst group's point at
        each radius (legend entry "worst group").

    See Also
    --------
    robustness_curve : Computes the table.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from skfral.metrics import plot_robustness_curve
    >>> curve = pd.DataFrame({
    ...     "eps": [0, 0, 0.1, 0.1], "group": ["a", "b", "a", "b"],
    ...     "accuracy": [0.9, 0.8, 0.7, 0.4],
    ...     "balanced_accuracy": [0.9, 0.8, 0.7, 0.4], "count": [5, 5, 5, 5],
    ...     "is_worst": [False, True, False, True], "worst_group": ["b"] * 4})
    >>> ax = plot_robustness_curve(curve, ax=Figure().subplots())
    >>> len(ax.get_lines())  # two groups and the worst-group marks
    3
    """
    if not isinstance(curve, pd.DataFrame):
        raise TypeError(
            f"curve of type {type(curve).__name__} is not supported: expected the "
            "DataFrame returned by robustness_curve."
        )
    if metric not in ("accuracy", "balanced_accuracy"):
        raise ValueError(
            f"metric={metric!r} is not valid: expected 'accuracy' or "
            "'balanced_accuracy'."
        )
    missing = [c for c in ("eps", "group", metric, "is_worst") if c not in curve]
    if missing:
        raise ValueError(
            f"curve has columns {list(curve.columns)}, missing {missing}: expected "
            f"the table of robustness_curve ({', '.join(CURVE_COLUMNS)})."
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    for group, rows in curve.groupby("group", sort=False):
        rows = rows.sort_values("eps", kind="stable")
        ax.plot(rows["eps"], rows[metric], marker="o", label=str(group))
    worst = curve[curve["is_worst"].astype(bool)].sort_values("eps", kind="stable")
    ax.plot(
        worst["eps"],
        worst[metric],
        linestyle="none",
        marker="o",
        markersize=12,
        markerfacecolor="none",
        markeredgecolor="black",
        markeredgewidth=1.5,
        label="worst group",
    )
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("attack radius eps")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"Robustness per group ({curve.attrs.get('group_name') or 'group'})")
    ax.legend(loc="lower left")
    return ax
