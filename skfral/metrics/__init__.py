"""Minimax fairness on clean and adversarial inputs (fairlearn-based).

One trusted way to measure FRAL's goal: per-group accuracy on benign inputs
and under a white-box attack, from fairlearn ``MetricFrame`` s.

- :func:`robust_metric_frame`: fairlearn MetricFrames, clean and adversarial.
- :func:`fairness_report`: the summary Series (worst-group, balanced, per-class
  recall, gaps, majority-class reference level).
- :func:`worst_group` / :func:`group_scores`: groups ranked worst first, for
  query strategies.
- :func:`majority_class_levels`: accuracy of predicting each group's majority class.
- :func:`make_worst_group_scorer` and the ready scorers, for GridSearchCV with
  metadata routing.
- :func:`plot_group_accuracy`: grouped bars, clean beside adversarial.

Estimators are fitted skfral nets or Pipelines ending in one; the attack always
works in the net's input space (after the pipeline's transforms).
"""

from ._plot import plot_group_accuracy
from ._report import (
    GROUP_CRITERIA,
    RobustMetricFrame,
    fairness_report,
    group_scores,
    majority_class_levels,
    robust_metric_frame,
    worst_group,
)
from ._scorers import (
    WorstGroupScorer,
    make_worst_group_scorer,
    worst_group_robust_accuracy_scorer,
    worst_group_standard_accuracy_scorer,
)

__all__ = [
    "GROUP_CRITERIA",
    "RobustMetricFrame",
    "WorstGroupScorer",
    "fairness_report",
    "group_scores",
    "majority_class_levels",
    "make_worst_group_scorer",
    "plot_group_accuracy",
    "robust_metric_frame",
    "worst_group",
    "worst_group_robust_accuracy_scorer",
    "worst_group_standard_accuracy_scorer",
]
