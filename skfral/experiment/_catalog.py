"""Named data sets of the benchmark and the default estimator for each.

A data set is either a name of :data:`DATASETS` (loaded from
:mod:`skfral.datasets`, nothing downloaded) or user data ``(X, y, s)``.
Tabular data get an :class:`~skfral.nn.MLP` trained with PGD-10 at
``eps=0.1`` (the data are standardised); images (``X.ndim > 2``, NCHW in
``[0, 1]``) get a :class:`~skfral.nn.SmallCNN` trained with PGD-10 at
``eps=8/255``, step ``2/255``, clipped to ``[0, 1]``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from ..nn import MLP, RobustNeuralNetClassifier, SmallCNN, final_net
from ..utils._validation import (
    check_same_length,
    check_sensitive_features,
    did_you_mean,
)

__all__ = [
    "DATASETS",
    "build_estimator",
    "dataset_names",
    "default_estimator",
    "load_dataset",
]


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one named data set."""

    loader: str
    kwargs: tuple
    description: str

    def load(self):
        from .. import datasets

        if self.loader == "make_fral_classification":
            X, y, s = datasets.make_fral_classification(**dict(self.kwargs))
            return X, y, s
        return getattr(datasets, self.loader)(return_X_y=True, **dict(self.kwargs))


DATASETS = {
    "synthetic": DatasetSpec(
        "make_fral_classification",
        (("n_samples", 3000), ("n_features", 10), ("random_state", 0)),
        "3,000 synthetic rows, 10 features, a rarer and harder minority group",
    ),
    "adult": DatasetSpec(
        "load_adult", (("sensitive", "sex"),), "UCI Adult, groups by sex"
    ),
    "adult_race": DatasetSpec(
        "load_adult", (("sensitive", "race"),), "UCI Adult, groups by race (5 groups)"
    ),
    "german": DatasetSpec(
        "load_german_credit", (("sensitive", "sex"),), "German credit, groups by sex"
    ),
    "german_age": DatasetSpec(
        "load_german_credit",
        (("sensitive", "age"),),
        "German credit, groups by age (<25)",
    ),
    "digits": DatasetSpec(
        "load_group_digits", (), "8x8 digits (NCHW) with a shifted minority group"
    ),
}
"""Data set names accepted by :func:`~skfral.experiment.run_fral`."""


def dataset_names():
    """The registered data set names, in registry order."""
    return list(DATASETS)


def unknown_name_message(kind, name, valid):
    """``"Unknown data set 'adlt' (did you mean 'adult'?): expected one of ..."``."""
    did = did_you_mean(name, valid)
    return f"Unknown {kind} {name!r}{did}: expected one of {', '.join(valid)}."


@lru_cache(maxsize=4)
def _load_cached(name):
    return DATASETS[name].load()


def load_dataset(name):
    """Load a registered data set as ``(X, y, s)`` numpy arrays.

    Parameters
    ----------
    name : str
        One of :func:`dataset_names`.

    Returns
    -------
    X, y, s : ndarray
        Features (float32; NCHW images for ``"digits"``), labels, groups.

    Examples
    --------
    >>> from skfral.experiment import load_dataset
    >>> X, y, s = load_dataset("synthetic")
    >>> X.shape, len(set(s.tolist()))
    ((3000, 10), 2)
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(unknown_name_message("data set", name, DATASETS))
    return tuple(np.array(a, copy=True) for a in _load_cached(name))


def _is_table(X):
    return isinstance(X, pd.DataFrame)


def _is_lazy(X):
    return hasattr(X, "subset") and not isinstance(X, np.ndarray | pd.DataFrame)


def check_user_data(name, data):
    """Validate user data: ``(X, y, s)`` or a Bunch with data, target, sensitive.

    ``X`` is a numeric array (tabular or NCHW images), a raw pandas DataFrame
    (numeric and categorical columns, missing values: the estimator's
    pipeline encodes and imputes it, see :func:`build_estimator`) or a lazy
    image array. ``y`` and ``s`` come back as numpy arrays (several sensitive
    columns as intersectional labels); nothing the user gave is modified.
    """
    if isinstance(data, Mapping) and {"data", "target", "sensitive"} <= set(data):
        data = (data["data"], data["target"], data["sensitive"])
    if not isinstance(data, tuple | list) or len(data) != 3:
        raise TypeError(
            f"datasets[{name!r}] has type {type(data).__name__}: expected a tuple "
            "(X, y, s) of inputs, labels and groups, or a Bunch with data, target and "
            "sensitive."
        )
    X, y, s = data
    if not (_is_table(X) or _is_lazy(X)):
        X = np.asarray(X)
    y = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else np.asarray(y)
    check_same_length(X=X, y=y, s=s)
    s = check_sensitive_features(s, len(y), name=f"datasets[{name!r}]: s")
    if _is_table(X):
        if X.shape[1] == 0:
            raise ValueError(
                f"datasets[{name!r}]: X is a DataFrame without columns: expected at "
                "least one feature column."
            )
    elif not _is_lazy(X):
        if X.ndim < 2:
            raise ValueError(
                f"datasets[{name!r}]: X has shape {X.shape}: expected (n_samples, "
                "n_features) or NCHW images."
            )
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(
                f"datasets[{name!r}]: X has dtype {X.dtype}: expected numeric features "
                "(encode categories first, or pass a pandas DataFrame: the default "
                "pipeline then encodes, imputes and scales it)."
            )
        if np.issubdtype(X.dtype, np.inexact) and not np.isfinite(X).all():
            n_bad = int((~np.isfinite(X)).reshape(len(X), -1).any(axis=1).sum())
            raise ValueError(
                f"datasets[{name!r}]: X contains NaN or infinity in {n_bad} "
                "sample(s): impute or drop them first (or pass a pandas DataFrame: "
                "the default pipeline then imputes missing values)."
            )
        X = X.astype(np.float32, copy=False)
    if y.ndim == 1 and len(y):
        missing = pd.isna(y)
        if missing.any():
            raise ValueError(
                f"datasets[{name!r}]: y has {int(missing.sum())} missing label(s) "
                f"(first at row {int(np.flatnonzero(missing)[0])}): expected a label "
                "for every sample."
            )
    try:
        n_classes = len(pd.unique(y.reshape(-1))) if y.ndim == 1 else None
    except TypeError:  # pragma: no cover - unhashable labels
        n_classes = None
    if n_classes is not None and len(y) and n_classes < 2:
        raise ValueError(
            f"datasets[{name!r}]: y has a single class {y[:1].tolist()}: expected at "
            "least 2 classes."
        )
    return X, y, s


def data_kind(X):
    """``"image"`` for NCHW arrays (``ndim > 2``), else ``"tabular"``."""
    return "image" if np.ndim(X) > 2 else "tabular"


def default_estimator(input_shape, n_classes, random_state=None, *, classes=None):
    """The benchmark's robust net for data of this input shape.

    Parameters
    ----------
    input_shape : int or tuple
        Number of features (tabular) or ``(C, H, W)`` (images).
    n_classes : int
        Number of classes.
    random_state : int or None, default=None
        Seed of the net.
    classes : array-like or None, default=None
        Every label of the data set (so that a labelled set missing a class
        still gives ``predict_proba`` columns for all of them).

    Returns
    -------
    net : RobustNeuralNetClassifier
        MLP(64, 64), PGD-AT with PGD-10 at ``eps=0.1`` for tabular data;
        SmallCNN, PGD-AT with PGD-10 at ``eps=8/255`` (step ``2/255``),
        clipped to ``[0, 1]`` for images. Adam, ``lr=0.01`` (tabular) or
        ``0.001`` (images), 30 epochs, batches of 64.

    Examples
    --------
    >>> from skfral.experiment import default_estimator
    >>> default_estimator(10, 2).module.__name__
    'MLP'
    >>> net = default_estimator((1, 8, 8), 10)
    >>> net.module.__name__, round(net.attack_eps * 255)
    ('SmallCNN', 8)
    """
    kwargs = {
        "classes": None if classes is None else list(np.asarray(classes).tolist())
    }
    shape = (input_shape,) if np.ndim(input_shape) == 0 else tuple(input_shape)
    if len(shape) == 1:
        return RobustNeuralNetClassifier(
            MLP,
            module__n_features=int(shape[0]),
            module__n_classes=int(n_classes),
            attack_eps=0.1,
            attack_n_steps=10,
            lr=0.01,
            random_state=random_state,
            **kwargs,
        )
    return RobustNeuralNetClassifier(
        SmallCNN,
        module__in_channels=int(shape[0]),
        module__n_classes=int(n_classes),
        attack_eps=8 / 255,
        attack_step_size=2 / 255,
        attack_n_steps=10,
        attack_clip_min=0.0,
        attack_clip_max=1.0,
        lr=0.001,
        random_state=random_state,
        **kwargs,
    )


def build_estimator(estimator, X, classes, random_state, estimator_params=None):
    """An unfitted estimator for one cell.

    Parameters
    ----------
    estimator : None, callable or estimator
        ``None``: :func:`default_estimator`; a callable
        ``(n_features_or_shape, n_classes, random_state) -> estimator``; or an
        estimator (a skorch net or a Pipeline ending in one) that is cloned.
    X : ndarray, DataFrame or lazy image array
        The data (only its shape, and a DataFrame's columns, are used). For a
        raw DataFrame, anything but a Pipeline is preceded by
        :func:`skfral.datasets.make_tabular_preprocessor` ``(X)`` (impute,
        one-hot encode, standardise), which the learner fits on the labelled
        set at every round; a Pipeline is used as given.
    classes : ndarray
        Every label of the data set; set as the final net's ``classes`` when
        that is ``None``.
    random_state : int
        Seed given to the callable and set on the final net.
    estimator_params : dict or None
        ``set_params`` of the *final net* (e.g. ``{"max_epochs": 5}``).

    Returns
    -------
    estimator : estimator
        A new, unfitted estimator.
    """
    preprocessor = None
    if isinstance(X, pd.DataFrame) and not isinstance(estimator, Pipeline):
        from ..datasets import make_tabular_preprocessor

        preprocessor = make_tabular_preprocessor(X)
        # The width after one-hot encoding: categories come from every row's
        # features (no label, no statistic), so it is the same at every round.
        shape = clone(preprocessor).fit(X.iloc[:1]).transform(X.iloc[:1]).shape[1]
    else:
        shape = X.shape[1] if len(X.shape) == 2 else tuple(X.shape[1:])
    if estimator is None:
        est = default_estimator(shape, len(classes), random_state, classes=classes)
    elif isinstance(estimator, BaseEstimator):
        est = clone(estimator)
    elif callable(estimator):
        est = estimator(shape, len(classes), random_state)
        if not isinstance(est, BaseEstimator):
            raise TypeError(
                f"estimator callable returned {type(est).__name__}: expected a "
                "scikit-learn estimator (a skfral RobustNeuralNetClassifier or a "
                "Pipeline ending in one)."
            )
    else:
        raise TypeError(
            f"estimator={estimator!r} has type {type(estimator).__name__}: expected "
            "None, an estimator to clone, or a callable (n_features_or_shape, "
            "n_classes, random_state) -> estimator."
        )
    net = final_net(est)
    if not hasattr(net, "module") or not hasattr(net, "classes"):
        raise TypeError(
            f"estimator ends in {type(net).__name__}: expected a skorch classifier "
            "such as skfral.nn.RobustNeuralNetClassifier (or a Pipeline ending in one)."
        )
    params = dict(estimator_params or {})
    if net.classes is None:
        params.setdefault("classes", list(np.asarray(classes).tolist()))
    if "random_state" in net.get_params(deep=False):
        params["random_state"] = random_state
    if params:
        net.set_params(**params)
    if preprocessor is not None and not isinstance(est, Pipeline):
        est = Pipeline([("preprocess", preprocessor), ("net", est)])
    return est
