"""The columns of :func:`~skfral.experiment.run_fral`'s table and one row's making."""

import numpy as np

__all__ = [
    "ID_COLUMNS",
    "METRIC_COLUMNS",
    "RESULT_COLUMNS",
    "TIMING_COLUMNS",
    "VALIDATION_COLUMNS",
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
METRIC_COLUMNS = (
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
    "standard_accuracy_gap",
    "robust_accuracy_gap",
    "standard_accuracy",
    "robust_accuracy",
    "standard_balanced_accuracy",
    "robust_balanced_accuracy",
    "worst_group_class_standard_recall",
    "worst_group_class_robust_recall",
    "majority_class_level",
    "worst_group_standard",
    "worst_group_robust",
    "n_test",
    "n_groups",
)
"""Test-set columns, read from :func:`skfral.metrics.fairness_report`."""
VALIDATION_COLUMNS = (
    "val_worst_group_standard_accuracy",
    "val_worst_group_robust_accuracy",
    "val_worst_group_standard_balanced_accuracy",
    "val_worst_group_robust_balanced_accuracy",
)
"""The same worst-group metrics on the validation set: what defaults and
variants are chosen from (never the test set)."""
TIMING_COLUMNS = ("query_seconds", "train_seconds", "eval_seconds")
"""Wall-clock columns: the only ones that differ between identical runs."""
RESULT_COLUMNS = ID_COLUMNS + METRIC_COLUMNS + VALIDATION_COLUMNS + TIMING_COLUMNS
"""Columns of the table returned by :func:`~skfral.experiment.run_fral`, in order."""

_GROUP_NAMES = ("worst_group_standard", "worst_group_robust")


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
        groups' names as strings.
    """
    row = {}
    for key in METRIC_COLUMNS:
        src = "n_samples" if key == "n_test" else key
        value = report.get(src, np.nan)
        row[key] = str(value) if key in _GROUP_NAMES else value
    for key in VALIDATION_COLUMNS:
        row[key] = val_report.get(key[len("val_") :], np.nan)
    return row
