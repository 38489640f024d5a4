"""numpy-side checks of attack inputs: the array, the clip range, the norm.

Shared by the attacks (:mod:`skfral.nn._attacks`) and the robust net
(:mod:`skfral.nn._net`), which read the same settings under ``attack_*`` names.
"""

import math
import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..utils._validation import check_finite_array

__all__ = ["NORMS", "check_input_array", "check_clip_range", "default_step_size"]

NORMS = ("linf", "l2")


def check_input_array(X, name="X"):
    """``X`` as a finite float32 array of at least 2 dimensions, or a clear error.

    On top of :func:`~skfral.utils.check_finite_array` (NaN, inf, empty), it
    refuses sparse matrices, complex values and 1-d arrays with messages in
    scikit-learn's wording, and keeps the ``TypeError`` of an object array that
    holds non-numbers.
    """
    if sp.issparse(X):
        raise TypeError(
            f"{name} is a sparse matrix ({type(X).__name__}): sparse input is not "
            f"supported; convert it with {name}.toarray()."
        )
    if isinstance(X, pd.DataFrame):
        return check_finite_array(X, name, dtype=np.float32)
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} could not be converted to a numeric array: {exc}"
        ) from None
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except TypeError as exc:
            raise TypeError(
                f"{name} could not be converted to a numeric array: {exc}"
            ) from None
        except ValueError as exc:
            raise ValueError(
                f"{name} could not be converted to a numeric array: {exc}"
            ) from None
    if np.iscomplexobj(X):
        raise ValueError(
            f"Complex data not supported: {name} has complex values; pass real numbers."
        )
    if X.ndim == 1:
        raise ValueError(
            f"{name} is 1-d with shape {X.shape}: expected a 2-d array "
            f"(n_samples, n_features). Reshape your data either using "
            f"{name}.reshape(-1, 1) if it has a single feature "
            f"or {name}.reshape(1, -1) if it contains a single sample."
        )
    if X.ndim >= 2 and X.shape[0] and not np.prod(X.shape[1:]):
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
            "is required: "
            f"{name} has no feature."
        )
    return check_finite_array(X, name, dtype=np.float32)


def _as_bound(value, name, feature_shape, dtype=torch.float32):
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(
                f"{name} contains NaN or infinity: expected finite bounds."
            )
        return torch.tensor(float(value), dtype=dtype)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected None, a "
            "number or an array of numbers (one per feature)."
        ) from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity: expected finite bounds.")
    if arr.ndim == 0:
        return torch.tensor(float(arr), dtype=dtype)
    try:
        arr = np.broadcast_to(arr, feature_shape)
    except ValueError:
        raise ValueError(
            f"{name} has shape {arr.shape}, which does not broadcast to one sample's "
            f"shape {tuple(feature_shape)}: expected a scalar or a per-feature array."
        ) from None
    return torch.tensor(
        np.array(arr, dtype=np.float64), dtype=dtype
    )  # a copy: never the user's memory


def _exceeds(X, bound, sign, tol=1e-6):
    """Whether some value of ``X`` lies beyond ``bound`` (below: -1, above: 1)."""
    if bound.dim() == 0:  # a scalar bound: compare the extreme value only
        extreme = X.min() if sign < 0 else X.max()
        return bool(sign * (extreme - float(bound)) > tol)
    return bool((sign * (X - bound.numpy()) > tol).any())


def check_clip_range(X, clip_min, clip_max, names=("clip_min", "clip_max"), name="X"):
    """Refuse ``clip_min > clip_max`` and inputs outside ``[clip_min, clip_max]``.

    Clipping an input that starts outside the valid range would move it by more
    than ``eps`` (e.g. images in [0, 255] with ``clip_max=1``).
    """
    lo_name, hi_name = names
    if (
        clip_min is not None
        and clip_max is not None
        and bool((clip_min > clip_max).any())
    ):
        raise ValueError(
            f"{lo_name} is larger than {hi_name} for some feature: expected "
            f"{lo_name} <= {hi_name}."
        )
    X = np.asarray(X)
    below = clip_min is not None and _exceeds(X, clip_min, -1)
    above = clip_max is not None and _exceeds(X, clip_max, 1)
    if below or above:
        raise ValueError(
            f"{name} has values outside [{lo_name}, {hi_name}] "
            f"(min {float(X.min()):.4g}, max {float(X.max()):.4g}): scale the data "
            "to the valid range (e.g. images "
            f"to [0, 1]) or widen {lo_name}/{hi_name}."
        )


def default_step_size(eps, n_steps):
    """``eps / 4`` for multi-step attacks (FRAL.md defaults), ``eps`` for one step."""
    return eps if n_steps == 1 else eps / 4
