"""Minimax fairness on clean and adversarial inputs, built on fairlearn's MetricFrame.

Every number here comes from :class:`fairlearn.metrics.MetricFrame` (per-group
values, ``group_min``, ``difference``); this module only chooses the metrics,
makes the adversarial inputs (one attack call per function call) and names the
results.

Groups
------
``sensitive_features`` is one column (array, list, Series) or several (2-d
array, DataFrame). Several columns give intersectional groups, as in fairlearn:
``.clean`` and ``.adversarial`` of :class:`RobustMetricFrame` keep fairlearn's
multi-index, and the flat tables (:func:`group_scores`, :func:`worst_group`,
:func:`fairness_report`, :func:`majority_class_levels`) name an intersection
``"a,b"`` (the values joined with ``","``, as
:func:`skfral.utils.check_sensitive_features` does). Combinations of values that
no sample has are not groups: fairlearn lists them with NaN, the flat tables
leave them out.

A pandas categorical declares its groups: a category without any sample (an
unused level, e.g. left over after slicing a split) raises a ValueError instead
of silently vanishing from the worst-group minimum; drop it explicitly with
``sensitive_features.cat.remove_unused_categories()`` when that is intended.
"""

import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score

from ..nn import split_estimator
from ..utils._validation import (
    check_option,
    check_same_length,
    check_sensitive_features,
    num_samples,
)

__all__ = [
    "GROUP_CRITERIA",
    "RobustMetricFrame",
    "fairness_report",
    "group_scores",
    "majority_class_levels",
    "robust_metric_frame",
    "worst_group",
]

GROUP_CRITERIA = (
    "standard",
    "robust",
    "mean",
    "balanced_standard",
    "balanced_robust",
    "balanced_mean",
)
_STANDARD_ONLY = ("standard", "balanced_standard")
GROUP_COLUMNS = [
    "standard",
    "robust",
    "standard_balanced",
    "robust_balanced",
    "count",
    "score",
]


# --------------------------------------------------------------------------- metrics


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


# --------------------------------------------------------------------------- validation


def _check_attack(attack, *, required=True):
    if attack is None and not required:
        return None
    if not callable(getattr(attack, "perturb", None)):
        raise TypeError(
            f"attack={attack!r} has no perturb(net, X, y) method: expected an attack "
            "object such as skfral.nn.PGD(eps=0.1, n_steps=20)."
        )
    return attack


def _check_labels(y, n_samples=None, name="y"):
    if y is None:
        raise ValueError(f"{name} is required: pass the true label of every sample.")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"{name} has {y.shape[1]} columns: expected 1-d labels.")
        y = y.iloc[:, 0]
    y = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{name} has shape {y.shape}: expected 1-d labels (n_samples,)."
        )
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(
            f"{name} has {len(y)} entries but there are {n_samples} samples: "
            "expected one label per sample."
        )
    if len(y) == 0:
        raise ValueError(f"{name} is empty: expected at least one sample.")
    if pd.isna(y).any():
        raise ValueError(
            f"{name} contains missing values (NaN/None): every sample needs a label."
        )
    return y


def _unused_categories(column):
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return []
    present = set(column.dropna().unique())
    return [c for c in column.cat.categories if c not in present]


def _check_groups(sensitive_features, n_samples, name="sensitive_features"):
    """Validate ``sensitive_features``; return what MetricFrame gets.

    Refuses None, missing values, a wrong length and unused categorical levels.
    Non-string pandas names are turned into strings (fairlearn requires them).
    """
    check_sensitive_features(sensitive_features, n_samples, name)
    sf = sensitive_features
    if isinstance(sf, pd.Series):
        unused = _unused_categories(sf)
        if sf.name is not None and not isinstance(sf.name, str):
            sf = sf.rename(str(sf.name))
    elif isinstance(sf, pd.DataFrame):
        unused = [u for col in sf.columns for u in _unused_categories(sf[col])]
        if not all(isinstance(c, str) for c in sf.columns):
            sf = sf.rename(columns=str)
    elif isinstance(sf, pd.Categorical):
        unused = _unused_categories(pd.Series(sf))
        sf = np.asarray(sf, dtype=object)
    else:
        sf = np.asarray(sf, dtype=object)
        unused = []
        if sf.ndim == 2 and sf.shape[1] == 1:
            sf = sf[:, 0]
    if unused:
        shown = ", ".join(repr(u) for u in unused[:5])
        raise ValueError(
            f"{name} has categorical level(s) {shown} with no sample: every declared "
            "group must be present, or the worst-group minimum would silently skip it. "
            f"Drop unused levels explicitly with {name}.cat.remove_unused_categories()."
        )
    if isinstance(sf, np.ndarray) and len(sf) == 1:
        # fairlearn squeezes arrays: one sample would lose its axis ("too many
        # dimensions"); pandas keeps it, with fairlearn's own column names.
        if sf.ndim == 1:
            sf = pd.Series(sf, name="sensitive_feature_0", dtype=object)
        else:
            columns = [f"sensitive_feature_{i}" for i in range(sf.shape[1])]
            sf = pd.DataFrame(sf, columns=columns, dtype=object)
    return sf


def _flat_labels(index):
    """Intersectional groups ``(a, b)`` become ``"a,b"``; one column is left as is."""
    if isinstance(index, pd.MultiIndex):
        flat = pd.Index([",".join(str(v) for v in key) for key in index], dtype=object)
        flat.name = ",".join(str(n) for n in index.names)
        return flat
    return index


def _observed(table, observed):
    """fairlearn's ``by_group`` with flat labels, empty intersections dropped."""
    table = table.copy()
    table.index = _flat_labels(table.index)
    return table.loc[table.index.isin(observed)]


def _check_metrics(metrics):
    if metrics is None:
        return {"accuracy": accuracy_score}
    if isinstance(metrics, dict):
        if not metrics:
            raise ValueError("metrics={} is empty: expected at least one metric.")
        for key, func in metrics.items():
            if not isinstance(key, str) or not callable(func):
                raise TypeError(
                    f"metrics has entry {key!r}: {func!r}: expected a dict of "
                    "name (str) -> callable(y_true, y_pred)."
                )
        return dict(metrics)
    if callable(metrics):
        return metrics
    raise TypeError(
        f"metrics={metrics!r} is not valid: expected None (accuracy), a callable "
        "metric(y_true, y_pred) or a dict of name -> callable."
    )


def _predict_clean_and_adv(estimator, X, y, attack):
    """Clean and adversarial predictions: ONE attack call, in the net's input space."""
    transform, net = split_estimator(estimator)
    Xt = transform(X)
    y_clean = np.asarray(net.predict(Xt))
    if attack is None:
        return y_clean, None
    X_adv = attack.perturb(net, Xt, y)
    if num_samples(X_adv, "X_adv") != len(y):
        raise ValueError(
            f"attack.perturb returned {num_samples(X_adv, 'X_adv')} samples for "
            f"{len(y)} inputs: expected one adversarial example per sample."
        )
    return y_clean, np.asarray(net.predict(X_adv))


def _label_frame(y, sf):
    """Per-group count and majority-class level (a fairlearn MetricFrame over ``y``)."""
    return MetricFrame(
        metrics={"count": count, "majority_class_level": majority_share},
        y_true=y,
        y_pred=y,
        sensitive_features=sf,
    )


def _observed_groups(label_frame):
    counts = label_frame.by_group["count"]
    counts = counts[counts.notna() & (counts > 0)]
    return _flat_labels(counts.index)


# --------------------------------------------------------------------------- public API


@dataclass(eq=False)
class RobustMetricFrame:
    """fairlearn ``MetricFrame`` s on clean and on adversarial inputs, same groups.

    Returned by :func:`robust_metric_frame`.

    Attributes
    ----------
    clean : fairlearn.metrics.MetricFrame
        Metrics of the predictions on clean inputs.
    adversarial : fairlearn.metrics.MetricFrame
        Metrics of the predictions on the attack's inputs (made with the true
        labels).
    y_pred_clean, y_pred_adv : ndarray of shape (n_samples,)
        The two sets of predictions the frames were computed from.
    group_counts : pandas.Series
        Number of samples of each group that has samples (flat labels, see the
        module notes); empty intersections of several columns are not listed.
    """

    clean: MetricFrame
    adversarial: MetricFrame
    y_pred_clean: np.ndarray = field(repr=False)
    y_pred_adv: np.ndarray = field(repr=False)
    group_counts: pd.Series = field(repr=False)

    def by_group(self, metric=None):
        """One metric per group, clean beside adversarial.

        Parameters
        ----------
        metric : str or None, default=None
            Name of the metric (a key of the ``metrics`` dict); ``None`` takes
            ``"accuracy"`` when present, else the only (or first) metric.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``clean`` and ``adversarial``, one row per group that has
            samples, flat group labels.
        """
        clean, adv = self.clean.by_group, self.adversarial.by_group
        if isinstance(clean, pd.DataFrame):
            names = list(clean.columns)
            if metric is None:
                metric = "accuracy" if "accuracy" in names else names[0]
            if metric not in names:
                raise ValueError(
                    f"metric={metric!r} is not in the frame: expected one of {names}."
                )
            clean, adv = clean[metric], adv[metric]
        elif metric is not None and metric != clean.name:
            raise ValueError(
                f"metric={metric!r} is not in the frame: it holds the single metric "
                f"{clean.name!r}."
            )
        table = pd.DataFrame({"clean": clean, "adversarial": adv})
        return _observed(table, self.group_counts.index)


def robust_metric_frame(estimator, X, y, *, sensitive_features, attack, metrics=None):
    """fairlearn ``MetricFrame`` s of ``estimator`` on clean and on attacked inputs.

    The adversarial inputs are made once, with the true labels ``y``, in the
    input space of the net: for a ``Pipeline`` the attack perturbs
    ``transform(X)`` (the output of every step before the net), and both
    predictions are the net's on ``transform(X)`` and on its perturbation.

    Parameters
    ----------
    estimator : fitted RobustNeuralNetClassifier or Pipeline ending in one
        The model under evaluation (any skorch net works).
    X : array-like or pandas.DataFrame of shape (n_samples, ...)
        Inputs, as the estimator takes them (raw columns for a pipeline).
    y : array-like of shape (n_samples,)
        True labels (any label type the net was fitted on).
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Group of every sample; several columns give intersectional groups
        (passed to fairlearn as given, so its multi-index names them).
    attack : object with ``perturb(net, X, y) -> X_adv``
        E.g. :class:`skfral.nn.PGD`. Required: ``None`` raises a TypeError (for
        clean-only numbers use fairlearn's ``MetricFrame`` directly, or
        :func:`worst_group` with a standard criterion).
    metrics : callable, dict of str -> callable or None, default=None
        Passed to fairlearn: ``metric(y_true, y_pred)``. ``None`` means
        ``{"accuracy": accuracy_score}``.

    Returns
    -------
    frames : RobustMetricFrame
        ``.clean`` and ``.adversarial`` MetricFrames over the same groups.

    Raises
    ------
    TypeError
        When ``attack`` has no ``perturb`` method or ``estimator`` is not a skorch
        net (or a Pipeline ending in one).
    sklearn.exceptions.NotFittedError
        When ``estimator`` is not fitted.
    ValueError
        For missing, mis-sized or unused-categorical ``sensitive_features`` and
        mis-sized ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.metrics import robust_metric_frame
    >>> from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, adversarial=None,
    ...                                 max_epochs=3, random_state=0).fit(X, y)
    >>> frames = robust_metric_frame(net, X, y, sensitive_features=group,
    ...                              attack=PGD(eps=0.1, n_steps=5, random_state=0))
    >>> list(frames.clean.by_group.index)
    ['a', 'b']
    >>> list(frames.adversarial.by_group.columns)
    ['accuracy']
    >>> bool((frames.adversarial.group_min() <= 1).all())
    True
    """
    attack = _check_attack(attack)
    metrics = _check_metrics(metrics)
    split_estimator(estimator)  # fitted, and a skorch net or a Pipeline ending in one
    n_samples = check_same_length(X=X, y=y, sensitive_features=sensitive_features)
    y = _check_labels(y, n_samples)
    sf = _check_groups(sensitive_features, n_samples)
    y_clean, y_adv = _predict_clean_and_adv(estimator, X, y, attack)
    counts = _label_frame(y, sf).by_group["count"]
    counts.index = _flat_labels(counts.index)
    counts = counts[counts.notna() & (counts > 0)].astype(int).rename("count")
    return RobustMetricFrame(
        clean=MetricFrame(
            metrics=metrics, y_true=y, y_pred=y_clean, sensitive_features=sf
        ),
        adversarial=MetricFrame(
            metrics=metrics, y_true=y, y_pred=y_adv, sensitive_features=sf
        ),
        y_pred_clean=y_clean,
        y_pred_adv=y_adv,
        group_counts=counts,
    )


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
    y = _check_labels(y, n_samples)
    sf = _check_groups(sensitive_features, n_samples)
    frame = _label_frame(y, sf)
    levels = _observed(frame.by_group, _observed_groups(frame))["majority_class_level"]
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
    if y_pred_adv is None and criterion not in _STANDARD_ONLY:
        raise ValueError(
            f"y_pred_adv=None but criterion={criterion!r} needs robust accuracy: pass "
            "the predictions on adversarial inputs, or use criterion='standard' or "
            "'balanced_standard'."
        )
    y_true = _check_labels(y_true, n_samples, "y_true")
    y_clean = _check_labels(y_pred_clean, n_samples, "y_pred_clean")
    y_adv = (
        None
        if y_pred_adv is None
        else _check_labels(y_pred_adv, n_samples, "y_pred_adv")
    )
    sf = _check_groups(sensitive_features, n_samples)
    return _group_table(y_true, y_clean, y_adv, sf, criterion)


def _group_table(y_true, y_clean, y_adv, sf, criterion):
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
    table.index = _flat_labels(table.index)
    table = table.astype({c: float for c in GROUP_COLUMNS[:4]})
    table["count"] = table["count"].astype(int)
    table["score"] = _score_column(table, criterion).astype(float)
    return table.sort_values("score", kind="stable")[GROUP_COLUMNS]


def worst_group(
    estimator, X_val, y_val, *, sensitive_features, attack, criterion="mean"
):
    """Groups ordered from worst to best by validation accuracy.

    Predictions are the net's on ``transform(X_val)`` and, with an attack, on
    its perturbation (one attack call, true labels); for a ``Pipeline`` the
    attack works in the last step's input space, after every transform.

    Parameters
    ----------
    estimator : fitted RobustNeuralNetClassifier or Pipeline ending in one
        The model (any skorch net works).
    X_val : array-like or pandas.DataFrame of shape (n_samples, ...)
        Validation inputs, as the estimator takes them.
    y_val : array-like of shape (n_samples,)
        Validation labels.
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Validation groups (several columns: intersections named ``"a,b"``).
    attack : object with ``perturb(net, X, y)`` or None
        Required unless ``criterion`` is ``"standard"`` or
        ``"balanced_standard"``; then ``None`` skips the attack and the robust
        columns are NaN (an attack given anyway fills them).
    criterion : {"standard", "robust", "mean", "balanced_standard", \
"balanced_robust", "balanced_mean"}, default="mean"
        The ``score`` the groups are sorted by; ``"mean"`` = (standard +
        robust) / 2, ``balanced_*`` use balanced accuracy.

    Returns
    -------
    table : pandas.DataFrame
        As :func:`group_scores`: indexed by group, columns ``standard``,
        ``robust``, ``standard_balanced``, ``robust_balanced``, ``count``,
        ``score``, sorted by ``score`` ascending (ties in group-label order);
        ``table.index[0]`` is the worst group.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.metrics import worst_group
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, adversarial=None,
    ...                                 max_epochs=3, random_state=0).fit(X, y)
    >>> table = worst_group(net, X, y, sensitive_features=group, attack=None,
    ...                     criterion="standard")
    >>> list(table.columns)
    ['standard', 'robust', 'standard_balanced', 'robust_balanced', 'count', 'score']
    >>> int(table["count"].sum()), bool(table["robust"].isna().all())
    (40, True)
    """
    check_option(criterion, "criterion", GROUP_CRITERIA)
    attack = _check_attack(attack, required=criterion not in _STANDARD_ONLY)
    split_estimator(estimator)
    n_samples = check_same_length(
        X_val=X_val, y_val=y_val, sensitive_features=sensitive_features
    )
    y_val = _check_labels(y_val, n_samples, "y_val")
    sf = _check_groups(sensitive_features, n_samples)
    y_clean, y_adv = _predict_clean_and_adv(estimator, X_val, y_val, attack)
    return _group_table(y_val, y_clean, y_adv, sf, criterion)


def fairness_report(estimator, X, y, *, sensitive_features, attack):
    """Minimax-fairness summary on clean and adversarial inputs (one attack call).

    Computed from the two fairlearn ``MetricFrame`` s of
    :func:`robust_metric_frame` with accuracy, balanced accuracy, count and the
    recall of every class. For a ``Pipeline`` the attack is made in the last
    step's input space, after every transform.

    Parameters
    ----------
    estimator : fitted RobustNeuralNetClassifier or Pipeline ending in one
        The model (any skorch net works).
    X : array-like or pandas.DataFrame of shape (n_samples, ...)
        Inputs, as the estimator takes them.
    y : array-like of shape (n_samples,)
        True labels; the attack uses them.
    sensitive_features : array-like, pandas.Series or pandas.DataFrame
        Groups (several columns: intersections named ``"a,b"``).
    attack : object with ``perturb(net, X, y)``
        E.g. ``skfral.nn.PGD(eps=0.1, n_steps=20)``; required.

    Returns
    -------
    report : pandas.Series
        ``n_samples``, ``n_groups``; ``standard_accuracy``, ``robust_accuracy``,
        ``standard_balanced_accuracy``, ``robust_balanced_accuracy`` (overall);
        ``worst_group_standard_accuracy``, ``worst_group_robust_accuracy`` and
        the worst groups' names ``worst_group_standard``,
        ``worst_group_robust``; ``standard_accuracy_gap``,
        ``robust_accuracy_gap`` (max - min over groups);
        ``worst_group_standard_balanced_accuracy``,
        ``worst_group_robust_balanced_accuracy``;
        ``worst_group_class_standard_recall``,
        ``worst_group_class_robust_recall`` (the lowest recall over every
        (group, class) cell with samples); ``majority_class_level`` (the
        worst-group accuracy of predicting each group's majority class).

        ``report.attrs["by_group"]`` holds the per-group table as a dict
        ``{group: {column: value}}`` (plain values, so that ``pd.concat`` of
        reports keeps working); rebuild it with
        ``pd.DataFrame.from_dict(report.attrs["by_group"], orient="index")``.
        Columns: ``standard``, ``robust``, ``standard_balanced``,
        ``robust_balanced``, ``standard_worst_class_recall``,
        ``robust_worst_class_recall``, ``majority_class_level``, ``count``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.metrics import fairness_report
    >>> from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, adversarial=None,
    ...                                 max_epochs=3, random_state=0).fit(X, y)
    >>> report = fairness_report(net, X, y, sensitive_features=group,
    ...                          attack=PGD(eps=0.1, n_steps=5, random_state=0))
    >>> int(report["n_samples"]), report["worst_group_standard"] in ("a", "b")
    (40, True)
    >>> bool(report["worst_group_robust_accuracy"] <= report["robust_accuracy"])
    True
    """
    attack = _check_attack(attack)
    split_estimator(estimator)
    n_samples = check_same_length(X=X, y=y, sensitive_features=sensitive_features)
    y = _check_labels(y, n_samples)
    classes = np.unique(y)
    recalls = {
        f"recall[{i}]": partial(class_recall, label=c) for i, c in enumerate(classes)
    }
    metrics = {
        "accuracy": accuracy_score,
        "balanced_accuracy": balanced_accuracy,
        "count": count,
        **recalls,
    }
    frames = robust_metric_frame(
        estimator,
        X,
        y,
        sensitive_features=sensitive_features,
        attack=attack,
        metrics=metrics,
    )
    observed = frames.group_counts.index
    levels = majority_class_levels(y, sensitive_features)
    values = {"n_samples": n_samples, "n_groups": len(observed)}
    tables = {}
    for kind, frame in (("standard", frames.clean), ("robust", frames.adversarial)):
        by_group = _observed(frame.by_group, observed)
        tables[kind] = by_group
        group_min = frame.group_min()
        values[f"{kind}_accuracy"] = float(frame.overall["accuracy"])
        values[f"{kind}_balanced_accuracy"] = float(frame.overall["balanced_accuracy"])
        values[f"worst_group_{kind}_accuracy"] = float(group_min["accuracy"])
        values[f"worst_group_{kind}"] = by_group["accuracy"].astype(float).idxmin()
        values[f"{kind}_accuracy_gap"] = float(
            frame.difference(method="between_groups")["accuracy"]
        )
        values[f"worst_group_{kind}_balanced_accuracy"] = float(
            group_min["balanced_accuracy"]
        )
        values[f"worst_group_class_{kind}_recall"] = float(
            np.nanmin(group_min[list(recalls)])
        )
    values["majority_class_level"] = float(levels.min())
    order = [
        "n_samples",
        "n_groups",
        "standard_accuracy",
        "robust_accuracy",
        "standard_balanced_accuracy",
        "robust_balanced_accuracy",
        "worst_group_standard_accuracy",
        "worst_group_robust_accuracy",
        "worst_group_standard",
        "worst_group_robust",
        "standard_accuracy_gap",
        "robust_accuracy_gap",
        "worst_group_standard_balanced_accuracy",
        "worst_group_robust_balanced_accuracy",
        "worst_group_class_standard_recall",
        "worst_group_class_robust_recall",
        "majority_class_level",
    ]
    report = pd.Series(
        {key: values[key] for key in order}, dtype=object, name="fairness_report"
    )
    std, rob = tables["standard"], tables["robust"]
    by_group = pd.DataFrame(
        {
            "standard": std["accuracy"],
            "robust": rob["accuracy"],
            "standard_balanced": std["balanced_accuracy"],
            "robust_balanced": rob["balanced_accuracy"],
            "standard_worst_class_recall": std[list(recalls)].min(axis=1),
            "robust_worst_class_recall": rob[list(recalls)].min(axis=1),
            "majority_class_level": levels,
        }
    ).astype(float)
    by_group["count"] = frames.group_counts
    report.attrs["by_group"] = {
        group: {col: (int(v) if col == "count" else float(v)) for col, v in row.items()}
        for group, row in by_group.iterrows()
    }
    return report
