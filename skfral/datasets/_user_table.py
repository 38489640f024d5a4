"""A user's own table: read a CSV or Parquet file, check it, preprocess it.

:func:`load_table` turns a file into ``X, y, s`` (and a summary for
``--dry-run``) with a clear error for every kind of bad file;
the file is read by :mod:`._table_file` and its columns checked by
:mod:`._table_columns`; :func:`make_tabular_preprocessor` (in
:mod:`._table_preprocessor`) encodes ``X`` for a model. numpy and pandas only.
"""

import os
import warnings
from pathlib import Path

from ._misleading_columns import MisleadingColumnWarning, check_misleading_columns
from ._table_columns import (
    _check_in_columns,
    _check_sensitive,
    _check_target,
    _feature_kinds,
    _names,
    _py,
)
from ._table_file import _read

__all__ = ["load_table"]


def load_table(path, *, target, sensitive, categorical=None, drop=None):
    """Read a user's own CSV or Parquet table into ``X, y, s`` (and a summary).

    The file is read, never written. The label column (``target``), the
    group column(s) (``sensitive``) and the ``drop`` columns are taken out;
    every other column is a feature. **The sensitive columns are not
    features**: the model does not see the group (FRAL still knows it for
    every sample). To let the model see it, copy the column under another
    name in the file.

    Every kind of bad input gets a ValueError naming the argument, the value
    and what was expected, before any pandas traceback: an unknown column
    name (with a "did you mean" hint), a target with missing values or a
    single class, a numeric target with many distinct values (it looks like
    a regression target: more than 20 distinct numbers, or more than 10 with
    fractional values), a sensitive column with missing values or a single
    group, an empty file, a file that is not a table (an image, a binary
    file), a numeric column with text values mixed in (e.g. ``"unknown"``;
    pass it in ``categorical`` if it is categorical) and an unknown extension.
    A numeric sensitive column with more than 20 distinct values (an age)
    is refused with the ``pandas.cut`` line that bins it.

    Columns that mislead a model get a :class:`MisleadingColumnWarning`
    naming the column and the ``drop`` fix: an identifier (a different
    whole number in every row; a text column with more than 50 distinct
    values, one for most rows), a constant column, and a column that alone
    predicts the target (balanced accuracy of at least 0.98 on held-out
    rows, from that column only: often a leak of the label). A **text
    column with a different value in every row** (from 20 rows on) is
    refused with a ValueError, since one-hot encoding it gives one feature
    per row: drop it, or name it in ``categorical`` to encode it anyway
    (with a warning).

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` or ``.tsv`` file (also compressed: ``.csv.gz``, ``.bz2``,
        ``.zip``, ``.xz``, ``.zst``), UTF-8, with a header line; or a
        ``.parquet`` / ``.pq`` file (needs pyarrow). Empty cells (and the
        usual ``NA``, ``NaN``, ``null`` markers) are missing values.
    target : str
        Name of the label column (two or more classes; numbers or text).
    sensitive : str or list of str
        Name(s) of the group column(s). Several columns make intersectional
        groups (labels joined with ``","`` as fairlearn names them).
    categorical : str, list of str or None, default=None
        Feature columns to treat as categorical although they hold numbers
        (e.g. integer codes). Columns of dtype object, string, category or
        bool are categorical anyway. The named columns are returned with the
        pandas ``category`` dtype, so :func:`make_tabular_preprocessor`
        finds them on its own.
    drop : str, list of str or None, default=None
        Columns to leave out (identifiers, leaks of the label).

    Returns
    -------
    X : DataFrame of shape (n_samples, n_features)
        The feature columns, in the file's order, values as read (missing
        values kept: impute them in the estimator's pipeline, see
        :func:`make_tabular_preprocessor`).
    y : Series of shape (n_samples,)
        The labels, as read.
    s : Series of shape (n_samples,) or DataFrame of shape (n_samples, k)
        The group column (several: a DataFrame, intersectional groups).
    info : dict
        What was inferred, for ``--dry-run`` and logs: ``path``, ``format``
        (``"csv"``, ``"tsv"`` or ``"parquet"``), ``n_samples``, ``target``,
        ``classes`` (label -> count), ``sensitive`` (list of column names),
        ``groups`` (group label -> count; intersectional labels joined with
        ``","``), ``features`` (column -> ``"numeric"`` or
        ``"categorical"``), ``categorical`` and ``numeric`` (the column
        lists), ``missing`` (feature column -> number of missing values),
        ``dropped`` and ``warnings`` (the messages of the misleading-column
        warnings, also issued as :class:`MisleadingColumnWarning`).

    See Also
    --------
    make_tabular_preprocessor : Encode, impute and scale ``X`` in a Pipeline.
    fral_split : Split ``X, y, s`` into the FRAL parts.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfral.datasets import load_table
    >>> tmp = tempfile.TemporaryDirectory()
    >>> csv = Path(tmp.name) / "loans.csv"
    >>> _ = csv.write_text(
    ...     "income,job,race,approved\\n"
    ...     "40,clerk,a,yes\\n"
    ...     ",nurse,b,no\\n"
    ...     "55,,a,no\\n"
    ...     "31,clerk,b,yes\\n")
    >>> X, y, s, info = load_table(csv, target="approved", sensitive="race")
    >>> list(X.columns), y.tolist(), s.tolist()
    (['income', 'job'], ['yes', 'no', 'no', 'yes'], ['a', 'b', 'a', 'b'])
    >>> info["features"], info["missing"], info["groups"]
    ({'income': 'numeric', 'job': 'categorical'}, {'income': 1, 'job': 1}, {'a': 2, 'b': 2})
    >>> tmp.cleanup()
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path={path!r} has type {type(path).__name__}: expected a str or "
            "os.PathLike naming a CSV or Parquet file."
        )
    path = Path(path).expanduser()
    if not isinstance(target, str):
        raise TypeError(
            f"target={target!r} has type {type(target).__name__}: expected the name of "
            "the label column (a str)."
        )
    sensitive = _names(sensitive, "sensitive", allow_none=False)
    categorical = _names(categorical, "categorical", allow_none=True)
    drop = _names(drop, "drop", allow_none=True)
    if path.is_dir():
        raise ValueError(
            f"path={str(path)!r} is a folder: expected a CSV or Parquet file (for an "
            "image folder, use load_image_folder)."
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"path={str(path)!r} does not exist: expected a CSV or Parquet file."
        )

    frame, fmt = _read(path)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise ValueError(
            f"path={str(path)!r} has {frame.shape[1]} column(s) and no data row: "
            "expected a header line and one row per sample."
        )
    columns = list(frame.columns)
    _check_in_columns([target], columns, "target", path)
    _check_in_columns(sensitive, columns, "sensitive", path)
    _check_in_columns(drop, columns, "drop", path)
    _check_in_columns(categorical, columns, "categorical", path)
    if target in sensitive:
        raise ValueError(
            f"target={target!r} is also in sensitive={sensitive!r}: expected the label "
            "and the group in different columns."
        )
    for arg, names in (("drop", drop), ("categorical", categorical)):
        for name in names:
            if name == target or name in sensitive:
                role = "target" if name == target else "sensitive"
                raise ValueError(
                    f"{arg}={names!r} names the {role} column {name!r}: expected "
                    f"feature columns only (the {role} column is never a feature)."
                )
    both = [n for n in categorical if n in drop]
    if both:
        raise ValueError(
            f"column {both[0]!r} is both in categorical and in drop: expected one or "
            "the other."
        )

    y = frame[target]
    classes = _check_target(y, target)
    s, groups = _check_sensitive(frame, sensitive)
    X = frame.drop(columns=[target, *sensitive, *drop])
    if X.shape[1] == 0:
        raise ValueError(
            f"path={str(path)!r} has no feature column left once target={target!r}, "
            f"sensitive={sensitive!r} and drop={drop!r} are taken out: expected at "
            "least one feature."
        )
    kinds = _feature_kinds(X, categorical)
    messages = check_misleading_columns(X, y, kinds, categorical, target)
    for message in messages:
        warnings.warn(message, MisleadingColumnWarning, stacklevel=2)
    for name in categorical:
        X[name] = X[name].astype("category")

    info = {
        "path": str(path),
        "format": fmt,
        "n_samples": int(len(frame)),
        "target": target,
        "classes": {_py(k): int(v) for k, v in classes.sort_index().items()},
        "sensitive": list(sensitive),
        "groups": {_py(k): int(v) for k, v in groups.sort_index().items()},
        "features": kinds,
        "categorical": [c for c, k in kinds.items() if k == "categorical"],
        "numeric": [c for c, k in kinds.items() if k == "numeric"],
        "missing": {c: int(n) for c, n in X.isna().sum().items()},
        "dropped": list(drop),
        "warnings": messages,
    }
    return X, y, s, info
