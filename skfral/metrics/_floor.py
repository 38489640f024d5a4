"""The majority floor: what the best constant prediction scores on a test set."""

import numpy as np
import pandas as pd

from ..utils._validation import check_same_length
from ._checks import check_groups, check_labels
from ._groups import balanced_accuracy

__all__ = ["FLOOR_NAMES", "majority_floor"]

FLOOR_NAMES = (
    "floor_accuracy",
    "floor_worst_group_accuracy",
    "floor_balanced_accuracy",
)
"""The keys of :func:`majority_floor` (and columns of run_fral's table)."""


def majority_floor(y_labelled, y_test, sensitive_features):
    """Accuracy of predicting the labelled set's majority class for every sample.

    The best constant prediction a learner could make from its labels: the
    most frequent class of the labelled set (ties: the smallest label),
    predicted for every test sample. A constant cannot be attacked, so its
    robust accuracy equals its clean accuracy: a model whose worst-group
    robust accuracy is not above ``floor_worst_group_accuracy`` does no better
    than ignoring its inputs.

    It differs from ``majority_class_level`` of
    :func:`~skfral.metrics.fairness_report` (see
    :func:`~skfral.metrics.majority_class_levels`): that level predicts *each
    group's own* majority class of the *test* labels (an oracle that knows the
    group and the test distribution), so it is at least as high in every
    group; the floor is one constant, chosen from the labelled set only.

    Parameters
    ----------
    y_labelled : array-like of shape (n_labelled,)
        The labels the model was trained on.
    y_test : array-like of shape (n_test,)
        True labels of the test set.
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Group of every test sample (several columns: intersections).

    Returns
    -------
    floor : dict
        ``floor_accuracy`` (share of test samples of that class),
        ``floor_worst_group_accuracy`` (the lowest such share over the
        groups with test samples) and ``floor_balanced_accuracy`` (balanced
        accuracy of the constant: ``1 / n_classes`` of the test set when the
        class occurs in it, 0 when it does not).

    See Also
    --------
    majority_class_levels : Each group's own majority class (the oracle level).

    Examples
    --------
    >>> from skfral.metrics import majority_floor
    >>> floor = majority_floor([1, 1, 0], [1, 0, 1, 1, 0, 0],
    ...                        ["a", "a", "a", "b", "b", "b"])
    >>> {k: round(v, 3) for k, v in floor.items()}
    {'floor_accuracy': 0.5, 'floor_worst_group_accuracy': 0.333, \
'floor_balanced_accuracy': 0.5}
    """
    y_labelled = check_labels(y_labelled, name="y_labelled")
    n_samples = check_same_length(y_test=y_test, sensitive_features=sensitive_features)
    y_test = check_labels(y_test, n_samples, name="y_test")
    groups = check_groups(sensitive_features, n_samples)
    classes, counts = np.unique(y_labelled, return_counts=True)
    majority = classes[np.argmax(counts)]
    hit = y_test == majority
    if not isinstance(groups, pd.DataFrame):
        groups = pd.DataFrame(np.asarray(groups, dtype=object).reshape(n_samples, -1))
    by_group = pd.Series(hit).groupby([groups[c].to_numpy() for c in groups.columns])
    worst = float(by_group.mean().min())
    constant = np.full(len(y_test), majority, dtype=y_test.dtype)
    return {
        "floor_accuracy": float(hit.mean()),
        "floor_worst_group_accuracy": worst,
        "floor_balanced_accuracy": float(balanced_accuracy(y_test, constant)),
    }
