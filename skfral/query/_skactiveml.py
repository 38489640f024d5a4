"""JIN and every baseline as scikit-activeml query strategies.

scikit-activeml (an optional extra: ``pip install "skfral[skactiveml]"``) is
imported only when :func:`to_skactiveml` is called; its query-strategy class is
built then, once, and is reachable as
``skfral.query._skactiveml.SkactivemlQueryStrategy`` (for pickling and
``clone``).
"""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..nn import split_estimator
from ..utils._validation import check_bool, check_sensitive_features, take_rows
from ._base import BaseQueryStrategy

__all__ = ["to_skactiveml"]

_CLASS = {}
_INSTALL = 'pip install "skfral[skactiveml]" (or "scikit-activeml>=1.0")'


def _skactiveml():
    try:
        import skactiveml.base as base
        import skactiveml.utils as utils
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            f"to_skactiveml needs scikit-activeml, which is not installed ({exc}). "
            f"Install it with: {_INSTALL}"
        ) from None
    return base, utils


def _wrapper_estimator(clf):
    """The estimator a scikit-activeml wrapper holds, or None for a bare one."""
    base, _ = _skactiveml()
    if isinstance(clf, base.SkactivemlClassifier):
        if hasattr(clf, "neural_net_param_dict") or not hasattr(clf, "estimator"):
            raise TypeError(
                f"clf={type(clf).__name__} is not supported: it trains its own "
                "skorch NeuralNet without adversarial training. Wrap a skfral net "
                "instead: SklearnClassifier(RobustNeuralNetClassifier(...), "
                "classes=...)."
            )
        return clf.estimator
    return None


def _check_clf(clf):
    """TypeError unless ``clf`` is (or wraps) a skfral robust net or a Pipeline ending in one."""
    inner = _wrapper_estimator(clf)
    target = clf if inner is None else inner
    net = target.steps[-1][1] if isinstance(target, Pipeline) else target
    try:
        split_estimator(net, require_fitted=False)
    except TypeError:
        raise TypeError(
            f"clf={clf!r} is not supported: expected a skfral "
            "RobustNeuralNetClassifier, a Pipeline ending in one, or scikit-activeml's "
            "SklearnClassifier wrapping one."
        ) from None
    return inner is not None


def _fitted_estimator(clf, X, y, labelled, *, fit_clf, wrapped):
    """The fitted robust model inside ``clf`` (``clf`` itself is never changed)."""
    if fit_clf:
        if wrapped:
            return clone(clf).fit(X, y).estimator_
        return clone(clf).fit(take_rows(X, labelled), y[labelled])
    estimator = clf.estimator_ if wrapped else clf
    split_estimator(estimator)  # NotFittedError with a clear message
    return estimator


def _is_numeric_table(X):
    return all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes) and not any(
        pd.api.types.is_bool_dtype(t) for t in X.dtypes
    )


def _raw_table(X, clf, candidates):
    """``X`` itself when it is a DataFrame that ``clf``'s Pipeline transforms.

    A DataFrame reaches a Pipeline whose first steps encode it (e.g.
    :func:`skfral.datasets.make_tabular_preprocessor`, which selects columns by
    name and encodes strings) as given, row by position; scikit-activeml would
    turn it into a float array first, which fails on text columns. ``None``
    when ``X`` is not a DataFrame. A DataFrame with non-numeric columns and a
    ``clf`` that cannot encode them is refused at once, naming the fix.
    """
    if not isinstance(X, pd.DataFrame):
        return None
    inner = _wrapper_estimator(clf)
    target = clf if inner is None else inner
    transforms = isinstance(target, Pipeline) and len(target.steps) > 1
    if transforms and inner is None:
        if candidates is not None and np.ndim(candidates) > 1:
            if not isinstance(candidates, pd.DataFrame):
                raise TypeError(
                    f"candidates has type {type(candidates).__name__} while X is a "
                    "DataFrame: give candidate samples as a DataFrame with X's "
                    "columns, or candidate indices into X."
                )
        return X.reset_index(drop=True)
    if _is_numeric_table(X):
        return None  # numbers: scikit-activeml's float array is what the net needs
    text = [str(c) for c, t in X.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
    if inner is not None:
        problem = (
            f"scikit-activeml's {type(clf).__name__} turns X into a float array "
            "before its estimator sees it"
        )
        fix = "pass the Pipeline itself as clf (clf=make_pipeline(...), unwrapped)"
    else:
        problem = f"clf={type(target).__name__} has no step that encodes text"
        fix = (
            "put an encoder in front of the net: clf=make_pipeline("
            "skfral.datasets.make_tabular_preprocessor(X), net)"
        )
    raise ValueError(
        f"X is a DataFrame with non-numeric column(s) {text[:5]} and {problem}: {fix}."
    )


def _build_class():
    base, utils = _skactiveml()

    class SkactivemlQueryStrategy(base.SingleAnnotatorPoolQueryStrategy):
        """A skfral query strategy behind scikit-activeml's pool interface.

        Built by :func:`skfral.query.to_skactiveml`.

        Parameters
        ----------
        strategy : BaseQueryStrategy
            The skfral strategy that chooses the samples (JIN, a baseline).
        missing_label : scalar, str, np.nan or None, default=np.nan
            The value marking unlabelled samples in ``y``.
        random_state : int, RandomState instance or None, default=None
            ``None`` uses ``strategy`` itself, with its own ``random_state``
            and the state it carries between queries (JIN's warm-started
            standard model). Otherwise each query uses a clone of ``strategy``
            seeded from this, the scikit-activeml way (reproducible calls,
            no state carried over).
        """

        def __init__(self, strategy=None, missing_label=np.nan, random_state=None):
            super().__init__(missing_label=missing_label, random_state=random_state)
            self.strategy = strategy

        def query(
            self,
            X,
            y,
            clf,
            *,
            sensitive_features=None,
            fit_clf=True,
            candidates=None,
            batch_size=1,
            return_utilities=False,
        ):
            """Choose the samples to label next.

            Parameters
            ----------
            X : array-like of shape (n_samples, ...)
                Every sample, labelled and unlabelled.
            y : array-like of shape (n_samples,)
                Labels, ``missing_label`` for the unlabelled samples.
            clf : estimator
                A skfral ``RobustNeuralNetClassifier``, a Pipeline ending in
                one, or scikit-activeml's ``SklearnClassifier`` wrapping one.
            sensitive_features : array-like of shape (n_samples,) or None, \
default=None
                The group of every row of ``X`` (required by the fair
                strategies). With candidate *samples*, give
                ``n_samples + n_candidates`` groups: ``X``'s, then the
                candidates'.
            fit_clf : bool, default=True
                Fit a clone of ``clf`` on the labelled samples first;
                ``False`` uses ``clf`` as fitted. ``clf`` is never modified.
            candidates : None, array-like of int or array-like of samples, \
default=None
                ``None``: the unlabelled samples of ``X``; indices into ``X``;
                or samples (then the returned indices refer to them).
            batch_size : int, default=1
                Number of samples to choose.
            return_utilities : bool, default=False
                Also return the utilities.

            Returns
            -------
            query_indices : ndarray of int of shape (batch_size,)
                Indices into ``X`` (``candidates`` None or indices) or into
                ``candidates`` (samples), in the order chosen.
            utilities : ndarray of shape (batch_size, n_samples) or \
(batch_size, n_candidates)
                Only with ``return_utilities=True``. Row ``k`` ranks the batch
                from step ``k`` on: the sample chosen at step ``j >= k`` has
                utility ``batch_size - j``, candidates not chosen 0, samples
                chosen before step ``k``, labelled samples and non-candidates
                NaN (so ``argmax`` of row ``k`` is the ``k``-th pick).
            """
            raw = _raw_table(X, clf, candidates)
            raw_candidates = candidates
            check_X = {"allow_nd": True, "ensure_all_finite": "allow-nan"}
            if raw is not None:
                check_X["dtype"] = None  # text columns stay text
            X, y, candidates, batch_size, return_utilities = self._validate_data(
                X,
                y,
                candidates,
                batch_size,
                return_utilities,
                reset=True,
                check_X_dict=check_X,
            )
            X_cand, mapping = self._transform_candidates(candidates, X, y)
            if raw is not None:  # the table itself, by position
                X = raw
                X_cand = (
                    raw_candidates.reset_index(drop=True)
                    if mapping is None
                    else raw.iloc[mapping].reset_index(drop=True)
                )
            fit_clf = check_bool(fit_clf, "fit_clf")
            if not isinstance(self.strategy, BaseQueryStrategy):
                raise TypeError(
                    f"strategy={self.strategy!r} is not a skfral query strategy: "
                    "expected e.g. skfral.query.JINQueryStrategy(...)."
                )
            wrapped = _check_clf(clf)
            if wrapped:
                utils.check_equal_missing_label(clf.missing_label, self.missing_label_)
            labelled = utils.is_labeled(y, missing_label=self.missing_label_)
            estimator = _fitted_estimator(
                clf, X, y, labelled, fit_clf=fit_clf, wrapped=wrapped
            )
            groups = None
            if sensitive_features is not None:
                if mapping is not None:
                    groups = check_sensitive_features(
                        sensitive_features, len(X), "sensitive_features"
                    )[mapping]
                else:
                    try:
                        groups = check_sensitive_features(
                            sensitive_features,
                            len(X) + len(X_cand),
                            "sensitive_features",
                        )[len(X) :]
                    except ValueError as exc:
                        raise ValueError(
                            f"{exc} With candidate samples, sensitive_features holds "
                            f"the groups of X's {len(X)} rows, then of the "
                            f"{len(X_cand)} candidates."
                        ) from None
            strategy = self.strategy
            if self.random_state is not None:
                seed = int(self.random_state_.randint(0, 2**31 - 1))
                strategy = clone(strategy).set_params(random_state=seed)
            picks, _ = strategy(
                estimator,
                X_cand,
                n_instances=batch_size,
                sensitive_features=groups,
                X_labelled=take_rows(X, labelled),
                y_labelled=y[labelled],
            )
            columns = np.arange(len(X_cand)) if mapping is None else mapping
            query_indices = columns[picks]
            if not return_utilities:
                return query_indices
            n_cols = len(X_cand) if mapping is None else len(X)
            utilities = np.full((batch_size, n_cols), np.nan)
            for k in range(batch_size):
                utilities[k, columns] = 0.0
                utilities[k, query_indices[:k]] = np.nan
                utilities[k, query_indices[k:]] = batch_size - np.arange(k, batch_size)
            return query_indices, utilities

    SkactivemlQueryStrategy.__module__ = __name__
    SkactivemlQueryStrategy.__qualname__ = "SkactivemlQueryStrategy"
    return SkactivemlQueryStrategy


def _query_class():
    if "cls" not in _CLASS:
        _CLASS["cls"] = _build_class()
    return _CLASS["cls"]


def __getattr__(name):  # the class, built on first use (pickle, clone)
    if name == "SkactivemlQueryStrategy":
        return _query_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_skactiveml(strategy, *, missing_label=np.nan, random_state=None):
    """Wrap a skfral strategy as a scikit-activeml ``SingleAnnotatorPoolQueryStrategy``.

    The result's ``query(X, y, clf, *, sensitive_features=None, fit_clf=True,
    candidates=None, batch_size=1, return_utilities=False)`` follows
    scikit-activeml's conventions: ``y`` holds ``missing_label`` for the
    unlabelled samples, the returned indices refer to ``X`` (or to
    ``candidates`` when candidate *samples* are given), utilities are NaN for
    labelled samples, and ``clf`` is fitted (a clone) on the labelled samples
    unless ``fit_clf=False``. ``sensitive_features`` gives the group of every
    row of ``X``. ``clf`` may be a skfral robust net, a Pipeline ending in one,
    or scikit-activeml's ``SklearnClassifier`` wrapping one (scikit-activeml's
    ``SkorchClassifier`` trains a plain skorch net without adversarial
    training and is refused). ``X`` may be a raw pandas DataFrame (text
    columns, missing values) when ``clf`` is a Pipeline whose first steps
    encode it, e.g. ``make_pipeline(skfral.datasets.make_tabular_preprocessor(X),
    net)``: the table reaches the Pipeline as given, rows taken by position.

    Parameters
    ----------
    strategy : BaseQueryStrategy
        JIN or any skfral baseline, with its settings (validation set, ...).
    missing_label : scalar, str, np.nan or None, default=np.nan
        The value marking unlabelled samples in ``y``.
    random_state : int, RandomState instance or None, default=None
        ``None`` queries with ``strategy`` itself (its own ``random_state``;
        JIN keeps warm-starting its standard model across queries). Otherwise
        every query uses a clone of ``strategy`` seeded from this, as
        scikit-activeml's strategies are seeded.

    Returns
    -------
    query_strategy : skactiveml.base.SingleAnnotatorPoolQueryStrategy
        A scikit-activeml query strategy.

    See Also
    --------
    JINQueryStrategy : The fair robust strategy.
    BaseQueryStrategy : The contract every skfral strategy follows.

    Examples
    --------
    >>> import numpy as np
    >>> from skactiveml.utils import MISSING_LABEL
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> from skfral.query import EntropySampling, to_skactiveml
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 2).astype("float32"); y_true = (X[:, 0] > 0).astype(float)
    >>> y = np.full(60, MISSING_LABEL); y[:10] = y_true[:10]
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=2, max_epochs=1,
    ...                                 attack_n_steps=1, random_state=0)
    >>> qs = to_skactiveml(EntropySampling(random_state=0))
    >>> idx = qs.query(X, y, net, batch_size=3)
    >>> bool(np.isnan(y[idx]).all()), len(idx)
    (True, 3)
    """
    cls = _query_class()
    return cls(
        strategy=strategy, missing_label=missing_label, random_state=random_state
    )
