"""Input checks of the metrics: labels, groups, metric dicts, attacks, eps lists.

Every public function of :mod:`skfral.metrics` checks its inputs here, once, at
its entry; the messages name the argument, the value and what was expected.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score

from ..utils._validation import check_int, check_real, check_sensitive_features

__all__ = [
    "check_attack",
    "check_batch_size",
    "check_eps_list",
    "check_groups",
    "check_labels",
    "check_metrics",
]

DEFAULT_BATCH_SIZE = 512
"""Rows read, transformed, attacked and predicted at once when neither the caller
nor the attack says (see :func:`check_batch_size`)."""


def check_attack(attack, *, required=True, name="attack"):
    """Return ``attack`` if it has ``perturb(net, X, y)``; ``None`` when allowed."""
    if attack is None and not required:
        return None
    if not callable(getattr(attack, "perturb", None)):
        raise TypeError(
            f"{name}={attack!r} has no perturb(net, X, y) method: expected an attack "
            "object such as skfral.nn.PGD(eps=0.1, n_steps=20)."
        )
    return attack


def check_labels(y, n_samples=None, name="y"):
    """1-d labels as a numpy array: no missing value, one per sample."""
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


def check_groups(sensitive_features, n_samples, name="sensitive_features"):
    """Validate ``sensitive_features``; return what fairlearn's MetricFrame gets.

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


def check_metrics(metrics):
    """``None`` (accuracy), a callable or a non-empty dict of name -> callable."""
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


def check_batch_size(batch_size, attacks=()):
    """Rows per batch: ``batch_size``, else the first attack's, else 512."""
    if batch_size is not None:
        return check_int(batch_size, "batch_size", min_value=1)
    for attack in attacks:
        own = getattr(attack, "batch_size", None)
        if isinstance(own, Integral) and not isinstance(own, bool) and own > 0:
            return int(own)
    return DEFAULT_BATCH_SIZE


def check_eps_list(eps):
    """A tuple of distinct finite radii >= 0, in the order given (a number: one)."""
    if isinstance(eps, Real) and not isinstance(eps, bool):
        eps = [eps]
    try:
        if isinstance(eps, str | bytes | dict):
            raise TypeError
        values = list(eps)
    except TypeError:
        raise TypeError(
            f"eps={eps!r} has type {type(eps).__name__}: expected a number or a "
            "list of numbers >= 0, e.g. [0, 0.05, 0.1]."
        ) from None
    if not values:
        raise ValueError(
            "eps=[] is empty: expected at least one radius, e.g. [0, 0.1]."
        )
    checked = []
    for value in values:
        if isinstance(value, np.generic):
            value = value.item()
        checked.append(check_real(value, "eps", min_value=0))
    dup = sorted({e for e in checked if checked.count(e) > 1})
    if dup:
        raise ValueError(
            f"eps={values!r} repeats {dup}: expected distinct radii (each is one point "
            "of the curve)."
        )
    return tuple(checked)
