"""The FRAL splits: initial labelled set, unlabelled pool, validation and test."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._docstring import Substitution, _shared_docs
from ..utils._validation import (
    check_bool,
    check_int,
    check_option,
    check_random_state,
    check_same_length,
    check_sensitive_features,
    did_you_mean,
    largest_remainder,
    take_rows,
)

__all__ = ["MERGED_GROUP", "SmallGroupWarning", "fral_split", "merge_small_groups"]

MERGED_GROUP = "merged_small_groups"
"""The name of the group that ``min_group_size`` merges small groups into."""

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


class SmallGroupWarning(UserWarning):
    """A group has too few test or validation rows for its numbers to mean much.

    Issued by :func:`~skfral.experiment.run_fral` and ``skfral run`` when a
    group has fewer than 30 test rows or 20 validation rows in the split of
    the first seed: its worst-group accuracy is then mostly noise, and such a
    group often becomes the "worst group" by chance. The way out is
    ``min_group_size`` (``--min-group-size``), which merges the groups
    smaller than that in the whole data set into one group,
    ``"merged_small_groups"`` (see :func:`merge_small_groups`).

    Examples
    --------
    >>> import warnings
    >>> from skfral.datasets import SmallGroupWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SmallGroupWarning)  # silence them
    ...     warnings.warn("group 'x': 8 test rows", SmallGroupWarning)
    >>> issubclass(SmallGroupWarning, UserWarning)
    True
    """


def merge_small_groups(sensitive, min_group_size):
    """Merge the groups with fewer than ``min_group_size`` rows into one group.

    Groups are counted over the whole data set (before any split); the
    groups with fewer rows than ``min_group_size`` get the label
    ``"merged_small_groups"`` (:data:`MERGED_GROUP`), the others keep theirs.
    The input is never modified: the labels are built in a copy.

    Parameters
    ----------
    sensitive : array-like, Series or DataFrame of shape (n_samples,) or (n_samples, k)
        Group of every sample; several columns are intersectional groups
        (labels joined with ``","``).
    min_group_size : int
        Groups with fewer rows than this are merged (>= 1; 1 merges
        nothing).

    Returns
    -------
    groups : ndarray, Series or the input
        The input itself when no group is merged; otherwise the group labels
        with the small groups merged, 1-d: a Series (same index; name: the
        column name, or the column names joined with ``","``) for pandas
        input, an object array otherwise.
    merged : dict
        ``{group label: row count}`` of the merged groups, smallest first
        (empty when none is merged).

    Raises
    ------
    ValueError
        When a group is already named ``"merged_small_groups"``, or when the
        merge would leave a single group (nothing left to compare).

    Examples
    --------
    >>> from skfral.datasets import merge_small_groups
    >>> groups, merged = merge_small_groups(["a"] * 5 + ["b"] * 2 + ["c"], 3)
    >>> groups.tolist()[4:]
    ['a', 'merged_small_groups', 'merged_small_groups', 'merged_small_groups']
    >>> merged
    {'c': 1, 'b': 2}
    """
    n_samples = len(sensitive)
    min_group_size = check_int(min_group_size, "min_group_size", min_value=1)
    labels = check_sensitive_features(sensitive, n_samples, name="sensitive")
    counts = pd.Series(labels, dtype=object).value_counts(sort=False)
    if MERGED_GROUP in set(counts.index):
        raise ValueError(
            f"sensitive already has a group named {MERGED_GROUP!r}: min_group_size "
            "merges small groups under that name; rename that group first."
        )
    small = counts[counts < min_group_size]
    if small.empty:
        return sensitive, {}
    if len(counts) - len(small) + 1 < 2:
        listed = ", ".join(f"{k!r} ({int(v)})" for k, v in counts.items())
        raise ValueError(
            f"min_group_size={min_group_size} would merge every group ({listed}) into "
            "one, leaving nothing to compare: expected a smaller min_group_size."
        )
    order = sorted(small.items(), key=lambda kv: (kv[1], str(kv[0])))
    merged = {k: int(v) for k, v in order}
    out = np.array(labels, dtype=object)  # a copy: the user's array is untouched
    out[pd.Series(labels, dtype=object).isin(list(merged)).to_numpy()] = MERGED_GROUP
    if isinstance(sensitive, pd.DataFrame):
        name = ",".join(str(c) for c in sensitive.columns)
        return pd.Series(out, index=sensitive.index, name=name, dtype=object), merged
    if isinstance(sensitive, pd.Series):
        return (
            pd.Series(out, index=sensitive.index, name=sensitive.name, dtype=object),
            merged,
        )
    return out, merged


def _factorize(values):
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types cannot be sorted
        codes, uniques = pd.factorize(values, sort=False)
    return codes, uniques


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


def _column_names(value, columns, n_rows):
    """``value`` as a list of column names of ``columns``, or None if it is data.

    A str is a column name. A list of str is a list of column names when all
    are columns, or when it cannot be one label per row (its length is not
    ``n_rows``); else it is read as labels.
    """
    if isinstance(value, str):
        return [value]
    if not (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, str) for v in value)
    ):
        return None
    names = list(value)
    if all(n in columns for n in names) or len(names) != n_rows:
        return names
    return None


def _check_columns(names, columns, arg):
    for name in names:
        if name not in columns:
            listed = ", ".join(repr(c) for c in columns[:20])
            more = f" and {len(columns) - 20} more" if len(columns) > 20 else ""
            raise ValueError(
                f"{arg}={name!r} is not a column of X{did_you_mean(name, columns)}: "
                f"expected one of {listed}{more}."
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{arg}={names!r} names a column twice.")


def _resolve_columns(X, y, sensitive, target):
    """Turn the column-name form into arrays: ``(X, y, sensitive)``."""
    if target is not None:
        if y is not None:
            raise TypeError(
                f"fral_split got both y (positional) and target={target!r}: pass the "
                "labels as y, or their column name as target, not both."
            )
        if not isinstance(target, str):
            raise TypeError(
                f"target={target!r} has type {type(target).__name__}: expected the name "
                "of the label column of the DataFrame X."
            )
        y = target
    y_is_name = isinstance(y, str)
    if not isinstance(X, pd.DataFrame):
        for arg, value in (("y", y), ("sensitive", sensitive)):
            if isinstance(value, str):
                raise TypeError(
                    f"{arg}={value!r} is a column name, but X is a "
                    f"{type(X).__name__}, not a DataFrame: pass the {arg} values "
                    "themselves, or X as a pandas DataFrame."
                )
        return X, y, sensitive, []
    columns = list(X.columns)
    used = []
    if y_is_name:
        _check_columns([y], columns, "target" if target is not None else "y")
        used.append(y)
        y = X[y]
    s_names = _column_names(sensitive, columns, len(X))
    if s_names is not None:
        _check_columns(s_names, columns, "sensitive")
        clash = [n for n in s_names if n in used]
        if clash:
            raise ValueError(
                f"sensitive={sensitive!r} and the label column {clash[0]!r} are the "
                "same column: expected different ones."
            )
        used.extend(s_names)
        sensitive = X[s_names[0]] if len(s_names) == 1 else X[s_names]
    if used:
        X = X.drop(columns=used)
    return X, y, sensitive, used


def _as_positional(part, keep_index):
    """Pandas parts get a fresh RangeIndex; everything else is returned as is."""
    if isinstance(part, pd.DataFrame | pd.Series) and not keep_index:
        return part.reset_index(drop=True)
    return part


@Substitution(random_state=_shared_docs["random_state"])
def fral_split(
    X,
    y=None,
    sensitive=None,
    *,
    target=None,
    initial_size=0.05,
    val_size=0.15,
    test_size=0.2,
    stratify="group_class",
    reset_index=True,
    min_group_size=None,
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

    Two forms: arrays (``fral_split(X, y, s)``), or a DataFrame and column
    names (``fral_split(df, target="approved", sensitive="race")``, or
    ``fral_split(df, "approved", ["race", "sex"])``). In the column-name
    form the label and sensitive columns are taken out of ``X``: the parts'
    ``X`` hold the other columns only (the model does not see the group);
    ``y`` parts are Series and ``s`` parts a Series (one column) or a
    DataFrame (several columns: intersectional groups).

    Parameters
    ----------
    X : array-like, DataFrame or LazyImageArray of shape (n_samples, ...)
        Inputs. Parts are row subsets of the same type (a
        :class:`LazyImageArray` stays lazy). Rows are always taken by
        position, whatever the index of a DataFrame.
    y : array-like, Series or str of shape (n_samples,), default=None
        Labels (known for every sample: the oracle's answers), or the name of
        the label column of the DataFrame ``X``.
    sensitive : array-like, Series, DataFrame, str or list of str
        Group of every sample, of shape (n_samples,) or (n_samples, k);
        several columns define intersectional groups. With a DataFrame ``X``,
        a column name or a list of column names of ``X``. Required.
    target : str or None, default=None
        Name of the label column of the DataFrame ``X`` (the keyword form of
        a string ``y``; give one or the other).
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
    reset_index : bool, default=True
        If True, pandas parts get a fresh ``RangeIndex`` (0, 1, ...), so that
        ``split.s_pool[i]`` and ``split.X_pool.iloc[i]`` name the same sample
        as the positions a query strategy returns. The rows' original index
        labels stay available as ``X.index[split.pool_idx]``. If False, pandas
        parts keep the input's index (label-based indexing then differs from
        positional indexing). Numpy inputs give numpy parts either way.
    min_group_size : int or None, default=None
        Merge the groups with fewer rows than this **in the whole data set**
        (counted before splitting) into one group named
        ``"merged_small_groups"``, before stratifying (see
        :func:`merge_small_groups`): the ``s`` parts then hold the merged
        labels (1-d; a copy, the input is untouched) and ``merged_groups``
        says which groups were merged. ``None`` merges nothing.
    {random_state}

    Returns
    -------
    split : Bunch
        ``X_initial, y_initial, s_initial``, ``X_pool, y_pool, s_pool``,
        ``X_val, y_val, s_val``, ``X_test, y_test, s_test`` (row subsets of
        the inputs, in their original order) and ``initial_idx``, ``pool_idx``,
        ``val_idx``, ``test_idx`` (sorted int64 positions into the inputs;
        together they partition ``range(n_samples)``), and ``merged_groups``
        (``{{group: row count}}`` of the groups merged by ``min_group_size``;
        empty when none).

    See Also
    --------
    load_table : Read a CSV or Parquet table into ``X, y, s``.
    merge_small_groups : What ``min_group_size`` does to the groups.
    make_tabular_preprocessor : The preprocessing for a raw table's ``X``.

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

    The column-name form, on a DataFrame:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": np.arange(8.0), "race": list("aabbaabb"),
    ...                    "approved": [0, 1] * 4})
    >>> parts = fral_split(df, target="approved", sensitive="race",
    ...                    initial_size=2, val_size=0, test_size=2, random_state=0)
    >>> list(parts.X_pool.columns), parts.s_pool.name, parts.y_pool.name
    (['x'], 'race', 'approved')
    """
    X, y, sensitive, _ = _resolve_columns(X, y, sensitive, target)
    if y is None:
        raise TypeError(
            "fral_split needs the labels: pass y (an array, or the label column's "
            "name when X is a DataFrame) or target='column'."
        )
    if sensitive is None:
        raise TypeError(
            "fral_split needs sensitive: the group of every sample (an array, or a "
            "column name or list of column names when X is a DataFrame)."
        )
    reset_index = check_bool(reset_index, "reset_index")
    n_samples = check_same_length(X=X, y=y, sensitive=sensitive)
    if n_samples < 2:
        raise ValueError(
            f"X has {n_samples} sample(s): expected at least 2 (an initial set and a "
            "pool)."
        )
    check_option(stratify, "stratify", _STRATIFY)
    merged = {}
    if min_group_size is not None:
        sensitive, merged = merge_small_groups(sensitive, min_group_size)
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
        for key, data in (("X", X), ("y", y), ("s", sensitive)):
            part = take_rows(data, idx)
            out[f"{key}_{name}"] = _as_positional(part, not reset_index)
        out[f"{name}_idx"] = idx
    out["merged_groups"] = merged
    return out
