"""Per-group robustness curves: accuracy of each group against the attack radius."""

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from ..nn import attack_from_net, split_estimator
from ..utils._docstring import Substitution, _shared_docs
from ..utils._validation import check_random_state, check_same_length
from ._checks import (
    check_attack,
    check_batch_size,
    check_eps_list,
    check_groups,
    check_labels,
)
from ._docs import metric_docs
from ._groups import balanced_accuracy, group_counts, observed
from ._stream import predict_clean_and_adv

__all__ = ["CURVE_COLUMNS", "robustness_curve"]

CURVE_COLUMNS = (
    "eps",
    "group",
    "accuracy",
    "balanced_accuracy",
    "count",
    "is_worst",
    "worst_group",
)
"""Columns of :func:`robustness_curve`'s table, in order."""


def _attack_at(attack, eps, name="attack"):
    """A clone of ``attack`` at radius ``eps``; an explicit step size scales with it."""
    params = attack.get_params(deep=False)
    new = {"eps": eps}
    step = params.get("step_size")
    old_eps = params.get("eps")
    if step is not None and old_eps:
        new["step_size"] = step * eps / old_eps
    return clone(attack).set_params(**new)


def _check_curve_attack(attack):
    check_attack(attack)
    get_params = getattr(attack, "get_params", None)
    if not callable(get_params) or "eps" not in get_params(deep=False):
        raise TypeError(
            f"attack={attack!r} has no eps parameter: robustness_curve clones the "
            "attack at each radius with set_params(eps=...); pass an attack such as "
            "skfral.nn.PGD(n_steps=20), or None for the net's own PGD settings."
        )
    return attack


@Substitution(**metric_docs, random_state=_shared_docs["random_state"])
def robustness_curve(
    estimator,
    X,
    y,
    *,
    sensitive_features,
    eps,
    attack=None,
    random_state=None,
    batch_size=None,
):
    """Accuracy of every group against the attack radius: a tidy table.

    For each radius in ``eps`` the attack is cloned with that radius and run
    (with the true labels, in the net's input space, batch by batch: each batch
    of ``X`` is read once and attacked at every radius); ``eps=0`` means clean
    inputs, no attack. The worst group at each radius is the one with the
    lowest accuracy (ties: first in group-label order).

    Parameters
    ----------
    {estimator}
    {X}
    {y}
    {sensitive_features}
    eps : float or list of float
        Radii of the attack, each >= 0 and distinct; the table keeps this
        order. ``0`` gives the clean accuracies.
    attack : object with ``perturb(net, X, y)`` and an ``eps`` parameter, \
or None, default=None
        The attack, cloned at each radius with ``set_params(eps=...)``; an
        explicit ``step_size`` is scaled in proportion (``step_size * eps_k /
        eps``), so every radius keeps the attack's step-to-radius ratio (a
        ``None`` step size follows the attack's own default, e.g. ``eps / 4``
        for :class:`skfral.nn.PGD`). ``None`` uses the net's own training
        attack (:func:`skfral.nn.attack_from_net`: its norm, number of steps,
        step-to-radius ratio and clip range); for a stronger evaluation pass
        e.g. ``attack_from_net(net, n_steps=20)``.
    {random_state}
        Used for the default attack only (``attack=None``); a given attack
        keeps its own ``random_state``.
    {batch_size}

    Returns
    -------
    curve : pandas.DataFrame
        One row per (radius, group), radii in the order given, groups in
        group-label order. Columns: ``eps``, ``group`` (flat labels, several
        columns of ``sensitive_features`` joined with ``","``), ``accuracy``,
        ``balanced_accuracy``, ``count`` (samples of the group), ``is_worst``
        (True on exactly one row per radius) and ``worst_group`` (the worst
        group's name at that radius, repeated on every row of it).
        ``curve[curve.is_worst]`` is the worst-group curve.

    See Also
    --------
    plot_robustness_curve : Draws the table, one line per group.
    fairness_report : All the numbers at one radius.
    skfral.nn.attack_from_net : The default attack.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.metrics import robustness_curve
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, max_epochs=3,
    ...                                 random_state=0).fit(X, y)
    >>> curve = robustness_curve(net, X, y, sensitive_features=group,
    ...                          eps=[0, 0.1, 0.3], random_state=0)
    >>> curve[["eps", "group", "count", "is_worst"]].shape
    (6, 4)
    >>> curve.groupby("eps", sort=False)["is_worst"].sum().tolist()
    [1, 1, 1]
    >>> bool((curve["accuracy"].between(0, 1)).all())
    True
    """
    radii = check_eps_list(eps)
    check_random_state(random_state)  # a bad type is refused even when unused
    split_estimator(estimator)
    if attack is None:
        attack = attack_from_net(estimator, random_state=random_state)
    else:
        attack = _check_curve_attack(attack)
    n_samples = check_same_length(X=X, y=y, sensitive_features=sensitive_features)
    y = check_labels(y, n_samples)
    sf = check_groups(sensitive_features, n_samples)
    attacks = [None if e == 0 else _attack_at(attack, e) for e in radii]
    batch_size = check_batch_size(batch_size, [attack])
    y_clean, y_advs = predict_clean_and_adv(
        estimator,
        X,
        y,
        attacks,
        n_samples=n_samples,
        batch_size=batch_size,
        clean=any(a is None for a in attacks),
    )
    counts = group_counts(y, sf)
    groups = counts.index
    metrics = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy}
    parts = []
    for e, y_adv in zip(radii, y_advs):
        y_pred = y_clean if y_adv is None else y_adv
        frame = MetricFrame(
            metrics=metrics, y_true=y, y_pred=y_pred, sensitive_features=sf
        )
        table = observed(frame.by_group, groups).astype(float)
        worst = table["accuracy"].idxmin()  # first minimum, in group-label order
        parts.append(
            pd.DataFrame(
                {
                    "eps": e,
                    "group": np.asarray(groups, dtype=object),
                    "accuracy": table["accuracy"].to_numpy(),
                    "balanced_accuracy": table["balanced_accuracy"].to_numpy(),
                    "count": counts.to_numpy(),
                    "is_worst": np.asarray(groups == worst, dtype=bool),
                    "worst_group": worst,
                }
            )
        )
    curve = pd.concat(parts, ignore_index=True)[list(CURVE_COLUMNS)]
    curve.attrs["group_name"] = groups.name
    return curve
