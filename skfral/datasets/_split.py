"""The FRAL splits: initial labelled set, unlabelled pool, validation and test."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._validation import (
    check_option,
    check_random_state,
    check_same_length,
    check_sensitive_features,
)
from ._common import largest_remainder
from ._images import LazyImageArray

__all__ = ["fral_split"]

_PARTS = ("initial", "val", "test", "pool")  # allocation priority order
_STRATIFY = ("group_class", "group", "class", None)


def _check_size(value, name, n_samples, *, min_value):
    """Turn an int count or a float fraction into a count."""
    if isinstance(value, bool) or not isinstance(value, (Integral, Real)):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected an int count "
            "or a float fraction in (0, 1)."
        )
    if isinstance(value, Integral):
        if value < min_value or value > n_samples:
            raise ValueError(
                f"{name}={value} is invalid: expected an int count in [{min_value}, "
                f"{n_samples}] (n_samples={n_samples}) or a float fraction."
            )
        return int(value)
    if not np.isfinite(value) or not (0 <= value < 1) or (min_value > 0 and value == 0):
        low = "(0" if min_value > 0 else "[0"
        raise ValueError(
            f"{name}={value} is invalid: expected a float fraction in {low}, 1) or an "
            "int count."
        )
    return int(np.ceil(value * n_samples))


def _factorize(values):
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types cannot be sorted
        codes, uniques = pd.factorize(values, sort=False)
    return codes, uniques


def _take(data, idx):
    """Rows ``idx`` of an array, DataFrame/Series, LazyImageArray or list."""
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.iloc[idx]
    if isinstance(data, LazyImageArray):
        return data.subset(idx)
    if isinstance(data, list):
        return [data[i] for i in idx]
    if hasattr(data, "shape") and hasattr(data, "__getitem__"):
        return data[idx]
    return np.asarray(data)[idx]


def _allocate(cell_counts, cell_group, sizes, *, cover_groups, cover_cells):
    """Number of samples of every cell that goes to every part.

    Three passes, parts in priority order (initial, val, test, pool): one
    sample of every group (rarest group first), then one of every uncovered
    cell (rarest first), then the rest of each part proportionally to the
    cell sizes (largest remainders, capped by what is left).
    """
    n_parts, n_cells = len(sizes), len(cell_counts)
    alloc = np.zeros((n_parts, n_cells), dtype=np.int64)
    left = cell_counts.astype(np.int64).copy()
    budget = np.asarray(sizes, dtype=np.int64).copy()
    order_cells = np.argsort(cell_counts, kind="stable")

    if cover_groups:
        groups = np.unique(cell_group)
        group_sizes = np.array([cell_counts[cell_group == g].sum() for g in groups])
        for g in groups[np.argsort(group_sizes, kind="stable")]:
            cells = np.flatnonzero(cell_group == g)
            for p in range(n_parts):
                if budget[p] == 0 or alloc[p, cells].sum() > 0:
                    continue
                available = cells[left[cells] > 0]
                if available.size == 0:
                    break
                c = available[np.argmax(left[available])]
                alloc[p, c] += 1
                left[c] -= 1
                budget[p] -= 1
    if cover_cells:
        for p in range(n_parts):
            for c in order_cells:
                if budget[p] > 0 and left[c] > 0 and alloc[p, c] == 0:
                    alloc[p, c] += 1
                    left[c] -= 1
                    budget[p] -= 1

    total = cell_counts.sum()
    for p in range(n_parts):
        if p == n_parts - 1:  # the pool takes everything left
            alloc[p] += left
            left[:] = 0
            break
        want = np.maximum(sizes[p] * cell_counts / total - alloc[p], 0)
        while budget[p] > 0:
            weights = np.where(left > 0, want, 0)
            if weights.sum() <= 0:
                weights = left.astype(float)
            extra = np.minimum(largest_remainder(budget[p], weights), left)
            if extra.sum() == 0:  # pragma: no cover - budget <= sum(left) holds
                break
            alloc[p] += extra
            left -= extra
            budget[p] -= extra.sum()
            want = np.maximum(want - extra, 0)
    return alloc


def fral_split(
    X,
    y,
    sensitive,
    *,
    initial_size=0.05,
    val_size=0.15,
    test_size=0.2,
    stratify="group_class",
    random_state=None,
):
    """Split data into the FRAL parts: initial labelled set, pool, validation, test.

    The split is stratified by group x class so that a tiny initial labelled
    set still contains every group: with group stratification, every part
    (initial, validation, test and pool) gets at least one sample of every
    group as long as it is large enough and the group has samples left; then
    one sample of every (group, class) cell as far as the part's size allows;
    the rest is allocated in proportion to the cell sizes. Which samples of a
    cell go where is random (``random_state``).

    Parameters
    ----------
    X : array-like, DataFrame or LazyImageArray of shape (n_samples, ...)
        Inputs. Parts are row subsets of the same type (``.iloc`` for pandas;
        a :class:`LazyImageArray` stays lazy).
    y : array-like or Series of shape (n_samples,)
        Labels (known for every sample: the oracle's answers).
    sensitive : array-like, Series or DataFrame of shape (n_samples,) or (n_samples, k)
        Group of every sample; several columns define intersectional groups.
    initial_size : int or float, default=0.05
        Size of the initial labelled set: a count, or a fraction of
        ``n_samples`` (rounded up). With group stratification it must be at
        least the number of groups.
    val_size : int or float, default=0.15
        Size of the labelled validation set (count or fraction; 0 for none).
    test_size : int or float, default=0.2
        Size of the test set (count or fraction; 0 for none).
    stratify : {"group_class", "group", "class"} or None, default="group_class"
        Cells to stratify on: group x class, groups only, classes only, or
        none (a plain random split).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling inside every cell.

    Returns
    -------
    split : Bunch
        ``X_initial, y_initial, s_initial``, ``X_pool, y_pool, s_pool``,
        ``X_val, y_val, s_val``, ``X_test, y_test, s_test`` (row subsets of
        the inputs, in their original order) and ``initial_idx``, ``pool_idx``,
        ``val_idx``, ``test_idx`` (sorted int64 positions into the inputs;
        together they partition ``range(n_samples)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.datasets import fral_split, make_fral_classification
    >>> X, y, s = make_fral_classification(n_samples=200, random_state=0)
    >>> split = fral_split(X, y, s, initial_size=4, val_size=0.2, test_size=0.2,
    ...                    random_state=0)
    >>> [len(split[f"{part}_idx"]) for part in ("initial", "pool", "val", "test")]
    [4, 116, 40, 40]
    >>> sorted(set(split.s_initial.tolist()))  # both groups in 4 labels
    [0, 1]
    """
    n_samples = check_same_length(X=X, y=y, sensitive=sensitive)
    if n_samples < 2:
        raise ValueError(
            f"X has {n_samples} sample(s): expected at least 2 (an initial set and a "
            "pool)."
        )
    check_option(stratify, "stratify", _STRATIFY)
    groups = check_sensitive_features(sensitive, n_samples, name="sensitive")
    y_values = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y, dtype=object)
    if y_values.ndim != 1:
        raise ValueError(
            f"y has shape {y_values.shape}: expected a 1-d array of labels."
        )
    if pd.isna(y_values).any():
        raise ValueError(
            "y contains missing values (NaN/None): every sample needs a label."
        )

    n_initial = _check_size(initial_size, "initial_size", n_samples, min_value=1)
    n_val = _check_size(val_size, "val_size", n_samples, min_value=0)
    n_test = _check_size(test_size, "test_size", n_samples, min_value=0)
    n_pool = n_samples - n_initial - n_val - n_test
    if n_pool < 1:
        raise ValueError(
            f"initial_size={initial_size!r}, val_size={val_size!r} and "
            f"test_size={test_size!r} ask for {n_initial} + {n_val} + {n_test} = "
            f"{n_initial + n_val + n_test} samples, leaving no unlabelled pool out of "
            f"n_samples={n_samples}: expected a total of at most {n_samples - 1}."
        )

    group_codes, group_labels = _factorize(groups)
    class_codes, _ = _factorize(y_values)
    by_group = stratify in ("group_class", "group")
    if by_group and n_initial < len(group_labels):
        raise ValueError(
            f"initial_size={initial_size!r} gives {n_initial} sample(s), fewer than "
            f"the {len(group_labels)} groups in sensitive: expected at least "
            f"{len(group_labels)} so that every group is in the initial labelled set."
        )

    if stratify == "group_class":
        keys = group_codes * (class_codes.max() + 1) + class_codes
    elif stratify == "group":
        keys = group_codes
    elif stratify == "class":
        keys = class_codes
    else:
        keys = np.zeros(n_samples, dtype=np.int64)
    cell_codes = np.unique(keys, return_inverse=True)[1].ravel()
    n_cells = cell_codes.max() + 1
    cell_counts = np.bincount(cell_codes, minlength=n_cells)
    cell_group = np.zeros(n_cells, dtype=np.int64)
    cell_group[cell_codes] = group_codes if by_group else 0

    sizes = [n_initial, n_val, n_test, n_pool]
    alloc = _allocate(
        cell_counts,
        cell_group,
        sizes,
        cover_groups=by_group,
        cover_cells=stratify == "group_class",
    )

    rng = check_random_state(random_state, "random_state")
    parts = {name: [] for name in _PARTS}
    for c in range(n_cells):
        members = rng.permutation(np.flatnonzero(cell_codes == c))
        bounds = np.cumsum(alloc[:, c])[:-1]
        for name, chunk in zip(_PARTS, np.split(members, bounds)):
            parts[name].append(chunk)

    out = Bunch()
    for name in ("initial", "pool", "val", "test"):
        idx = np.sort(np.concatenate(parts[name])).astype(np.int64)
        out[f"X_{name}"] = _take(X, idx)
        out[f"y_{name}"] = _take(y, idx)
        out[f"s_{name}"] = _take(sensitive, idx)
        out[f"{name}_idx"] = idx
    return out
