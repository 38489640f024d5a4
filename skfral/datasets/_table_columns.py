"""Checks on the columns of a user's table: names, target, groups, features.

Small helpers shared by :func:`load_table` and
:func:`make_tabular_preprocessor`, and the checks that give every kind of bad
column a ValueError (or a warning) naming the column and the fix. numpy and
pandas only.
"""

import numpy as np
import pandas as pd

from ..utils._validation import check_sensitive_features, did_you_mean

__all__ = []

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


def _binning_hint(name, column, n_groups):
    """The error for a numeric group column with many values (e.g. age)."""
    values = column.to_numpy(dtype=float)
    cuts = np.unique(np.quantile(values, [0.25, 0.5, 0.75]))
    whole = bool(np.all(np.equal(np.floor(values), values)))
    cuts = np.unique(np.round(cuts) if whole else np.round(cuts, 2))
    shown = ", ".join(f"{c:g}" for c in cuts)
    low, high = f"{values.min():g}", f"{values.max():g}"
    return (
        f"sensitive={name!r} is numeric with {n_groups} distinct values (from {low} "
        f"to {high}), which would make {n_groups} groups of a few rows each: "
        "expected a few groups. Bin it into a new column first, e.g. with pandas "
        f'(cut at its quartiles): df["{name}_group"] = pd.cut(df["{name}"], '
        f"bins=[-np.inf, {shown}, np.inf], right=False).astype(str); save the "
        f"table and pass --sensitive {name}_group (sensitive={name + '_group'!r}). "
        "If the numbers are group codes, save them as text."
    )


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
            pd.api.types.is_numeric_dtype(column.dtype)
            and not pd.api.types.is_bool_dtype(column.dtype)
            and n_groups > _MAX_NUMERIC_CLASSES
        ):
            raise ValueError(_binning_hint(name, column, n_groups))
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
        kinds[name] = kind
    return kinds
