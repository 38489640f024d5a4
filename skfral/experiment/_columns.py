"""The columns of :func:`~skfral.experiment.run_fral`'s table and one row's making."""

import numpy as np

from ..metrics import (
    FLOOR_NAMES,
    GROUP_NAME_KEYS,
    METRIC_NAMES,
    WORST_GROUP_METRICS,
    majority_floor,
)

__all__ = [
    "FLOOR_COLUMNS",
    "ID_COLUMNS",
    "METRIC_COLUMNS",
    "RESULT_COLUMNS",
    "TIMING_COLUMNS",
    "VALIDATION_COLUMNS",
    "WORST_GROUP_COUNT_COLUMNS",
    "floor_row",
    "report_row",
]

ID_COLUMNS = (
    "dataset",
    "strategy",
    "base_strategy",
    "seed",
    "round",
    "n_labels",
    "n_queried",
    "n_pool",
)
"""What identifies a row: the cell, the round and the label counts."""
WORST_GROUP_COUNT_COLUMNS = ("worst_group_standard_n_test", "worst_group_robust_n_test")
"""Test rows of the worst groups named in ``worst_group_standard`` and
``worst_group_robust``: a worst group with few test rows is mostly noise."""
METRIC_COLUMNS = (
    METRIC_NAMES + GROUP_NAME_KEYS + WORST_GROUP_COUNT_COLUMNS + ("n_test", "n_groups")
)
"""Test-set columns: :data:`skfral.metrics.METRIC_NAMES` as
:func:`skfral.metrics.fairness_report` writes them, the worst groups' names
and test counts, and the test set's sample and group counts."""
FLOOR_COLUMNS = FLOOR_NAMES
"""The majority floor of the round (:func:`skfral.metrics.majority_floor`): the
test accuracy, worst-group accuracy and balanced accuracy of predicting the
labelled set's majority class for every sample (NaN where not recorded)."""
VALIDATION_COLUMNS = tuple(f"val_{name}" for name in WORST_GROUP_METRICS)
"""The same worst-group metrics on the validation set: what defaults and
variants are chosen from (never the test set)."""
TIMING_COLUMNS = ("query_seconds", "train_seconds", "eval_seconds")
"""Wall-clock columns: the only ones that differ between identical runs."""
RESULT_COLUMNS = (
    ID_COLUMNS + METRIC_COLUMNS + FLOOR_COLUMNS + VALIDATION_COLUMNS + TIMING_COLUMNS
)
"""Columns of the table returned by :func:`~skfral.experiment.run_fral`, in order."""

_COUNTS = {"n_test": "n_samples", "n_groups": "n_groups"}


def _worst_group_counts(report):
    """``{worst_group_*_n_test: test rows of that worst group}`` (NaN if unknown)."""
    counts = getattr(report, "by_group", None)
    counts = None if counts is None or "count" not in counts else counts["count"]
    out = {}
    for name_key, key in zip(GROUP_NAME_KEYS, WORST_GROUP_COUNT_COLUMNS):
        group = report.get(name_key)
        value = np.nan
        if counts is not None and group is not None and group in counts.index:
            value = int(counts[group])
        out[key] = value
    return out


def report_row(report, val_report):
    """The metric columns of one round from its test and validation reports.

    Parameters
    ----------
    report, val_report : mapping
        :func:`skfral.metrics.fairness_report` on the test and validation sets.

    Returns
    -------
    row : dict
        :data:`METRIC_COLUMNS` then :data:`VALIDATION_COLUMNS`; the worst
        groups' names as strings and their test rows as ints.
    """
    row = {}
    worst_counts = _worst_group_counts(report)
    for key in METRIC_COLUMNS:
        if key in worst_counts:
            row[key] = worst_counts[key]
            continue
        value = report.get(_COUNTS.get(key, key), np.nan)
        if key in GROUP_NAME_KEYS:
            value = str(value)
        elif key in _COUNTS and value == value:  # counts as ints (not NaN)
            value = int(value)
        row[key] = value
    for key in VALIDATION_COLUMNS:
        row[key] = val_report.get(key[len("val_") :], np.nan)
    return row


def floor_row(y_labelled, y_test, sensitive_features):
    """:data:`FLOOR_COLUMNS` of one round (see :func:`skfral.metrics.majority_floor`)."""
    return majority_floor(y_labelled, y_test, sensitive_features)
