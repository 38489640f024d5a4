"""The names every other module reads: group criteria, report keys, table columns.

One home for each list (issue 18): the query strategies import
:data:`GROUP_CRITERIA`, the experiment runner and its summaries build their
columns from :data:`METRIC_NAMES`, :data:`WORST_GROUP_METRICS` and
:data:`GROUP_NAME_KEYS`, and :func:`~skfral.metrics.fairness_report` writes
exactly these keys.
"""

__all__ = [
    "COUNT_KEYS",
    "GROUP_COLUMNS",
    "GROUP_CRITERIA",
    "GROUP_NAME_KEYS",
    "METRIC_NAMES",
    "STANDARD_ONLY_CRITERIA",
    "WORST_GROUP_METRICS",
]

GROUP_CRITERIA = (
    "standard",
    "robust",
    "mean",
    "balanced_standard",
    "balanced_robust",
    "balanced_mean",
)
"""How a group is ranked by :func:`~skfral.metrics.worst_group` (its ``score``):
accuracy on clean inputs, under attack, or their mean; ``balanced_*`` use
balanced accuracy inside each group."""

STANDARD_ONLY_CRITERIA = ("standard", "balanced_standard")
"""The criteria that need no attack (clean predictions only)."""

WORST_GROUP_METRICS = (
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
)
"""FRAL's four headline numbers (minimax fairness, clean and under attack, plain
and balanced): what learning curves and summaries are made of."""

METRIC_NAMES = WORST_GROUP_METRICS + (
    "standard_accuracy_gap",
    "robust_accuracy_gap",
    "standard_accuracy",
    "robust_accuracy",
    "standard_balanced_accuracy",
    "robust_balanced_accuracy",
    "worst_group_class_standard_recall",
    "worst_group_class_robust_recall",
    "majority_class_level",
)
"""Every accuracy-like number of :func:`~skfral.metrics.fairness_report` (floats
in [0, 1]; NaN for the robust ones when no attack was run), worst-group metrics
first."""

GROUP_NAME_KEYS = ("worst_group_standard", "worst_group_robust")
"""Keys of the worst groups' names: ``report[key]`` and ``report.worst_groups``
of a :class:`~skfral.metrics.FairnessReport` (names are not numbers, so they are
not values of the float Series)."""

COUNT_KEYS = ("n_samples", "n_groups")
"""Sample and group counts of a report (stored as floats in the Series)."""

GROUP_COLUMNS = (
    "standard",
    "robust",
    "standard_balanced",
    "robust_balanced",
    "count",
    "score",
)
"""Columns of :func:`~skfral.metrics.group_scores` and
:func:`~skfral.metrics.worst_group`, in order."""
