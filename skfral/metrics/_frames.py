"""The model-side frames: fairlearn MetricFrames clean and under attack, worst group.

:func:`robust_metric_frame` and :func:`worst_group` predict (and attack) batch by
batch through :mod:`._stream`; the numbers come from fairlearn's
``MetricFrame`` (see :mod:`._report` for the module notes on groups).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from ..nn import split_estimator
from ..utils._docstring import Substitution
from ..utils._validation import check_option, check_same_length
from ._checks import (
    check_attack,
    check_batch_size,
    check_groups,
    check_labels,
    check_metrics,
)
from ._docs import metric_docs
from ._groups import group_counts, group_table, observed
from ._names import GROUP_CRITERIA, STANDARD_ONLY_CRITERIA
from ._stream import predict_clean_and_adv

__all__ = ["RobustMetricFrame", "robust_metric_frame", "worst_group"]


@dataclass(eq=False)
class RobustMetricFrame:
    """fairlearn ``MetricFrame`` s on clean and on adversarial inputs, same groups.

    Returned by :func:`robust_metric_frame` (a plain container: build it with
    that function); the parameters are stored as attributes of the same names.

    Parameters
    ----------
    clean : fairlearn.metrics.MetricFrame
        Metrics of the predictions on clean inputs.
    adversarial : fairlearn.metrics.MetricFrame
        Metrics of the predictions on the attack's inputs (made with the true
        labels).
    y_pred_clean : ndarray of shape (n_samples,)
        The predictions on clean inputs the frames were computed from.
    y_pred_adv : ndarray of shape (n_samples,)
        The predictions on adversarial inputs.
    group_counts : pandas.Series
        Number of samples of each group that has samples (flat labels, see the
        module notes); empty intersections of several columns are not listed.

    See Also
    --------
    robust_metric_frame : Builds it.
    fairness_report : The summary numbers FRAL reports.
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

        See Also
        --------
        plot_group_accuracy : Draws this table.
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
        return observed(table, self.group_counts.index)


@Substitution(**metric_docs)
def robust_metric_frame(
    estimator, X, y, *, sensitive_features, attack, metrics=None, batch_size=None
):
    """fairlearn ``MetricFrame`` s of ``estimator`` on clean and on attacked inputs.

    The adversarial inputs are made with the true labels ``y``, in the input
    space of the net: for a ``Pipeline`` the attack perturbs ``transform(X)``
    (the output of every step before the net), and both predictions are the
    net's on ``transform(X)`` and on its perturbation. Rows are processed
    ``batch_size`` at a time (one ``attack.perturb`` call per batch).

    Parameters
    ----------
    {estimator}
    {X}
    {y}
    {sensitive_features}
    attack : object with ``perturb(net, X, y) -> X_adv``
        E.g. :class:`skfral.nn.PGD` or :class:`skfral.nn.APGD`. Required:
        ``None`` raises a TypeError (for clean-only numbers use
        :func:`fairness_report` with ``attack=None``, or :func:`worst_group`
        with a standard criterion).
    metrics : callable, dict of str -> callable or None, default=None
        Passed to fairlearn: ``metric(y_true, y_pred)``. ``None`` means
        ``{{"accuracy": accuracy_score}}``.
    {batch_size}

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

    See Also
    --------
    fairness_report : The summary numbers, from the same frames.
    fairlearn.metrics.MetricFrame : The frames returned.

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
    attack = check_attack(attack)
    metrics = check_metrics(metrics)
    split_estimator(estimator)  # fitted, and a skorch net or a Pipeline ending in one
    n_samples = check_same_length(X=X, y=y, sensitive_features=sensitive_features)
    y = check_labels(y, n_samples)
    sf = check_groups(sensitive_features, n_samples)
    batch_size = check_batch_size(batch_size, [attack])
    y_clean, (y_adv,) = predict_clean_and_adv(
        estimator, X, y, [attack], n_samples=n_samples, batch_size=batch_size
    )
    return RobustMetricFrame(
        clean=MetricFrame(
            metrics=metrics, y_true=y, y_pred=y_clean, sensitive_features=sf
        ),
        adversarial=MetricFrame(
            metrics=metrics, y_true=y, y_pred=y_adv, sensitive_features=sf
        ),
        y_pred_clean=y_clean,
        y_pred_adv=y_adv,
        group_counts=group_counts(y, sf),
    )


@Substitution(**metric_docs)
def worst_group(
    estimator,
    X_val,
    y_val,
    *,
    sensitive_features,
    attack,
    criterion="mean",
    batch_size=None,
):
    """Groups ordered from worst to best by validation accuracy.

    Predictions are the net's on ``transform(X_val)`` and, with an attack, on
    its perturbation (true labels, batch by batch); for a ``Pipeline`` the
    attack works in the last step's input space, after every transform.

    Parameters
    ----------
    {estimator}
    X_val : array-like, pandas.DataFrame or lazy array of shape (n_samples, ...)
        Validation inputs, as the estimator takes them (a lazy array is read
        one batch at a time).
    y_val : array-like of shape (n_samples,)
        Validation labels.
    {sensitive_features}
    attack : object with ``perturb(net, X, y)`` or None
        Required unless ``criterion`` is ``"standard"`` or
        ``"balanced_standard"``; then ``None`` skips the attack and the robust
        columns are NaN (an attack given anyway fills them).
    criterion : {{"standard", "robust", "mean", "balanced_standard", \
"balanced_robust", "balanced_mean"}}, default="mean"
        The ``score`` the groups are sorted by (:data:`GROUP_CRITERIA`);
        ``"mean"`` = (standard + robust) / 2, ``balanced_*`` use balanced
        accuracy.
    {batch_size}

    Returns
    -------
    table : pandas.DataFrame
        As :func:`group_scores`: indexed by group, columns ``standard``,
        ``robust``, ``standard_balanced``, ``robust_balanced``, ``count``,
        ``score``, sorted by ``score`` ascending (ties in group-label order);
        ``table.index[0]`` is the worst group.

    See Also
    --------
    group_scores : The same table from predictions already made.
    fairness_report : The full report.

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
    attack = check_attack(attack, required=criterion not in STANDARD_ONLY_CRITERIA)
    split_estimator(estimator)
    n_samples = check_same_length(
        X_val=X_val, y_val=y_val, sensitive_features=sensitive_features
    )
    y_val = check_labels(y_val, n_samples, "y_val")
    sf = check_groups(sensitive_features, n_samples)
    batch_size = check_batch_size(batch_size, [attack])
    y_clean, (y_adv,) = predict_clean_and_adv(
        estimator, X_val, y_val, [attack], n_samples=n_samples, batch_size=batch_size
    )
    return group_table(y_val, y_clean, y_adv, sf, criterion)
