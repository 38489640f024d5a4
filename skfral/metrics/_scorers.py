"""Worst-group scorers for scikit-learn model selection (GridSearchCV, cross_validate).

The groups reach the scorer through scikit-learn's metadata routing::

    sklearn.set_config(enable_metadata_routing=True)
    GridSearchCV(net, grid, scoring=worst_group_standard_accuracy_scorer).fit(
        X, y, sensitive_features=s)

The scorers subclass scikit-learn's scorer base class (``_BaseScorer``, the
class behind ``make_scorer``) and override ``_score``, which receives the
estimator: robust accuracy needs the model to attack, not only its predictions.
So they work inside ``_MultimetricScorer`` (a dict ``scoring``) with shared
prediction caching, and ``set_score_request`` is scikit-learn's own.
"""

from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils.metadata_routing import MetadataRequest

from ..nn import PGD, split_estimator
from ..utils._validation import check_bool, check_option
from ._checks import check_attack, check_batch_size, check_groups, check_labels
from ._groups import group_table
from ._stream import predict_clean_and_adv

__all__ = [
    "WorstGroupScorer",
    "make_worst_group_scorer",
    "worst_group_robust_accuracy_scorer",
    "worst_group_standard_accuracy_scorer",
]

SCORER_KINDS = ("standard", "robust")


def _direct_call(estimator, response_method, X, **kwargs):
    return getattr(estimator, response_method)(X)


def worst_group_accuracy(y_true, y_pred, *, sensitive_features, balanced=False):
    """Lowest per-group (balanced) accuracy, from a fairlearn MetricFrame."""
    n_samples = len(y_true)
    y_true = check_labels(y_true, n_samples, "y_true")
    y_pred = check_labels(y_pred, n_samples, "y_pred")
    sf = check_groups(sensitive_features, n_samples)
    criterion = "balanced_standard" if balanced else "standard"
    return float(group_table(y_true, y_pred, None, sf, criterion)["score"].iloc[0])


class WorstGroupScorer(_BaseScorer):
    """Scorer ``(estimator, X, y, sensitive_features=...) -> worst-group accuracy``.

    Build it with :func:`make_worst_group_scorer`. Higher is better.

    ``sensitive_features`` is requested by default (the score means nothing
    without groups), so with ``sklearn.set_config(enable_metadata_routing=True)``
    ``GridSearchCV(...).fit(X, y, sensitive_features=s)`` routes the groups of
    each validation fold to the scorer; ``set_score_request(sensitive_features=
    "alias")`` renames the metadata as usual. Called directly, the scorer
    accepts ``sensitive_features=`` even with routing disabled.

    Parameters
    ----------
    kind : {"standard", "robust"}, default="standard"
        Accuracy on clean inputs, or under ``attack``.
    attack : object with ``perturb(net, X, y)`` or None, default=None
        The attack of ``kind="robust"``.
    balanced : bool, default=False
        Balanced accuracy inside each group.

    See Also
    --------
    make_worst_group_scorer : Builds it, with checked settings.
    """

    def __init__(self, kind="standard", *, attack=None, balanced=False):
        super().__init__(score_func=worst_group_accuracy, sign=1, kwargs={})
        self._kind = kind
        self._attack = attack
        self._balanced = balanced
        self._metadata_request = MetadataRequest(owner=self)
        self._metadata_request.score.add_request(param="sensitive_features", alias=True)

    def __repr__(self):
        attack = "" if self._attack is None else f", attack={self._attack!r}"
        return (
            f"make_worst_group_scorer(kind={self._kind!r}{attack}, "
            f"balanced={self._balanced!r})"
        )

    def __call__(self, estimator, X, y_true, *, sensitive_features=None, **kwargs):
        """Worst-group accuracy of ``estimator`` on ``X``, ``y_true``.

        Parameters
        ----------
        estimator : fitted skorch net or Pipeline ending in one
            The model scored.
        X : array-like of shape (n_samples, ...)
            Inputs, as the estimator takes them (a robust scorer attacks them
            batch by batch, in the net's input space).
        y_true : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of every sample; required.
        **kwargs : dict
            Any other metadata is refused with a TypeError.

        Returns
        -------
        score : float
            The lowest per-group (balanced) accuracy.
        """
        return self._score(
            _direct_call,
            estimator,
            X,
            y_true,
            sensitive_features=sensitive_features,
            **kwargs,
        )

    def _score(
        self, method_caller, estimator, X, y_true, sensitive_features=None, **kwargs
    ):
        if kwargs:
            raise TypeError(
                f"{self!r} got unexpected metadata {sorted(kwargs)}: it accepts only "
                "sensitive_features."
            )
        if sensitive_features is None:
            raise ValueError(
                "sensitive_features is required by the worst-group scorer: pass it "
                "directly, or in model selection enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and pass "
                "sensitive_features=... to fit (e.g. GridSearchCV(...).fit(X, y, "
                "sensitive_features=s))."
            )
        split_estimator(estimator)
        if self._kind == "standard":
            y_pred = method_caller(estimator, "predict", X)
        else:  # batch by batch: no adversarial copy of X is held whole
            n_samples = len(y_true)
            _, (y_pred,) = predict_clean_and_adv(
                estimator,
                X,
                check_labels(y_true, n_samples, "y_true"),
                [self._attack],
                n_samples=n_samples,
                batch_size=check_batch_size(None, [self._attack]),
                clean=False,
            )
        return self._sign * worst_group_accuracy(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            balanced=self._balanced,
        )


def make_worst_group_scorer(kind="standard", *, attack=None, balanced=False):
    """A scorer giving the worst group's accuracy, clean or under attack.

    Parameters
    ----------
    kind : {"standard", "robust"}, default="standard"
        ``"standard"``: accuracy on clean inputs (``estimator.predict(X)``).
        ``"robust"``: accuracy on ``attack.perturb(net, transform(X), y)``, the
        attack made with the true labels in the net's input space (after a
        Pipeline's transforms).
    attack : object with ``perturb(net, X, y)`` or None, default=None
        Required for ``kind="robust"``, e.g. ``skfral.nn.PGD(eps=0.1,
        n_steps=20, random_state=0)``; ignored for ``"standard"``.
    balanced : bool, default=False
        Use balanced accuracy inside each group (worst-group accuracy alone can
        be gamed by predicting each group's majority class).

    Returns
    -------
    scorer : WorstGroupScorer
        Callable ``scorer(estimator, X, y, sensitive_features=s) -> float``;
        ``estimator`` is a fitted skorch net or a Pipeline ending in one.

    See Also
    --------
    fairness_report : Every worst-group number at once.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.metrics import make_worst_group_scorer
    >>> from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, adversarial=None,
    ...                                 max_epochs=3, random_state=0).fit(X, y)
    >>> attack = PGD(eps=0.1, n_steps=5, random_state=0)
    >>> scorer = make_worst_group_scorer("robust", attack=attack)
    >>> 0.0 <= scorer(net, X, y, sensitive_features=group) <= 1.0
    True

    In model selection, with metadata routing:

    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(net, {"lr": [0.01, 0.05]}, cv=2,
    ...                           scoring=make_worst_group_scorer("standard"))
    ...     search = search.fit(X, y, sensitive_features=group)
    >>> sorted(search.best_params_)
    ['lr']
    """
    check_option(kind, "kind", SCORER_KINDS)
    balanced = check_bool(balanced, "balanced")
    if kind == "robust":
        if attack is None:
            raise TypeError(
                "attack=None is not valid for kind='robust': expected an attack object "
                "with perturb(net, X, y), e.g. skfral.nn.PGD(eps=0.1, n_steps=20)."
            )
        check_attack(attack)
    return WorstGroupScorer(kind, attack=attack, balanced=balanced)


#: Worst-group accuracy on clean inputs.
worst_group_standard_accuracy_scorer = make_worst_group_scorer("standard")

#: Worst-group accuracy under PGD-20, L-inf, eps=0.1, step eps/4 (FRAL's evaluation
#: defaults for standardised tabular data; seeded). For images or other radii build
#: your own with ``make_worst_group_scorer("robust", attack=PGD(...))``.
worst_group_robust_accuracy_scorer = make_worst_group_scorer(
    "robust", attack=PGD(eps=0.1, n_steps=20, random_state=0)
)
