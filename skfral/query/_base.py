"""The query-strategy contract: validation, seeded selection helpers.

Every strategy is a small scikit-learn-style estimator whose ``__init__`` only
stores keyword-only settings. Calling it the way modAL calls a strategy,
``strategy(learner, X_pool, n_instances=1, *, sensitive_features=None)``,
validates the inputs and then runs the private ``_select``. It always returns
``(indices, scores)``: modAL's ``query`` unpacks a 2-tuple and silently calls
the strategy a second time otherwise.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..nn import split_estimator
from ..nn._attacks import encode_labels
from ..utils._validation import (
    check_finite_array,
    check_int,
    check_random_state,
    check_same_length,
    check_sensitive_features,
    num_samples,
)

__all__ = [
    "BaseQueryStrategy",
    "take_rows",
    "top_k",
    "round_robin",
    "entropy",
]


def take_rows(X, idx):
    """Rows ``idx`` of an array, DataFrame, list or lazily loaded array."""
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[idx]
    if isinstance(X, list):
        return [X[i] for i in np.asarray(idx)]
    return X[np.asarray(idx)]


def _is_lazy(X):
    """Lazily loaded arrays (face loaders): converted per batch, never whole."""
    return (
        hasattr(X, "__getitem__")
        and hasattr(X, "shape")
        and not isinstance(X, np.ndarray | pd.DataFrame)
    )


def check_inputs_for(estimator, X, name):
    """``X`` as finite numbers with the fitted net's number of features.

    The message names ``name`` (``X_pool``, ``X_val``). A Pipeline's own steps
    validate its raw inputs, and lazily loaded arrays are checked per batch:
    both are returned as they are.
    """
    if (isinstance(estimator, Pipeline) and len(estimator.steps) > 1) or _is_lazy(X):
        return X
    X = check_finite_array(X, name, dtype=np.float32)
    net = split_estimator(estimator)[1]
    expected = getattr(net, "n_features_in_", None)
    if expected is not None and X.shape[1] != expected:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the learner's "
            f"{type(net).__name__} is expecting {expected} features as input."
        )
    return X


def check_validation_for(estimator, X_val, y_val):
    """``X_val`` checked as :func:`check_inputs_for`; ``y_val`` among the net's classes."""
    X_val = check_inputs_for(estimator, X_val, "X_val")
    encode_labels(split_estimator(estimator)[1], y_val, len(y_val), name="y_val")
    return X_val


def top_k(scores, k, rng, *, secondary=None):
    """Indices of the ``k`` largest ``scores``, ties broken reproducibly by ``rng``.

    ``secondary`` (optional) breaks ties before the random order.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keys = [rng.permutation(len(scores))]
    if secondary is not None:
        keys.append(-np.asarray(secondary, dtype=np.float64))
    keys.append(-scores)
    return np.lexsort(keys)[:k]


def rank_order(scores, rng, *, secondary=None):
    """Every index, best first (see :func:`top_k`)."""
    return top_k(scores, len(scores), rng, secondary=secondary)


def round_robin(order, labels, k):
    """Take ``k`` items of ``order`` (best first) alternating over ``labels``.

    Each label keeps its own best-first queue; the labels take turns in the
    order of their best item. Used for class balancing: a batch spreads over
    the predicted classes instead of piling onto one.
    """
    order = np.asarray(order)
    labels = np.asarray(labels)
    queues, first_seen = {}, []
    for i in order:
        lab = labels[i]
        key = lab.item() if hasattr(lab, "item") else lab
        if key not in queues:
            queues[key] = []
            first_seen.append(key)
        queues[key].append(i)
    picked, pointers = [], dict.fromkeys(first_seen, 0)
    while len(picked) < k:
        progressed = False
        for key in first_seen:
            if len(picked) >= k:
                break
            if pointers[key] < len(queues[key]):
                picked.append(queues[key][pointers[key]])
                pointers[key] += 1
                progressed = True
        if not progressed:
            break
    return np.asarray(picked, dtype=np.intp)


def entropy(proba):
    """Shannon entropy of each row of ``proba`` (nats)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


class BaseQueryStrategy(BaseEstimator):
    """Base class of every skfral query strategy.

    Subclasses implement ``_select(learner, X_pool, n_instances, groups, rng)``
    returning ``(indices, scores)`` for already validated inputs. Class
    attributes say what a strategy needs: ``requires_validation`` (a labelled,
    grouped validation set ``X_val, y_val, sensitive_features_val``) and
    ``requires_sensitive_features`` (the pool's groups).
    """

    requires_validation = False
    requires_sensitive_features = False

    def __call__(
        self, learner, X_pool, n_instances=1, *, sensitive_features=None, **kwargs
    ):
        """Choose ``n_instances`` samples of ``X_pool`` to label.

        Parameters
        ----------
        learner : modAL ActiveLearner or fitted estimator
            Its ``estimator`` (the robust model) must be fitted; it is never
            refitted or modified by the strategy.
        X_pool : array-like, DataFrame or list of shape (n_pool, ...)
            The unlabelled pool.
        n_instances : int, default=1
            Number of samples to choose.
        sensitive_features : array-like of shape (n_pool,) or None
            The pool samples' groups (required by the fair strategies).

        Returns
        -------
        indices : ndarray of int of shape (n_instances,)
            Unique positions in ``X_pool``, best first.
        scores : ndarray of float of shape (n_instances,)
            The strategy's score of each chosen sample (finite).
        """
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) "
                f"{sorted(kwargs)}: expected only n_instances and sensitive_features."
            )
        estimator = self._learner_estimator(learner)
        n_pool = num_samples(X_pool, "X_pool")
        if n_pool == 0:
            raise ValueError(
                "X_pool is empty: expected at least one unlabelled sample."
            )
        n_instances = check_int(n_instances, "n_instances", min_value=1)
        if n_instances > n_pool:
            raise ValueError(
                f"n_instances={n_instances} is larger than the pool ({n_pool} samples): "
                "expected at most the pool size."
            )
        X_pool = self._check_pool(estimator, X_pool)
        if sensitive_features is None and self.requires_sensitive_features:
            raise ValueError(
                f"sensitive_features is required by {type(self).__name__}: pass the "
                "pool's groups, e.g. learner.query(X_pool, n_instances=..., "
                "sensitive_features=s_pool)."
            )
        groups = None
        if sensitive_features is not None:
            groups = check_sensitive_features(
                sensitive_features, n_pool, "sensitive_features"
            )
        rng = check_random_state(getattr(self, "random_state", None), "random_state")
        indices, scores = self._select(learner, X_pool, n_instances, groups, rng)
        indices = np.asarray(indices, dtype=np.intp)
        scores = np.asarray(scores, dtype=np.float64)
        if len(indices) != n_instances or len(np.unique(indices)) != n_instances:
            raise RuntimeError(
                f"{type(self).__name__} selected {len(np.unique(indices))} unique samples "
                f"instead of {n_instances}: this is a bug, please report it."
            )
        return indices, np.nan_to_num(scores, nan=0.0, posinf=1e300, neginf=-1e300)

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _learner_estimator(learner):
        estimator = getattr(learner, "estimator", learner)
        split_estimator(estimator)  # TypeError / NotFittedError with a clear message
        return estimator

    @staticmethod
    def _check_pool(estimator, X_pool):
        return check_inputs_for(estimator, X_pool, "X_pool")

    @staticmethod
    def _labelled(learner):
        X = getattr(learner, "X_training", None)
        y = getattr(learner, "y_training", None)
        if X is None or y is None:
            raise ValueError(
                "learner has no labelled data (X_training / y_training): pass a modAL "
                "ActiveLearner initialised with X_training and y_training."
            )
        return X, np.asarray(y)

    def _check_validation(self):
        """Validated ``(X_val, y_val, groups_val)`` of a fair strategy."""
        X_val, y_val = self.X_val, self.y_val
        if X_val is None or y_val is None or self.sensitive_features_val is None:
            raise ValueError(
                f"{type(self).__name__} needs X_val, y_val and sensitive_features_val "
                "(a labelled validation set with groups)."
            )
        n_val = num_samples(X_val, "X_val")
        check_same_length(X_val=X_val, y_val=y_val)
        groups_val = check_sensitive_features(
            self.sensitive_features_val, n_val, "sensitive_features_val"
        )
        return X_val, np.asarray(y_val), groups_val

    def _select(self, learner, X_pool, n_instances, groups, rng):  # pragma: no cover
        raise NotImplementedError
