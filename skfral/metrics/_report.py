"""Minimax fairness on clean and adversarial inputs, built on fairlearn's MetricFrame.

Every number here comes from :class:`fairlearn.metrics.MetricFrame` (per-group
values, ``group_min``, ``difference``, and its bootstrap for confidence
intervals); this module only chooses the metrics, makes the adversarial inputs
(batch by batch, one pass over ``X``) and names the results.

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

Memory
------
Inputs are read, transformed, attacked and predicted ``batch_size`` rows at a
time; only labels and predictions are kept for every sample, so a lazy image
array is never loaded whole and no adversarial copy of ``X`` is held.
"""

from functools import partial

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count
from sklearn.metrics import accuracy_score

from ..nn import split_estimator
from ..utils._docstring import Substitution
from ..utils._validation import check_int, check_random_state, check_same_length
from ._checks import check_attack, check_batch_size, check_groups, check_labels
from ._docs import metric_docs
from ._groups import (
    balanced_accuracy,
    class_recall,
    fast_accuracy,
    group_counts,
    majority_class_levels,
    observed,
)
from ._names import COUNT_KEYS, GROUP_NAME_KEYS, METRIC_NAMES
from ._stream import predict_clean_and_adv

__all__ = ["FairnessReport", "fairness_report"]

_BY_GROUP_COLUMNS = (
    "standard",
    "robust",
    "standard_balanced",
    "robust_balanced",
    "standard_worst_class_recall",
    "robust_worst_class_recall",
    "majority_class_level",
    "count",
)


_REPORT_ORDER = (
    "standard_accuracy",
    "robust_accuracy",
    "standard_balanced_accuracy",
    "robust_balanced_accuracy",
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "standard_accuracy_gap",
    "robust_accuracy_gap",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
    "worst_group_class_standard_recall",
    "worst_group_class_robust_recall",
    "majority_class_level",
)
"""The report's metric keys in display order (the same set as METRIC_NAMES)."""


class FairnessReport(pd.Series):
    """The float Series returned by :func:`fairness_report`, with its tables.

    A :class:`pandas.Series` of float64 (``report.round(3)``, ``pd.concat`` and
    arithmetic work as on any Series), indexed by the report's keys:
    ``n_samples``, ``n_groups`` (:data:`COUNT_KEYS`, stored as floats) and every
    name of :data:`METRIC_NAMES`; with ``n_boot``, also the confidence bounds
    ``<metric>_ci_low`` / ``<metric>_ci_high`` of the overall and worst-group
    accuracies.

    Group names are not numbers, so they live beside the values:

    - ``report.worst_groups``: dict ``{"worst_group_standard": name,
      "worst_group_robust": name}`` (the robust one is ``None`` without an
      attack); ``report["worst_group_standard"]`` and ``report.get(...)`` still
      answer these two keys (:data:`GROUP_NAME_KEYS`), as before.
      A list of keys that holds a name gives an object Series of the values
      and names asked for; :meth:`with_group_names` gives the whole report
      that way.
    - ``report.by_group``: the per-group table (a DataFrame, one row per group).

    Both are stored as plain values in ``report.attrs`` (``"worst_groups"``,
    ``"by_group"`` as ``{group: {column: value}}``), which pandas keeps through
    most operations; ``pd.DataFrame.from_dict(report.attrs["by_group"],
    orient="index")`` rebuilds the table from a copy that lost the subclass.

    Parameters
    ----------
    data, index, dtype, name, copy
        As for :class:`pandas.Series`; build a report with
        :func:`fairness_report`, not by hand.

    See Also
    --------
    fairness_report : Builds it.

    Examples
    --------
    >>> from skfral.metrics import FairnessReport
    >>> report = FairnessReport({"worst_group_standard_accuracy": 0.5})
    >>> report.attrs["worst_groups"] = {"worst_group_standard": "a"}
    >>> report["worst_group_standard"], float(report.round(1).iloc[0])
    ('a', 0.5)
    """

    _metadata = []

    @property
    def _constructor(self):
        return FairnessReport

    @property
    def _constructor_expanddim(self):
        return pd.DataFrame

    def _is_name_key(self, key):
        return (
            isinstance(key, str)
            and key in GROUP_NAME_KEYS
            and key not in self.index
            and key in self.attrs.get("worst_groups", {})
        )

    def __getitem__(self, key):
        if self._is_name_key(key):
            return self.attrs["worst_groups"][key]
        if isinstance(key, list) and any(self._is_name_key(k) for k in key):
            # numbers and names asked together: an object Series, as asked
            return pd.Series({k: self[k] for k in key}, dtype=object, name=self.name)
        return super().__getitem__(key)

    def with_group_names(self):
        """The report as one object Series, the worst groups' names in place.

        The layout of the report before it became a float Series: the names
        ``worst_group_standard`` and ``worst_group_robust`` follow
        ``worst_group_robust_accuracy``. Handy to print, or to collect reports
        as the columns of a DataFrame with the names as rows.

        Returns
        -------
        report : pandas.Series
            Object dtype; the same numbers and both names.

        See Also
        --------
        fairness_report : Builds the report.

        Examples
        --------
        >>> from skfral.metrics import FairnessReport
        >>> report = FairnessReport({"worst_group_robust_accuracy": 0.25})
        >>> report.attrs["worst_groups"] = {"worst_group_standard": "a",
        ...                                 "worst_group_robust": "b"}
        >>> report.with_group_names().to_dict()
        {'worst_group_robust_accuracy': 0.25, 'worst_group_standard': 'a', \
'worst_group_robust': 'b'}
        """
        values = {}
        names = self.attrs.get("worst_groups", {})
        for key, value in self.items():
            values[key] = value
            if key == "worst_group_robust_accuracy":
                values.update(names)
        values.update({k: v for k, v in names.items() if k not in values})
        out = pd.Series(values, dtype=object, name=self.name)
        out.attrs = dict(self.attrs)
        return out

    @property
    def worst_groups(self):
        """dict: ``{"worst_group_standard": name, "worst_group_robust": name}``."""
        return dict(self.attrs.get("worst_groups", {}))

    @property
    def by_group(self):
        """pandas.DataFrame: the per-group table, one row per group with samples.

        Columns ``standard``, ``robust`` (accuracies), ``standard_balanced``,
        ``robust_balanced``, ``standard_worst_class_recall``,
        ``robust_worst_class_recall`` (the lowest recall over the group's
        classes), ``majority_class_level``, ``count``; with ``n_boot`` also
        ``standard_ci_low``, ``standard_ci_high``, ``robust_ci_low``,
        ``robust_ci_high``. Robust columns are NaN without an attack.
        """
        table = pd.DataFrame.from_dict(self.attrs.get("by_group", {}), orient="index")
        if "count" in table:
            table["count"] = table["count"].astype(int)
        table.index.name = self.attrs.get("group_name")
        return table


def _bootstrap(y, y_pred, sf, n_boot, quantiles, seed):
    """fairlearn's MetricFrame bootstrap of the accuracy (``*_ci`` = low, high)."""
    return MetricFrame(
        metrics={"accuracy": fast_accuracy},
        y_true=y,
        y_pred=y_pred,
        sensitive_features=sf,
        n_boot=n_boot,
        ci_quantiles=list(quantiles),
        random_state=seed,
    )


@Substitution(**metric_docs)
def fairness_report(
    estimator,
    X,
    y,
    *,
    sensitive_features,
    attack=None,
    n_boot=None,
    ci=0.95,
    random_state=None,
    batch_size=None,
):
    """Minimax-fairness summary on clean and adversarial inputs.

    Computed from fairlearn ``MetricFrame`` s (as in :func:`robust_metric_frame`)
    with accuracy, balanced accuracy, count and the recall of every class. For a
    ``Pipeline`` the attack is made in the last step's input space, after every
    transform; rows are read, attacked and predicted ``batch_size`` at a time.

    Parameters
    ----------
    {estimator}
    {X}
    {y}
    {sensitive_features}
    attack : object with ``perturb(net, X, y)`` or None, default=None
        E.g. ``skfral.nn.PGD(eps=0.1, n_steps=20)`` or ``skfral.nn.APGD()``.
        ``None`` runs no attack and gives the clean half of the report: every
        robust entry is NaN (the keys are always the same) and the worst robust
        group's name is ``None``.
    n_boot : int or None, default=None
        Number of bootstrap resamples for confidence intervals of the group
        accuracies (fairlearn's ``MetricFrame(n_boot=..., ci_quantiles=...)``:
        rows are resampled with replacement, the predictions are not remade, so
        the attack still runs once per batch). ``None``: no intervals. Each
        resample costs a fairlearn group-by (tens of milliseconds), so 1000
        resamples take tens of seconds.
    ci : float, default=0.95
        Coverage of the percentile intervals: quantiles ``(1 - ci) / 2`` and
        ``(1 + ci) / 2`` of the bootstrap distribution. Used with ``n_boot``.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap resamples (the same resamples for the clean and the
        robust accuracies, so their intervals are paired). The attack keeps its
        own ``random_state``.
    {batch_size}

    Returns
    -------
    report : FairnessReport
        A float64 :class:`pandas.Series` subclass: ``n_samples``, ``n_groups``;
        ``standard_accuracy``, ``robust_accuracy``,
        ``standard_balanced_accuracy``, ``robust_balanced_accuracy`` (overall);
        ``worst_group_standard_accuracy``, ``worst_group_robust_accuracy``;
        ``standard_accuracy_gap``, ``robust_accuracy_gap`` (max - min over
        groups); ``worst_group_standard_balanced_accuracy``,
        ``worst_group_robust_balanced_accuracy``;
        ``worst_group_class_standard_recall``,
        ``worst_group_class_robust_recall`` (the lowest recall over every
        (group, class) cell with samples); ``majority_class_level`` (the
        worst-group accuracy of predicting each group's majority class).
        With ``n_boot``: ``standard_accuracy_ci_low``,
        ``standard_accuracy_ci_high``, ``worst_group_standard_accuracy_ci_low``,
        ``worst_group_standard_accuracy_ci_high`` and the same four for
        ``robust`` (NaN without an attack).

        The worst groups' names are in ``report.worst_groups`` (and
        ``report["worst_group_standard"]``, ``report["worst_group_robust"]``
        still answer them); the per-group table is ``report.by_group`` (see
        :class:`FairnessReport`), with per-group intervals when ``n_boot`` is
        given.

    See Also
    --------
    robust_metric_frame : The underlying fairlearn frames.
    robustness_curve : Per-group accuracy over several attack radii.
    plot_group_accuracy : Draws ``report.by_group``.

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
    >>> report.dtype, list(report.by_group.index)
    (dtype('float64'), ['a', 'b'])

    Without an attack, the clean half; with ``n_boot``, confidence intervals:

    >>> clean = fairness_report(net, X, y, sensitive_features=group, n_boot=50,
    ...                         random_state=0)
    >>> bool(np.isnan(clean["robust_accuracy"]))
    True
    >>> low, high = (clean["standard_accuracy_ci_low"],
    ...              clean["standard_accuracy_ci_high"])
    >>> bool(low <= clean["standard_accuracy"] <= high)
    True
    """
    attack = check_attack(attack, required=False)
    split_estimator(estimator)
    n_samples = check_same_length(X=X, y=y, sensitive_features=sensitive_features)
    y = check_labels(y, n_samples)
    sf = check_groups(sensitive_features, n_samples)
    boot_seed = _check_bootstrap(n_boot, ci, random_state)
    if n_boot is not None:
        n_boot = check_int(n_boot, "n_boot", min_value=1)
    batch_size = check_batch_size(batch_size, [attack])
    y_clean, (y_adv,) = predict_clean_and_adv(
        estimator, X, y, [attack], n_samples=n_samples, batch_size=batch_size
    )
    predictions = {"standard": y_clean, "robust": y_adv}

    counts = group_counts(y, sf)
    groups = counts.index
    values = {"n_samples": float(n_samples), "n_groups": float(len(groups))}
    names = {}
    by_group = pd.DataFrame(index=groups, columns=list(_BY_GROUP_COLUMNS), dtype=float)
    for kind, y_pred in predictions.items():
        names[f"worst_group_{kind}"] = _group_metrics(
            kind, y, y_pred, sf, groups, values, by_group
        )
    levels = majority_class_levels(y, sf)
    values["majority_class_level"] = float(levels.min())
    by_group["majority_class_level"] = levels.astype(float)
    by_group["count"] = counts.astype(float)

    order = [*COUNT_KEYS, *_REPORT_ORDER]
    if n_boot is not None:
        quantiles = ((1 - ci) / 2, (1 + ci) / 2)
        for kind, y_pred in predictions.items():
            order += _group_intervals(
                kind, y, y_pred, sf, groups, (n_boot, quantiles, boot_seed),
                values, by_group,
            )  # fmt: skip
    return _assemble(values, order, names, groups, by_group, n_boot, ci)


def _check_bootstrap(n_boot, ci, random_state):
    """Check the interval settings; the bootstrap's seed (None without n_boot)."""
    if n_boot is None:
        check_random_state(random_state)  # a bad type is refused even when unused
        return None
    check_int(n_boot, "n_boot", min_value=1)
    if isinstance(ci, bool) or not isinstance(ci, int | float | np.floating):
        raise TypeError(
            f"ci={ci!r} has type {type(ci).__name__}: expected a number in (0, 1)."
        )
    if not 0 < ci < 1:
        raise ValueError(
            f"ci={ci!r} is invalid: expected a number in (0, 1), e.g. 0.95."
        )
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _group_metrics(kind, y, y_pred, sf, groups, values, by_group):
    """Fill ``values`` and ``by_group`` for one kind of prediction ("standard"
    or "robust"); return the worst group's name (None without predictions)."""
    if y_pred is None:
        for key in METRIC_NAMES:
            if kind in key:
                values[key] = np.nan
        return None
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
    frame = MetricFrame(metrics=metrics, y_true=y, y_pred=y_pred, sensitive_features=sf)
    table = observed(frame.by_group, groups)
    group_min = frame.group_min()
    values[f"{kind}_accuracy"] = float(frame.overall["accuracy"])
    values[f"{kind}_balanced_accuracy"] = float(frame.overall["balanced_accuracy"])
    values[f"worst_group_{kind}_accuracy"] = float(group_min["accuracy"])
    values[f"{kind}_accuracy_gap"] = float(
        frame.difference(method="between_groups")["accuracy"]
    )
    values[f"worst_group_{kind}_balanced_accuracy"] = float(
        group_min["balanced_accuracy"]
    )
    values[f"worst_group_class_{kind}_recall"] = float(
        np.nanmin(group_min[list(recalls)])
    )
    by_group[kind] = table["accuracy"].astype(float)
    by_group[f"{kind}_balanced"] = table["balanced_accuracy"].astype(float)
    by_group[f"{kind}_worst_class_recall"] = (
        table[list(recalls)].astype(float).min(axis=1)
    )
    return table["accuracy"].astype(float).idxmin()


def _group_intervals(kind, y, y_pred, sf, groups, boot, values, by_group):
    """Bootstrap intervals of one kind's accuracies into ``values`` and
    ``by_group``; return the keys added to the report, in order."""
    n_boot, quantiles, boot_seed = boot
    keys = (f"{kind}_accuracy", f"worst_group_{kind}_accuracy")
    if y_pred is None:
        low = high = pd.Series(np.nan, index=groups)
        bounds = {key: (np.nan, np.nan) for key in keys}
    else:
        frame = _bootstrap(y, y_pred, sf, n_boot, quantiles, boot_seed)
        low, high = (
            observed(f, groups)["accuracy"].astype(float) for f in frame.by_group_ci
        )
        bounds = {
            keys[0]: tuple(float(f["accuracy"]) for f in frame.overall_ci),
            keys[1]: tuple(float(f["accuracy"]) for f in frame.group_min_ci()),
        }
    by_group[f"{kind}_ci_low"] = low
    by_group[f"{kind}_ci_high"] = high
    added = []
    for key, (lo, hi) in bounds.items():
        values[f"{key}_ci_low"], values[f"{key}_ci_high"] = lo, hi
        added += [f"{key}_ci_low", f"{key}_ci_high"]
    return added


def _assemble(values, order, names, groups, by_group, n_boot, ci):
    """The :class:`FairnessReport`: values in ``order``, names and table in attrs."""
    report = FairnessReport(
        {key: values[key] for key in order}, dtype=float, name="fairness_report"
    )
    report.attrs["worst_groups"] = names
    report.attrs["group_name"] = groups.name
    report.attrs["by_group"] = {
        group: {col: (int(v) if col == "count" else float(v)) for col, v in row.items()}
        for group, row in by_group.iterrows()
    }
    if n_boot is not None:
        report.attrs["n_boot"], report.attrs["ci"] = n_boot, float(ci)
    return report
