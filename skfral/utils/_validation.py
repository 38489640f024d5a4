"""Input validation shared by every subpackage (numpy only, no torch)."""

from numbers import Integral, Real

import numpy as np
import pandas as pd

__all__ = [
    "check_bool",
    "check_finite_array",
    "check_int",
    "check_real",
    "check_option",
    "check_random_state",
    "check_sensitive_features",
    "check_same_length",
    "did_you_mean",
    "largest_remainder",
    "num_samples",
    "take_rows",
    "unknown_option_error",
]


def check_int(value, name, *, min_value=None, max_value=None):
    """Return ``value`` as an int, or raise a message naming ``name``.

    Parameters
    ----------
    value : int
        The value to check.
    name : str
        Argument name used in error messages.
    min_value, max_value : int or None, default=None
        Inclusive bounds; ``None`` leaves that side open.

    Examples
    --------
    >>> check_int(3, "n_steps", min_value=1)
    3
    >>> check_int(0, "n_steps", min_value=1)
    Traceback (most recent call last):
    ...
    ValueError: n_steps=0 is invalid: expected an integer >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected an integer."
        )
    value = int(value)
    if min_value is not None and value < min_value:
        bound = (
            f">= {min_value}" if max_value is None else f"in [{min_value}, {max_value}]"
        )
        raise ValueError(f"{name}={value} is invalid: expected an integer {bound}.")
    if max_value is not None and value > max_value:
        bound = (
            f"<= {max_value}" if min_value is None else f"in [{min_value}, {max_value}]"
        )
        raise ValueError(f"{name}={value} is invalid: expected an integer {bound}.")
    return value


def check_real(value, name, *, min_value=None, max_value=None, include_min=True):
    """Return ``value`` as a finite float, or raise a message naming ``name``.

    Parameters
    ----------
    value : float
        The value to check.
    name : str
        Argument name used in error messages.
    min_value, max_value : float or None, default=None
        Bounds; ``None`` leaves that side open.
    include_min : bool, default=True
        Whether ``min_value`` itself is allowed.

    Examples
    --------
    >>> check_real(0.1, "eps", min_value=0)
    0.1
    >>> check_real(-1, "eps", min_value=0)
    Traceback (most recent call last):
    ...
    ValueError: eps=-1 is invalid: expected a finite number >= 0.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected a number."
        )
    if not np.isfinite(value):
        raise ValueError(f"{name}={value} is invalid: expected a finite number.")
    if min_value is not None:
        bad = value < min_value if include_min else value <= min_value
        if bad:
            op = ">=" if include_min else ">"
            raise ValueError(
                f"{name}={value} is invalid: expected a finite number {op} {min_value}."
            )
    if max_value is not None and value > max_value:
        raise ValueError(
            f"{name}={value} is invalid: expected a finite number <= {max_value}."
        )
    return float(value)


def check_random_state(random_state, name="random_state"):
    """:func:`sklearn.utils.check_random_state` with a message naming ``name``.

    Examples
    --------
    >>> check_random_state(0).randint(10) == check_random_state(0).randint(10)
    True
    >>> check_random_state("0")
    Traceback (most recent call last):
    ...
    TypeError: random_state='0' has type str: expected None, an int or a RandomState.
    """
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return np.random.mtrand._rand if random_state is None else random_state
    if isinstance(random_state, bool) or not isinstance(random_state, Integral):
        raise TypeError(
            f"{name}={random_state!r} has type {type(random_state).__name__}: "
            "expected None, an int or a RandomState."
        )
    seed = check_int(random_state, name, min_value=0, max_value=2**32 - 1)
    return np.random.RandomState(seed)


def check_option(value, name, options):
    """Check that ``value`` is one of ``options``; the message lists them.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Argument name used in error messages.
    options : sequence
        The allowed values.

    Examples
    --------
    >>> check_option("kl", "disagreement", ("kl", "js", "hard"))
    'kl'
    >>> check_option("kld", "disagreement", ("kl", "js", "hard"))
    Traceback (most recent call last):
    ...
    ValueError: disagreement='kld' is not valid: expected one of 'kl', 'js', 'hard'.
    """
    if not any(
        value is opt or (isinstance(value, str) and value == opt) for opt in options
    ):
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name}={value!r} is not valid: expected one of {listed}.")
    return value


def num_samples(X, name="X"):
    """Number of samples of an array-like, DataFrame, list or torch Dataset.

    Parameters
    ----------
    X : array-like, DataFrame, list or Dataset
        The data.
    name : str, default="X"
        Argument name used in error messages.
    """
    if hasattr(X, "shape") and len(getattr(X, "shape", ())) > 0:
        return int(X.shape[0])
    try:
        return len(X)
    except TypeError:
        raise TypeError(
            f"{name} of type {type(X).__name__} has no length: expected an array-like."
        ) from None


def check_finite_array(X, name="X", *, allow_nd=True, ensure_min_samples=1, dtype=None):
    """Convert ``X`` to a numpy array and refuse NaN, inf and empty inputs.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        The data.
    name : str, default="X"
        Argument name used in error messages.
    allow_nd : bool, default=True
        Accept arrays with more than two dimensions (images).
    ensure_min_samples : int, default=1
        Minimal number of rows.
    dtype : numpy dtype or None, default=None
        Cast to this dtype (``None`` keeps a numeric dtype as is).

    Returns
    -------
    X : ndarray
        A new array when a conversion was needed; never the caller's object
        modified in place.
    """
    if isinstance(X, pd.DataFrame):
        try:
            X = X.to_numpy(dtype=np.float64 if dtype is None else dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} has non-numeric columns: encode them first "
                f"(for example with a ColumnTransformer); {exc}"
            ) from None
    else:
        try:
            X = np.asarray(X) if dtype is None else np.asarray(X, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} could not be converted to a numeric array: {exc}"
            ) from None
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} has dtype {X.dtype}: expected numeric values."
            ) from None
    if X.ndim == 0:
        raise ValueError(
            f"{name} is a scalar: expected a 2-d array (n_samples, n_features)."
        )
    if X.ndim == 1:
        raise ValueError(
            f"{name} is 1-d with shape {X.shape}: expected a 2-d array "
            "(n_samples, n_features); reshape with X.reshape(-1, 1) for one feature."
        )
    if X.ndim > 2 and not allow_nd:
        raise ValueError(f"{name} has {X.ndim} dimensions: expected a 2-d array.")
    if X.shape[0] < ensure_min_samples:
        raise ValueError(
            f"{name} has {X.shape[0]} samples: expected at least {ensure_min_samples}."
        )
    if not X.flags.writeable:  # e.g. pandas copy-on-write views; torch wants writable
        X = X.copy()
    if np.issubdtype(X.dtype, np.floating):
        n_bad = _count_non_finite_rows(X)
        if n_bad:
            raise ValueError(
                f"{name} contains NaN or infinity in {n_bad} sample(s): "
                "impute or drop them first."
            )
    return X


def _count_non_finite_rows(X, block_bytes=64 * 2**20):
    """Rows of ``X`` holding a NaN or infinity, checked in row blocks.

    The boolean mask of a block is at most about ``block_bytes`` large, so the
    check's memory does not grow with the number of samples (a pool of 40k
    64x64 images would otherwise need a pool-sized mask).
    """
    if X.shape[0] == 0:
        return 0
    row_items = max(1, int(np.prod(X.shape[1:], dtype=np.int64)))
    step = max(1, block_bytes // row_items)
    axes = tuple(range(1, X.ndim))
    n_bad = 0
    for start in range(0, X.shape[0], step):
        block = X[start : start + step]
        if not np.isfinite(block).all():
            finite = np.isfinite(block)
            n_bad += (
                int((~finite.all(axis=axes)).sum()) if axes else int((~finite).sum())
            )
    return n_bad


def check_sensitive_features(sensitive_features, n_samples, name="sensitive_features"):
    """Validate group labels: 1-d (or several columns), no missing value, right length.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
        Group labels; a DataFrame or 2-d array gives intersectional groups.
    n_samples : int
        Expected number of samples.
    name : str, default="sensitive_features"
        Argument name used in error messages.

    Returns
    -------
    groups : ndarray of shape (n_samples,)
        Group labels; several columns are combined into intersectional labels
        joined with ``","`` (as fairlearn names them).
    """
    if sensitive_features is None:
        raise ValueError(
            f"{name} is required: pass the group of every sample "
            f"(an array of length {n_samples})."
        )
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame()
    else:
        arr = np.asarray(sensitive_features, dtype=object)
        if arr.ndim == 0:
            raise ValueError(
                f"{name} is a scalar: expected one group label per sample."
            )
        if arr.ndim > 2:
            raise ValueError(f"{name} has {arr.ndim} dimensions: expected 1 or 2.")
        frame = pd.DataFrame(arr.reshape(len(arr), -1))
    if len(frame) != n_samples:
        raise ValueError(
            f"{name} has {len(frame)} entries but there are {n_samples} samples: "
            "expected one group label per sample."
        )
    if frame.isna().to_numpy().any():
        raise ValueError(
            f"{name} contains missing values (NaN/None): every sample needs a group."
        )
    if frame.shape[1] == 1:
        col = frame.iloc[:, 0]
        values = (
            col.astype(object).to_numpy()
            if isinstance(col.dtype, pd.CategoricalDtype)
            else col.to_numpy()
        )
        return np.asarray(values)
    return np.asarray(
        [
            ",".join(str(v) for v in row)
            for row in frame.astype(object).itertuples(index=False)
        ],
        dtype=object,
    )


def check_same_length(**arrays):
    """Raise a ValueError naming the arrays whose lengths differ.

    Parameters
    ----------
    **arrays : array-like or None
        The arrays by argument name; ``None`` entries are ignored.

    Examples
    --------
    >>> check_same_length(X=[1, 2], y=[0, 1, 1])
    Traceback (most recent call last):
    ...
    ValueError: Inconsistent lengths: X has 2 samples, y has 3: expected the same number.
    """
    lengths = {k: num_samples(v, k) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        parts = [f"{k} has {n}" for k, n in lengths.items()]
        parts[0] += " samples"
        raise ValueError(
            f"Inconsistent lengths: {', '.join(parts)}: expected the same number."
        )
    return next(iter(lengths.values()), 0)


def check_bool(value, name):
    """Return ``value`` as a bool if it is one (``np.bool_`` included), else raise.

    The one bool check of the package: every module calls this one.

    Parameters
    ----------
    value : bool
        The value to check.
    name : str
        Argument name used in error messages.

    Examples
    --------
    >>> check_bool(np.True_, "shuffle")
    True
    >>> check_bool(1, "shuffle")
    Traceback (most recent call last):
    ...
    TypeError: shuffle=1 has type int: expected True or False.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected True or False."
        )
    return bool(value)


def did_you_mean(value, valid):
    """``" (did you mean 'x'?)"`` for the closest of ``valid``, or ``""``.

    Parameters
    ----------
    value : object
        What the user gave.
    valid : sequence
        The accepted values.

    Examples
    --------
    >>> did_you_mean("entropie", ["entropy", "margin"])
    " (did you mean 'entropy'?)"
    >>> did_you_mean("zzz", ["entropy", "margin"])
    ''
    """
    import difflib

    hint = difflib.get_close_matches(str(value), [str(v) for v in valid], n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def unknown_option_error(name, value, valid, *, what=None):
    """The ValueError for a name that is not one of ``valid``, with a hint.

    Parameters
    ----------
    name : str
        Argument name.
    value : object
        What the user gave.
    valid : sequence
        The accepted values.
    what : str or None, default=None
        Noun used in the message instead of ``name``.

    Examples
    --------
    >>> print(unknown_option_error("strategy", "entropie", ["entropy", "margin"]))
    Unknown strategy 'entropie' (did you mean 'entropy'?): expected one of 'entropy', 'margin'.
    """
    listed = ", ".join(repr(v) for v in valid)
    what = name if what is None else what
    return ValueError(
        f"Unknown {what} {value!r}{did_you_mean(value, valid)}: expected one of {listed}."
    )


def take_rows(X, idx):
    """Rows ``idx`` (positions) of an array, DataFrame/Series, list or lazy array.

    Always positional: a DataFrame or Series is indexed with ``iloc``, whatever
    its index; a lazily loaded array (anything with ``subset``) stays lazy.

    Parameters
    ----------
    X : array-like, DataFrame, Series, list or lazy array
        The rows to take from.
    idx : array-like of int
        Positions.

    Examples
    --------
    >>> import pandas as pd
    >>> take_rows(pd.Series([10, 20, 30], index=[2, 0, 1]), [0, 2]).tolist()
    [10, 30]
    >>> take_rows([10, 20, 30], [1])
    [20]
    """
    idx = np.asarray(idx)
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[idx]
    if hasattr(X, "subset") and not isinstance(X, np.ndarray):
        return X.subset(idx)
    if isinstance(X, list):
        return [X[i] for i in idx]
    if hasattr(X, "shape") and hasattr(X, "__getitem__"):
        return X[idx]
    return np.asarray(X)[idx]


def largest_remainder(total, weights):
    """Split the integer ``total`` over ``weights`` (exact sum, largest remainders).

    Parameters
    ----------
    total : int
        The integer to split.
    weights : array-like of float
        Non-negative weights, not all zero.

    Examples
    --------
    >>> largest_remainder(10, [0.8, 0.2]).tolist()
    [8, 2]
    >>> largest_remainder(3, [1, 1]).tolist()
    [2, 1]
    """
    weights = np.asarray(weights, dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = int(total - counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts
