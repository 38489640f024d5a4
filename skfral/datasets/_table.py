"""A user's own table: read a CSV or Parquet file, check it, preprocess it.

:func:`load_table` turns a file into ``X, y, s`` (and a summary for
``--dry-run``) with a clear error for every kind of bad file;
:func:`make_tabular_preprocessor` builds the scikit-learn ColumnTransformer that
encodes, imputes and standardises ``X`` as the first step of an estimator's
Pipeline. numpy, pandas and scikit-learn only.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..utils._validation import check_sensitive_features, did_you_mean

__all__ = ["load_table", "make_tabular_preprocessor"]

_CSV_SUFFIXES = (".csv", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file"),
    (b"\x7fELF", "a program"),
)
# A numeric target with more distinct values than this looks like a regression
# target (or any numeric target with fractional values and more than
# _MAX_FRACTIONAL_CLASSES distinct values).
_MAX_NUMERIC_CLASSES = 20
_MAX_FRACTIONAL_CLASSES = 10
# An object column is "numbers with a few categories mixed in" when at least
# this share of its non-missing values parse as numbers.
_MIXED_SHARE = 0.8


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _py(value):
    """A numpy scalar as the plain Python value (for the ``info`` dict)."""
    return value.item() if isinstance(value, np.generic) else value


def _shown(values, limit=5):
    values = list(values)
    shown = ", ".join(repr(_py(v)) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _names(value, arg, *, allow_none):
    """A column-name argument as a list of str."""
    if value is None and allow_none:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        if not value and not allow_none:
            raise ValueError(
                f"{arg}={value!r} is empty: expected at least one column name."
            )
        return list(value)
    expected = "a column name (str) or a list of column names"
    if allow_none:
        expected += ", or None"
    raise TypeError(
        f"{arg}={value!r} has type {type(value).__name__}: expected {expected}."
    )


def _check_in_columns(names, columns, arg, path):
    for name in names:
        if name not in columns:
            listed = _shown(columns, limit=20)
            hint = ""
            if len(columns) == 1 and any(sep in str(columns[0]) for sep in ";|\t"):
                hint = (
                    " The file has a single column; it may use another separator than "
                    "',' (save it as comma-separated, or as Parquet)."
                )
            raise ValueError(
                f"{arg}={name!r} is not a column of {str(path)!r}"
                f"{did_you_mean(name, columns)}: expected one of {listed}.{hint}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{arg}={names!r} names a column twice.")


def _rows(mask, limit=5):
    rows = np.flatnonzero(np.asarray(mask))
    return _shown(rows.tolist(), limit)


def _non_numeric(column):
    """The values of an object column that do not parse as numbers, or None.

    None unless most (``_MIXED_SHARE``) non-missing values are numbers and
    some are not: a numeric column with categories (``"unknown"``, ``"n/a"``)
    mixed in.
    """
    if not (
        pd.api.types.is_object_dtype(column.dtype)
        or pd.api.types.is_string_dtype(column.dtype)
    ):
        return None
    values = column.dropna()
    if values.empty:
        return None
    parsed = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any() and (~bad).mean() >= _MIXED_SHARE:
        return values[bad].value_counts()
    return None


def _kind(column):
    """'numeric', 'categorical', or None for a dtype we do not handle."""
    dtype = column.dtype
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(
        dtype
    ):
        return "numeric"
    return None


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------


def _file_format(path):
    name = path.name.lower()
    for comp in ("", *_COMPRESSIONS):
        for suffix in _CSV_SUFFIXES:
            if name.endswith(suffix + comp):
                return "tsv" if suffix == ".tsv" else "csv", comp
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet", ""
    expected = ", ".join(
        [*_CSV_SUFFIXES, *_PARQUET_SUFFIXES, ".csv.gz (or .bz2, .zip, .xz, .zst)"]
    )
    raise ValueError(
        f"path={str(path)!r} has an unknown extension {path.suffix!r}: expected a table "
        f"file ending in {expected}."
    )


def _check_text_head(path, what):
    """Refuse a binary file saved under a CSV name, before pandas sees it."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise ValueError(
            f"path={str(path)!r} is empty: expected a {what} file with a header line "
            "and one row per sample."
        )
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise ValueError(
                f"path={str(path)!r} is {kind}, not a {what} text file: expected a "
                "table (comma-separated text or Parquet)."
            )
    if b"\x00" in head:
        raise ValueError(
            f"path={str(path)!r} is a binary file, not a {what} text file: expected "
            "a table (comma-separated text or Parquet)."
        )


def _read(path):
    fmt, compression = _file_format(path)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError(
                f"reading the Parquet file {str(path)!r} needs pyarrow, which is not "
                "installed: pip install pyarrow (or save the table as CSV)."
            ) from None
        try:
            return pd.read_parquet(path), fmt
        except Exception as exc:  # pyarrow raises its own error types
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(
                f"path={str(path)!r} could not be read as Parquet ({first}): expected "
                "a Parquet table."
            ) from None
    what = "TSV" if fmt == "tsv" else "CSV"
    if not compression:
        _check_text_head(path, what)
    try:
        frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", low_memory=False)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"path={str(path)!r} is empty: expected a {what} file with a header line "
            "and one row per sample."
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path={str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            f"expected a {what} file saved as UTF-8."
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"path={str(path)!r} could not be read as {what} ({first}): expected a "
            "table with a header line and the same number of fields on every line."
        ) from None
    return frame, fmt


# ---------------------------------------------------------------------------
# Checks on the columns
# ---------------------------------------------------------------------------


def _check_target(y, target):
    missing = y.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"target={target!r} has {int(missing.sum())} missing value(s) (rows "
            f"{_rows(missing)}, counting from 0): every sample needs a label; drop or "
            "fill those rows first."
        )
    mixed = _non_numeric(y)
    if mixed is not None:
        raise ValueError(
            f"target={target!r} is a numeric column with non-numeric values mixed in "
            f"({_shown(mixed.index)}): expected one kind of label; fix those rows."
        )
    counts = y.value_counts(sort=False)
    if len(counts) < 2:
        raise ValueError(
            f"target={target!r} has a single class [{_shown(counts.index)}]: expected "
            "at least 2 classes."
        )
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(
        y.dtype
    ):
        values = y.to_numpy(dtype=float)
        fractional = not np.all(np.equal(np.floor(values), values))
        if len(counts) > _MAX_NUMERIC_CLASSES or (
            fractional and len(counts) > _MAX_FRACTIONAL_CLASSES
        ):
            raise ValueError(
                f"target={target!r} is numeric with {len(counts)} distinct values (e.g. "
                f"{_shown(counts.index[:3], 3)}): it looks like a regression target, "
                "and skfral needs class labels: pick the label column, or bin this one "
                "into classes first (e.g. with pandas.cut)."
            )
    return counts


def _check_sensitive(frame, names):
    for name in names:
        column = frame[name]
        missing = column.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"sensitive={name!r} has {int(missing.sum())} missing value(s) (rows "
                f"{_rows(missing)}, counting from 0): every sample needs a group; drop "
                "those rows or give the missing group a name first."
            )
        n_groups = column.nunique()
        if (
            pd.api.types.is_float_dtype(column.dtype)
            and n_groups > _MAX_NUMERIC_CLASSES
        ):
            raise ValueError(
                f"sensitive={name!r} is numeric with {n_groups} distinct values: expected "
                "a few groups; bin it into groups first (e.g. with pandas.cut)."
            )
    s = frame[names[0]] if len(names) == 1 else frame[names]
    groups = pd.Series(check_sensitive_features(s, len(frame), name="sensitive"))
    counts = groups.value_counts(sort=False)
    if len(counts) < 2:
        raise ValueError(
            f"sensitive={names if len(names) > 1 else names[0]!r} has a single group "
            f"[{_shown(counts.index)}]: expected at least 2 groups to compare."
        )
    return s, counts


def _feature_kinds(X, categorical):
    kinds = {}
    for name in X.columns:
        column = X[name]
        if name in categorical:
            kinds[name] = "categorical"
            continue
        kind = _kind(column)
        if kind is None:
            raise ValueError(
                f"column {name!r} has dtype {column.dtype}: expected numbers or "
                f"categories; convert it, or pass drop=[{name!r}]."
            )
        mixed = _non_numeric(column)
        if mixed is not None:
            raise ValueError(
                f"column {name!r} holds numbers with {int(mixed.sum())} non-numeric "
                f"value(s) mixed in ({_shown(mixed.index)}): if they mark missing "
                "values, leave those cells empty; if the column is categorical, pass "
                f"categorical=[{name!r}]; or pass drop=[{name!r}]."
            )
        if kind == "categorical":
            n_unique = column.nunique()
            if n_unique > 50 and n_unique > 0.5 * len(column):
                warnings.warn(
                    f"column {name!r} is categorical with {n_unique} distinct values in "
                    f"{len(column)} rows: it looks like an identifier or free text and "
                    f"will be one-hot encoded into {n_unique} features; pass "
                    f"drop=[{name!r}] if the model should not see it.",
                    UserWarning,
                    stacklevel=3,
                )
        kinds[name] = kind
    return kinds


# ---------------------------------------------------------------------------
# load_table
# ---------------------------------------------------------------------------


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
    A categorical column with more than 50 distinct values, one for most
    rows (an identifier), gets a warning.

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
        lists), ``missing`` (feature column -> number of missing values) and
        ``dropped``.

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
    }
    return X, y, s, info


# ---------------------------------------------------------------------------
# make_tabular_preprocessor
# ---------------------------------------------------------------------------


def _categories_as_str(X):
    """Every value as its str; missing values stay ``np.nan`` (for the imputer)."""
    frame = pd.DataFrame(X)
    return frame.astype(str).astype(object).where(frame.notna(), np.nan)


def make_tabular_preprocessor(X, *, categorical=None):
    """An unfitted ColumnTransformer that encodes, imputes and scales a raw table.

    Categorical columns (dtype object, string, category or bool, plus the
    ``categorical`` list): values read as text, missing values imputed with
    the most frequent category, then one-hot encoded (categories unseen at fit
    time are encoded as all zeros). Numeric columns: missing values imputed
    with the median, then standardised (zero mean, unit variance), so that
    the default attack budget (``eps=0.1`` on standardised features) means
    what it means on the bundled data. The output is a dense float array.

    It is meant to be the **first step of the estimator's Pipeline**, so that
    at every round it is fitted on the labelled set only (never on the
    validation or test labels): ``make_pipeline(make_tabular_preprocessor(X),
    RobustNeuralNetClassifier(MLP))``.

    ``X`` is read only for the column kinds and for the list of categories of
    every categorical column (no statistic, no label), so the number of
    output features is the same whichever rows the transformer is fitted on
    (a net keeps its input size across rounds). A column that is entirely
    missing in the rows it is fitted on is kept (imputed as 0 and encoded as
    all zeros).

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The raw feature table (e.g. ``X`` of :func:`load_table`); later
        calls must pass DataFrames with the same columns.
    categorical : str, list of str or None, default=None
        Columns to encode as categories although they hold numbers.

    Returns
    -------
    preprocessor : sklearn.compose.ColumnTransformer
        Unfitted; ``get_feature_names_out`` names the output columns once
        fitted.

    See Also
    --------
    load_table : Read a CSV or Parquet table into ``X, y, s``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfral.datasets import make_tabular_preprocessor
    >>> X = pd.DataFrame({"income": [40.0, np.nan, 55.0, 31.0],
    ...                   "job": ["clerk", "nurse", None, "clerk"]})
    >>> pre = make_tabular_preprocessor(X)
    >>> Z = pre.fit_transform(X)
    >>> Z.shape, bool(np.isfinite(Z).all())
    ((4, 3), True)
    >>> pre.get_feature_names_out().tolist()
    ['job_clerk', 'job_nurse', 'income']
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"X has type {type(X).__name__}: expected a pandas DataFrame of the raw "
            "feature columns (named columns select what is encoded how)."
        )
    categorical = _names(categorical, "categorical", allow_none=True)
    columns = list(X.columns)
    for name in categorical:
        if name not in columns:
            raise ValueError(
                f"categorical={categorical!r} names {name!r}, which is not a column of "
                f"X{did_you_mean(name, columns)}: expected some of {_shown(columns, 20)}."
            )
    cat_cols, num_cols = [], []
    for name in columns:
        kind = "categorical" if name in categorical else _kind(X[name])
        if kind is None:
            raise ValueError(
                f"column {name!r} of X has dtype {X[name].dtype}: expected numbers or "
                "categories; convert or drop it."
            )
        (cat_cols if kind == "categorical" else num_cols).append(name)

    vocab = []
    for name in cat_cols:
        values = _categories_as_str(X[[name]]).iloc[:, 0].dropna().unique()
        vocab.append(np.array(sorted(values), dtype=object))

    steps = []
    if cat_cols:
        steps.append(
            (
                "categorical",
                Pipeline(
                    [
                        (
                            "as_str",
                            FunctionTransformer(
                                _categories_as_str, feature_names_out="one-to-one"
                            ),
                        ),
                        (
                            "impute",
                            SimpleImputer(
                                strategy="most_frequent", keep_empty_features=True
                            ),
                        ),
                        (
                            "onehot",
                            OneHotEncoder(
                                categories=vocab,
                                handle_unknown="ignore",
                                sparse_output=False,
                            ),
                        ),
                    ]
                ),
                cat_cols,
            )
        )
    if num_cols:
        steps.append(
            (
                "numeric",
                Pipeline(
                    [
                        (
                            "impute",
                            SimpleImputer(strategy="median", keep_empty_features=True),
                        ),
                        ("scale", StandardScaler()),
                    ]
                ),
                num_cols,
            )
        )
    return ColumnTransformer(
        steps,
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )
