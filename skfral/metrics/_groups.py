"""Group tables from given labels and predictions: per-group accuracies, criteria.

Everything here works on labels only (no model, no attack): fairlearn
``MetricFrame`` s over the groups, flat labels for intersections, the
worst-group ranking of :func:`group_scores` and the majority-class levels.
"""

import warnings

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score

from ..utils._validation import check_option, check_same_length
from ._checks import check_groups, check_labels
from ._names import GROUP_COLUMNS, GROUP_CRITERIA, STANDARD_ONLY_CRITERIA

__all__ = [
    "balanced_accuracy",
    "class_recall",
    "fast_accuracy",
    "flat_labels",
    "group_counts",
    "group_scores",
    "group_table",
    "label_frame",
    "majority_class_levels",
    "majority_share",
    "observed",
    "observed_groups",
]


def balanced_accuracy(y_true, y_pred):
    """:func:`sklearn.metrics.balanced_accuracy_score`, quiet on one-class groups.

    Inside a group holding a single class, balanced accuracy is that class's
    recall; scikit-learn then warns that ``y_pred`` has classes not in ``y_true``
    (or that a single label was found), which is expected here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="y_pred contains classes not in y_true"
        )
        warnings.filterwarnings("ignore", message="A single label was found")
        return balanced_accuracy_score(y_true, y_pred)


def fast_accuracy(y_true, y_pred):
    """Share of equal labels: :func:`sklearn.metrics.accuracy_score` for 1-d labels,
    without its input checks (the bootstrap calls it once per group and resample).
    """
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def class_recall(y_true, y_pred, *, label):
    """Recall of class ``label`` (NaN when no sample of the group has that class)."""
    y_true = np.asarray(y_true)
    if not np.any(y_true == label):
        return np.nan
    return float(recall_score(y_true, y_pred, labels=[label], average=None)[0])


def majority_share(y_true, y_pred=None):
    """Accuracy of always predicting the most frequent class of ``y_true``."""
    _, counts = np.unique(np.asarray(y_true), return_counts=True)
    return float(counts.max() / counts.sum())


# ---------------------------------------------------------------------- groups


def flat_labels(index):
    """Intersectional groups ``(a, b)`` become ``"a,b"``; one column is left as is."""
    if isinstance(index, pd.MultiIndex):
        flat = pd.Index([",".join(str(v) for v in key) for key in index], dtype=object)
        flat.name = ",".join(str(n) for n in index.names)
        return flat
    return index


def observed(table, groups):
    """fairlearn's ``by_group`` with flat labels, only the ``groups`` with samples."""
    table = table.copy()
    table.index = flat_labels(table.index)
    return table.loc[table.index.isin(groups)]


def label_frame(y, sf):
    """Per-group count and majority-class level (a fairlearn MetricFrame over ``y``)."""
    return MetricFrame(
        metrics={"count": count, "majority_class_level": majority_share},
        y_true=y,
        y_pred=y,
        sensitive_features=sf,
    )


def group_counts(y, sf):
    """Samples per group, for the groups that have samples (flat labels)."""
    counts = label_frame(y, sf).by_group["count"].copy()
    counts.index = flat_labels(counts.index)
    counts = counts[counts.notna() & (counts > 0)]
    return counts.astype(int).rename("count")


def observed_groups(frame):
    """Flat labels of the groups of a :func:`label_frame` that have samples."""
    counts = frame.by_group["count"]
    counts = counts[counts.notna() & (counts > 0)]
    return flat_labels(counts.index)


def majority_class_levels(y, sensitive_features):
    """Accuracy of the trivial rule "predict each group's majority class", per group.

    A reference line: worst-group accuracy near ``levels.min()`` says nothing
    good about a model, since predicting each group's majority class reaches it.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True labels.
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Groups (several columns: intersections named ``"a,b"``).

    Returns
    -------
    levels : pandas.Series
        Share of each group's most frequent class, indexed by group; the
        majority-class level of the report is ``levels.min()``.

    See Also
    --------
    fairness_report : Reports ``levels.min()`` as ``majority_class_level``.

    Examples
    --------
    >>> from skfral.metrics import majority_class_levels
    >>> majority_class_levels([0, 0, 1, 1, 1, 0], ["a", "a", "a", "b", "b", "b"])
    sensitive_feature_0
    a    0.666667
    b    0.666667
    Name: majority_class_level, dtype: float64
    """
    n_samples = check_same_length(y=y, sensitive_features=sensitive_features)
    y = check_labels(y, n_samples)
    sf = check_groups(sensitive_features, n_samples)
    frame = label_frame(y, sf)
    levels = observed(frame.by_group, observed_groups(frame))["majority_class_level"]
    return levels.astype(float)


def _score_column(table, criterion):
    if criterion == "mean":
        return (table["standard"] + table["robust"]) / 2
    if criterion == "balanced_mean":
        return (table["standard_balanced"] + table["robust_balanced"]) / 2
    return table[
        {
            "standard": "standard",
            "robust": "robust",
            "balanced_standard": "standard_balanced",
            "balanced_robust": "robust_balanced",
        }[criterion]
    ]


def group_scores(
    y_true, y_pred_clean, y_pred_adv, sensitive_features, criterion="mean"
):
    """Per-group accuracies from given predictions, worst group first.

    The lower-level half of :func:`worst_group`, for callers that already have
    the predictions (a query strategy need not predict twice).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred_clean : array-like of shape (n_samples,)
        Predictions on clean inputs.
    y_pred_adv : array-like of shape (n_samples,) or None
        Predictions on adversarial inputs; ``None`` is allowed when
        ``criterion`` is ``"standard"`` or ``"balanced_standard"`` (the robust
        columns are then NaN).
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Groups (several columns: intersections named ``"a,b"``).
    criterion : {"standard", "robust", "mean", "balanced_standard", \
"balanced_robust", "balanced_mean"}, default="mean"
        What ``score`` is: an accuracy, or ``"mean"`` = (standard + robust) / 2;
        the ``balanced_*`` versions use balanced accuracy.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by group, columns ``standard``, ``robust``,
        ``standard_balanced``, ``robust_balanced`` (accuracies from fairlearn
        ``MetricFrame``), ``count`` and ``score``; sorted by ``score``
        ascending, ties in group-label order.

    See Also
    --------
    worst_group : The same table from a model (predicts and attacks).

    Examples
    --------
    >>> from skfral.metrics import group_scores
    >>> y = [0, 1, 1, 0, 1, 1]
    >>> clean = [0, 1, 0, 0, 1, 1]
    >>> adv = [1, 1, 0, 0, 0, 1]
    >>> table = group_scores(y, clean, adv, ["a", "a", "a", "b", "b", "b"])
    >>> print(table[["standard", "robust", "count", "score"]].round(3).to_string())
                         standard  robust  count  score
    sensitive_feature_0
    a                       0.667   0.333      3  0.500
    b                       1.000   0.667      3  0.833
    >>> table["standard_balanced"].tolist(), table["robust_balanced"].tolist()
    ([0.75, 1.0], [0.25, 0.75])
    """
    check_option(criterion, "criterion", GROUP_CRITERIA)
    n_samples = check_same_length(
        y_true=y_true,
        y_pred_clean=y_pred_clean,
        y_pred_adv=y_pred_adv,
        sensitive_features=sensitive_features,
    )
    if y_pred_adv is None and criterion not in STANDARD_ONLY_CRITERIA:
        raise ValueError(
            f"y_pred_adv=None but criterion={criterion!r} needs robust accuracy: pass "
            "the predictions on adversarial inputs, or use criterion='standard' or "
            "'balanced_standard'."
        )
    y_true = check_labels(y_true, n_samples, "y_true")
    y_clean = check_labels(y_pred_clean, n_samples, "y_pred_clean")
    y_adv = (
        None
        if y_pred_adv is None
        else check_labels(y_pred_adv, n_samples, "y_pred_adv")
    )
    sf = check_groups(sensitive_features, n_samples)
    return group_table(y_true, y_clean, y_adv, sf, criterion)


def group_table(y_true, y_clean, y_adv, sf, criterion):
    metrics = {
        "accuracy": accuracy_score,
        "balanced_accuracy": balanced_accuracy,
        "count": count,
    }
    clean = MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_clean, sensitive_features=sf
    )
    by_group = clean.by_group
    table = pd.DataFrame(
        {
            "standard": by_group["accuracy"],
            "robust": np.nan,
            "standard_balanced": by_group["balanced_accuracy"],
            "robust_balanced": np.nan,
            "count": by_group["count"],
        },
        index=by_group.index,
    )
    if y_adv is not None:
        adv = MetricFrame(
            metrics=metrics, y_true=y_true, y_pred=y_adv, sensitive_features=sf
        ).by_group
        table["robust"] = adv["accuracy"]
        table["robust_balanced"] = adv["balanced_accuracy"]
    table = table[table["count"].notna() & (table["count"] > 0)]
    table.index = flat_labels(table.index)
    table = table.astype({c: float for c in GROUP_COLUMNS[:4]})
    table["count"] = table["count"].astype(int)
    table["score"] = _score_column(table, criterion).astype(float)
    return table.sort_values("score", kind="stable")[list(GROUP_COLUMNS)]
