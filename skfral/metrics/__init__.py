"""Minimax fairness on clean and adversarial inputs (fairlearn-based).

One trusted way to measure FRAL's goal: per-group accuracy on benign inputs
and under a white-box attack, from fairlearn ``MetricFrame`` s.

- :func:`robust_metric_frame`: fairlearn MetricFrames, clean and adversarial.
- :func:`fairness_report`: the summary (a float :class:`FairnessReport`:
  worst-group, balanced, per-class recall, gaps, majority-class reference level,
  optional bootstrap confidence intervals; ``attack=None`` gives the clean half).
- :func:`robustness_curve` / :func:`plot_robustness_curve`: per-group accuracy
  over attack radii, worst group marked.
- :func:`worst_group` / :func:`group_scores`: groups ranked worst first, for
  query strategies (criteria: :data:`GROUP_CRITERIA`).
- :func:`majority_class_levels`: accuracy of predicting each group's majority class.
- :func:`make_worst_group_scorer` and the ready scorers, for GridSearchCV with
  metadata routing.
- :func:`plot_group_accuracy`: grouped bars, clean beside adversarial.
- The names other modules read: :data:`METRIC_NAMES`,
  :data:`WORST_GROUP_METRICS`, :data:`GROUP_NAME_KEYS`, :data:`GROUP_CRITERIA`.

Estimators are fitted skfral nets or Pipelines ending in one; the attack always
works in the net's input space (after the pipeline's transforms), batch by
batch, so memory does not grow with the number of samples.
"""

from ._checks import check_batch_size  # noqa: F401 (for skfral.query, not in __all__)
from ._curve import robustness_curve
from ._frames import RobustMetricFrame, robust_metric_frame, worst_group
from ._groups import group_scores, majority_class_levels
from ._names import (
    GROUP_CRITERIA,
    GROUP_NAME_KEYS,
    METRIC_NAMES,
    WORST_GROUP_METRICS,
)
from ._plot import plot_group_accuracy, plot_robustness_curve
from ._report import FairnessReport, fairness_report
from ._scorers import (
    WorstGroupScorer,
    make_worst_group_scorer,
    worst_group_robust_accuracy_scorer,
    worst_group_standard_accuracy_scorer,
)
from ._stream import predict_clean_and_adv  # noqa: F401 (for skfral.query, not in __all__)

__all__ = [
    "GROUP_CRITERIA",
    "GROUP_NAME_KEYS",
    "METRIC_NAMES",
    "WORST_GROUP_METRICS",
    "FairnessReport",
    "RobustMetricFrame",
    "WorstGroupScorer",
    "fairness_report",
    "group_scores",
    "majority_class_levels",
    "make_worst_group_scorer",
    "plot_group_accuracy",
    "plot_robustness_curve",
    "robust_metric_frame",
    "robustness_curve",
    "worst_group",
    "worst_group_robust_accuracy_scorer",
    "worst_group_standard_accuracy_scorer",
]
