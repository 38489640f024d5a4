"""The query-strategy contract: one entry that validates, seeded selection helpers.

Every strategy is a small scikit-learn-style estimator whose ``__init__`` only
stores keyword-only settings. Calling it,
``strategy(learner, X_pool, n_instances=1, *, sensitive_features=None,
X_labelled=None, y_labelled=None)``, checks the settings (its
``_parameter_constraints``) and the data once, here, and hands the checked
inputs to the private ``_select(query)``. It always returns
``(indices, scores)``: modAL's ``query`` unpacks a 2-tuple and silently calls
the strategy a second time otherwise.
"""

import textwrap
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..nn import encode_labels, split_estimator
from ..utils._docstring import Substitution, _shared_docs
from ..utils._param_validation import Interval, ParamsValidationMixin
from ..utils._validation import (
    check_finite_array,
    check_int,
    check_random_state,
    check_same_length,
    check_sensitive_features,
    num_samples,
    take_rows,
)

__all__ = [
    "LAST_QUERY_COLUMNS",
    "BaseQueryStrategy",
    "take_rows",
    "top_k",
    "round_robin",
    "entropy",
]


LAST_QUERY_COLUMNS = ("position", "group", "score", "n_scored")
"""The columns every ``last_query_`` has; the strategy's score parts come
between ``score`` and ``n_scored``."""

_query_docs = {
    "last_query": textwrap.dedent(
        """
        last_query_ : pandas.DataFrame
            Why each sample of the last query was picked: one row per pick, in
            the order returned, with ``position`` (in the ``X_pool`` given),
            ``group`` (its ``sensitive_features`` value, ``None`` when the call
            had none), ``score`` (as returned), the strategy's score parts
            (below) and ``n_scored`` (how many candidates were scored in that
            sample's group; the whole scored pool for a strategy without
            groups). Set by every successful call, removed at the start of the
            next."""
    ).strip("\n"),
}


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
    validate its raw inputs (imputers accept NaN), and lazily loaded arrays
    are checked per batch: both are returned as they are.
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


def subsample(positions, size, rng):
    """A seeded random subset of ``size`` of ``positions`` (all when fewer), sorted."""
    positions = np.asarray(positions, dtype=np.intp)
    if size is None or len(positions) <= size:
        return positions
    return np.sort(rng.choice(positions, size=size, replace=False))


@dataclass
class Query:
    """The checked inputs of one call, handed from ``__call__`` to ``_select``.

    ``X_pool`` and ``groups`` are the rows the strategy scores: the whole pool,
    or the ``max_candidates`` subset drawn by the base class (``positions``
    maps them back to the pool). ``X_labelled`` / ``y_labelled`` are ``None``
    when neither the call nor the learner gave a labelled set.
    """

    estimator: Any
    X_pool: Any
    n_instances: int
    groups: Any
    rng: np.random.RandomState
    X_labelled: Any = None
    y_labelled: Any = None
    positions: Any = None
    n_pool: int = 0
    extra: dict = field(default_factory=dict)
    given_groups: Any = None

    def labelled(self, owner):
        """``(X_labelled, y_labelled)``, or a ValueError naming ``owner``."""
        if self.X_labelled is None:
            raise ValueError(
                f"{owner} needs the labelled set: pass X_labelled and y_labelled "
                "(strategy(estimator, X_pool, n, X_labelled=X_lab, y_labelled=y_lab)) "
                "or a modAL ActiveLearner holding X_training and y_training."
            )
        return self.X_labelled, self.y_labelled


@Substitution(
    random_state=_shared_docs["random_state"],
    max_candidates=_shared_docs["max_candidates"],
    last_query=_query_docs["last_query"],
)
class BaseQueryStrategy(ParamsValidationMixin, BaseEstimator):
    """Base class of every skfral query strategy.

    Subclasses declare ``_parameter_constraints`` (checked once per call by
    ``_validate_params``) and implement ``_select(query)`` returning
    ``(indices, scores)`` for the already checked :class:`Query`. Class
    attributes say what a strategy needs: ``requires_validation`` (a labelled,
    grouped validation set ``X_val, y_val, sensitive_features_val``),
    ``requires_sensitive_features`` (the pool's groups) and
    ``requires_labelled`` (the labelled set). Strategies with resumable state
    override :meth:`state_dict` and :meth:`load_state_dict`. ``_select``
    says why it picked each sample by calling ``self._record_query(...)``
    (score parts, candidates scored): the rows of ``last_query_``.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Here: no score parts.

    See Also
    --------
    skfral.query.get_strategy : Build a strategy from its short name.
    skfral.query.to_skactiveml : Use a strategy inside scikit-activeml.

    References
    ----------
    .. [1] B. Settles, "Active Learning Literature Survey", University of
       Wisconsin-Madison, Computer Sciences Technical Report 1648, 2009.
    """

    requires_validation = False
    requires_sensitive_features = False
    requires_labelled = False
    # Fair strategies draw the max_candidates subset inside their allocated
    # groups themselves; every other strategy gets it drawn here.
    _subsample_in_groups = False

    _parameter_constraints: dict = {
        "max_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, max_candidates=None, random_state=None):
        self.max_candidates = max_candidates
        self.random_state = random_state

    def __call__(
        self,
        learner,
        X_pool,
        n_instances=1,
        *,
        sensitive_features=None,
        X_labelled=None,
        y_labelled=None,
        **kwargs,
    ):
        """Choose ``n_instances`` samples of ``X_pool`` to label.

        Parameters
        ----------
        learner : modAL ActiveLearner or fitted estimator
            A modAL learner, or the fitted robust model itself (a skfral
            robust net or a Pipeline ending in one). It is never refitted or
            modified by the strategy.
        X_pool : array-like, DataFrame or list of shape (n_pool, ...)
            The unlabelled pool.
        n_instances : int, default=1
            Number of samples to choose.
        sensitive_features : array-like of shape (n_pool,) or None, default=None
            The pool samples' groups (required by the fair strategies).
        X_labelled : array-like of shape (n_labelled, ...) or None, default=None
            The labelled set (JIN's standard model, FAL's refits, core-set's
            distances). ``None`` reads ``learner.X_training`` of a modAL
            learner.
        y_labelled : array-like of shape (n_labelled,) or None, default=None
            Labels of ``X_labelled``.
        **kwargs : dict
            Refused with a TypeError naming them (modAL passes extra keywords
            of ``learner.query`` through).

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
                f"{sorted(kwargs)}: expected only n_instances, sensitive_features, "
                "X_labelled and y_labelled."
            )
        if hasattr(self, "last_query_"):
            del self.last_query_
        self._query_record = None
        query = self._check_query(
            learner,
            X_pool,
            n_instances,
            sensitive_features=sensitive_features,
            X_labelled=X_labelled,
            y_labelled=y_labelled,
        )
        query.given_groups = query.groups
        indices, scores = self._select(query)
        local = np.asarray(indices, dtype=np.intp)
        scores = np.asarray(scores, dtype=np.float64)
        indices = local if query.positions is None else query.positions[local]
        if (
            len(indices) != query.n_instances
            or len(np.unique(indices)) != query.n_instances
        ):
            raise RuntimeError(
                f"{type(self).__name__} selected {len(np.unique(indices))} unique samples "
                f"instead of {query.n_instances}: this is a bug, please report it."
            )
        scores = np.nan_to_num(scores, nan=0.0, posinf=1e300, neginf=-1e300)
        self.last_query_ = self._query_frame(query, local, indices, scores)
        return indices, scores

    # ------------------------------------------------------------ recording
    def _record_query(self, positions, scores, *, groups=None, parts=None, n_scored):
        """Say why each sample was picked: the rows of ``last_query_``.

        Call it once from ``_select``, with the same picks (in the same
        order) that ``_select`` returns. Without a call, ``last_query_`` has
        the common columns only, with ``n_scored`` the number of rows scored.

        Parameters
        ----------
        positions : array-like of int of shape (n_picks,)
            The picks, as ``_select`` returns them (rows of ``query.X_pool``).
        scores : array-like of float of shape (n_picks,)
            Their scores, as ``_select`` returns them.
        groups : array-like of shape (n_picks,) or None, default=None
            Their groups; ``None`` takes the call's ``sensitive_features`` (or
            ``None`` when it had none).
        parts : dict of str to array-like of shape (n_picks,) or None, \
default=None
            The strategy's score parts, one column each, in this order
            (e.g. ``{"entropy": ent[picked]}``).
        n_scored : int or array-like of int of shape (n_picks,)
            How many candidates were scored in each pick's group (the whole
            scored pool for a strategy without groups).
        """
        positions = np.asarray(positions, dtype=np.intp).reshape(-1)
        n = len(positions)

        def column(name, values):
            values = np.asarray(values)
            if values.ndim == 0:
                values = np.full(n, values.item())
            if values.shape != (n,):
                raise ValueError(
                    f"{type(self).__name__}._record_query: {name} has shape "
                    f"{values.shape}, expected ({n},) (one value per pick)."
                )
            return values

        parts = dict(parts or {})
        clash = sorted(set(parts) & set(LAST_QUERY_COLUMNS))
        if clash:
            raise ValueError(
                f"{type(self).__name__}._record_query: parts {clash} clash with "
                f"the common columns {list(LAST_QUERY_COLUMNS)}: rename them."
            )
        self._query_record = {
            "positions": positions,
            "scores": column("scores", scores).astype(np.float64),
            "groups": None if groups is None else column("groups", groups),
            "parts": {k: column(k, v) for k, v in parts.items()},
            "n_scored": column("n_scored", n_scored).astype(np.int64),
        }

    def _query_frame(self, query, local, indices, scores):
        """``last_query_`` of this call (see :meth:`_record_query`)."""
        record = getattr(self, "_query_record", None)
        self._query_record = None
        n = len(indices)
        if record is None:
            record = {
                "positions": local,
                "groups": None,
                "parts": {},
                "n_scored": np.full(n, num_samples(query.X_pool, "X_pool")),
            }
        elif not np.array_equal(record["positions"], local):
            raise RuntimeError(
                f"{type(self).__name__} recorded picks {record['positions'][:5]} "
                f"but returned {local[:5]}: this is a bug, please report it."
            )
        groups = record["groups"]
        if groups is None:
            given = query.given_groups
            groups = [None] * n if given is None else np.asarray(given)[local]
        frame = pd.DataFrame(
            {"position": np.asarray(indices, dtype=np.intp), "group": groups}
        )
        frame["score"] = scores
        for name, values in record["parts"].items():
            frame[name] = values
        frame["n_scored"] = record["n_scored"]
        return frame

    # ------------------------------------------------------------ checking
    def _check_query(
        self,
        learner,
        X_pool,
        n_instances,
        *,
        sensitive_features=None,
        X_labelled=None,
        y_labelled=None,
        subsample_pool=True,
    ):
        """Every check of one call, once; returns the checked :class:`Query`."""
        self._validate_params()
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
        X_pool = check_inputs_for(estimator, X_pool, "X_pool")
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
        X_lab, y_lab = self._labelled(learner, X_labelled, y_labelled)
        rng = check_random_state(self.random_state, "random_state")
        query = Query(
            estimator=estimator,
            X_pool=X_pool,
            n_instances=n_instances,
            groups=groups,
            rng=rng,
            X_labelled=X_lab,
            y_labelled=y_lab,
            n_pool=n_pool,
        )
        self._check_data(query)
        if subsample_pool and not self._subsample_in_groups:
            size = self._candidate_budget(n_instances)
            if size is not None and size < n_pool:
                positions = subsample(np.arange(n_pool), size, rng)
                query.positions = positions
                query.X_pool = take_rows(X_pool, positions)
                if groups is not None:
                    query.groups = groups[positions]
        return query

    def _check_data(self, query):
        """Checks a strategy adds for its own data (validation set, ...)."""

    def _candidate_budget(self, n_instances):
        """How many pool samples to score: ``max_candidates`` (at least the batch)."""
        if self.max_candidates is None:
            return None
        return max(int(self.max_candidates), n_instances)

    @staticmethod
    def _learner_estimator(learner):
        estimator = getattr(learner, "estimator", learner)
        split_estimator(estimator)  # TypeError / NotFittedError with a clear message
        return estimator

    def _labelled(self, learner, X_labelled, y_labelled):
        """The labelled set: given, or a modAL learner's; checked once."""
        if (X_labelled is None) != (y_labelled is None):
            given = "X_labelled" if y_labelled is None else "y_labelled"
            missing = "y_labelled" if y_labelled is None else "X_labelled"
            raise ValueError(
                f"{given} was given without {missing}: pass both (the labelled "
                "samples and their labels) or neither."
            )
        if X_labelled is None:
            X_labelled = getattr(learner, "X_training", None)
            y_labelled = getattr(learner, "y_training", None)
            if X_labelled is None or y_labelled is None:
                if self.requires_labelled:
                    raise ValueError(
                        f"{type(self).__name__} needs the labelled set: pass "
                        "X_labelled and y_labelled, or a modAL ActiveLearner holding "
                        "X_training and y_training (learner has no labelled data)."
                    )
                return None, None
        check_same_length(X_labelled=X_labelled, y_labelled=y_labelled)
        y = np.asarray(y_labelled)
        if y.ndim != 1:
            y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1:
            raise ValueError(
                f"y_labelled has shape {y.shape}: expected a 1-d array of labels."
            )
        return X_labelled, y

    def _check_settings(self):
        """Validate the settings (``run_fral`` calls this before any training).

        Kept for callers of the old name: the same as ``_validate_params()``.
        """
        self._validate_params()

    # ------------------------------------------------------ resumable state
    def state_dict(self):
        """The strategy's resumable state, to continue a run where it stopped.

        Stateless strategies return an empty dict; strategies that carry
        something from one query to the next (JIN's warm-started standard
        model) override this and :meth:`load_state_dict`.

        Returns
        -------
        state : dict
            Picklable (numbers, strings, numpy arrays, torch state dicts).
        """
        return {}

    def load_state_dict(self, state, *, estimator=None):
        """Restore a state returned by :meth:`state_dict` (a no-op here).

        Parameters
        ----------
        state : dict
            As returned by :meth:`state_dict` of a strategy with the same
            settings.
        estimator : estimator or None, default=None
            The learner's estimator, used as a template for models the state
            describes (e.g. JIN's standard model when ``standard_estimator``
            is None).

        Returns
        -------
        self : object
        """
        if state:
            raise ValueError(
                f"{type(self).__name__} keeps no state between queries, but "
                f"state has keys {sorted(state)}: expected an empty dict."
            )
        return self

    def _select(self, query):  # pragma: no cover
        raise NotImplementedError
