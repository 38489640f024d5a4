"""The majority floor beside the strategies: table columns, a line, a warning."""

import warnings

import numpy as np
import pandas as pd

from ...metrics import FLOOR_NAMES
from ._seeds import _KEYS, complete_rounds, per_seed

__all__ = ["TrivialModelWarning", "trivial_strategies", "warn_if_trivial"]

FLOOR_METRIC = "worst_group_robust_accuracy"
"""The metric compared with ``floor_worst_group_accuracy``."""


class TrivialModelWarning(UserWarning):
    """A strategy's model does no better than the majority floor.

    Raised (as a warning) by :func:`~skfral.experiment.run_fral` and the
    ``skfral`` command line when a strategy's final worst-group robust
    accuracy (mean over seeds) is not above ``floor_worst_group_accuracy``:
    predicting the labelled set's majority class for every test sample
    (:func:`skfral.metrics.majority_floor`) does as well in the worst group.
    """


def floor_values(df):
    """Final-round floor and metric per (dataset, strategy): means over seeds."""
    present = [f for f in FLOOR_NAMES if f in df.columns]
    if not present or df[present].isna().all().all():
        return None
    metrics = present + ([FLOOR_METRIC] if FLOOR_METRIC in df.columns else [])
    seeds = per_seed(df, metrics)
    columns = [f"{m}_final" for m in metrics]
    out = seeds.groupby(_KEYS, sort=False)[columns].mean().reset_index()
    return out.rename(columns={f"{m}_final": m for m in metrics})


def trivial_strategies(df):
    """The (dataset, strategy) whose final worst-group robust accuracy is not
    above the majority floor (means over seeds of complete cells).

    Parameters
    ----------
    df : pandas.DataFrame
        The results table of :func:`~skfral.experiment.run_fral`.

    Returns
    -------
    trivial : pandas.DataFrame
        ``dataset, strategy, worst_group_robust_accuracy,
        floor_worst_group_accuracy``: one row per offender (empty when none,
        or when the table has no floor columns or no robust metric).
    """
    columns = _KEYS + [FLOOR_METRIC, "floor_worst_group_accuracy"]
    needed = {"dataset", "strategy", "seed", "round", FLOOR_METRIC}
    if not needed <= set(df.columns) or len(df) == 0:
        return pd.DataFrame(columns=columns)
    full, _ = complete_rounds(df)
    values = floor_values(full) if len(full) else None
    if values is None or "floor_worst_group_accuracy" not in values:
        return pd.DataFrame(columns=columns)
    metric = values[FLOOR_METRIC].to_numpy(dtype=float)
    floor = values["floor_worst_group_accuracy"].to_numpy(dtype=float)
    bad = np.isfinite(metric) & np.isfinite(floor) & (metric <= floor + 1e-12)
    return values.loc[bad, columns].reset_index(drop=True)


def trivial_message(trivial):
    """One sentence per data set naming the strategies at or below the floor."""
    lines = []
    for dataset, part in trivial.groupby("dataset", sort=False):
        names = ", ".join(
            f"{r.strategy} ({r.worst_group_robust_accuracy:.3f})"
            for r in part.itertuples(index=False)
        )
        floor = part["floor_worst_group_accuracy"].max()
        lines.append(
            f"{dataset}: final worst_group_robust_accuracy of {names} is not above "
            f"the majority floor floor_worst_group_accuracy = {floor:.3f} "
            "(predicting the labelled set's majority class for every test sample): "
            "these models do no better than a constant."
        )
    return " ".join(lines)


def warn_if_trivial(df, stacklevel=3):
    """Warn (:class:`TrivialModelWarning`) about strategies at or below the floor."""
    trivial = trivial_strategies(df)
    if len(trivial):
        warnings.warn(
            trivial_message(trivial), TrivialModelWarning, stacklevel=stacklevel
        )
    return trivial
