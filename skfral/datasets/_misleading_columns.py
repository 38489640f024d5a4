"""Feature columns that mislead a model: identifiers, constants, leaks of the label.

:func:`load_table` (and so ``skfral run --data`` and ``--dry-run``) checks
every feature column once it knows the column kinds:

- an **identifier** (a different value in every row): a text column is
  refused (one-hot encoding it gives one feature per row, which identifies
  rows instead of predicting), unless the user names it in ``categorical``
  (then it is encoded, with a warning); a whole-number column is warned
  about (it is standardised, not one-hot encoded); a text column with more
  than 50 distinct values, one for most rows, is warned about;
- a **constant** column (one value, or none, in every row): warned about;
- a column that **alone predicts the target** (balanced accuracy >= 0.98 on
  held-out rows, from that column only): warned about, as a likely leak of
  the label.

Every warning is a :class:`MisleadingColumnWarning` naming the column and
the ``drop`` (``--drop``) fix. numpy and pandas only.
"""

import numpy as np
import pandas as pd

__all__ = ["MisleadingColumnWarning", "check_misleading_columns"]

# A column with a different value in every row is an identifier from this many
# rows on (in a tiny table, distinct values are common by chance).
_MIN_ROWS_ID = 20
# The leak check needs this many rows (half of them fit the rule, half score it).
_MIN_ROWS_LEAK = 30
LEAK_BALANCED_ACCURACY = 0.98
"""A column whose single-column balanced accuracy reaches this is a likely leak."""
# Numeric columns are cut into at most this many quantile bins for the leak check.
_N_BINS = 32


class MisleadingColumnWarning(UserWarning):
    """A feature column that is likely to mislead a model.

    Issued by :func:`load_table` (and ``skfral run --data``, ``--dry-run``)
    for a column that looks like an identifier (a different value in every
    row), a constant column, or a column that alone predicts the target
    (balanced accuracy of at least 0.98 from that column only, on held-out
    rows: often a leak of the label). The message names the column and the
    fix, ``drop=[column]`` (``--drop column``).

    Examples
    --------
    >>> import warnings
    >>> from skfral.datasets import MisleadingColumnWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", MisleadingColumnWarning)  # silence them
    ...     warnings.warn("column 'id' ...", MisleadingColumnWarning)
    >>> issubclass(MisleadingColumnWarning, UserWarning)
    True
    """


def _fix(name):
    return f"pass drop=[{name!r}] (--drop {name})"


def _shown(value):
    return repr(value.item() if isinstance(value, np.generic) else value)


# ---------------------------------------------------------------------------
# Single-column balanced accuracy, estimated on held-out rows
# ---------------------------------------------------------------------------


def _value_codes(column, kind):
    """Integer codes of a column's values (numeric: quantile bins); missing: own code."""
    if kind == "categorical":
        codes, _ = pd.factorize(column.astype(object), use_na_sentinel=True)
        return np.where(codes < 0, codes.max() + 1, codes)
    values = column.to_numpy(dtype=float)
    finite = np.isfinite(values)
    distinct = np.unique(values[finite])
    if len(distinct) <= _N_BINS:
        edges = distinct[1:]
    else:
        inner = np.linspace(0, 1, _N_BINS + 1)[1:-1]
        edges = np.unique(np.quantile(values[finite], inner))
    codes = np.searchsorted(edges, np.where(finite, values, 0.0), side="right")
    return np.where(finite, codes, len(edges) + 1)


def _majority_rule(codes, y, train, n_classes):
    """Predictions of the per-value majority class learnt on the ``train`` rows."""
    n_codes = int(codes.max()) + 1
    table = np.zeros((n_codes, n_classes))
    np.add.at(table, (codes[train], y[train]), 1)
    overall = np.bincount(y[train], minlength=n_classes).argmax()
    majority = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), overall)
    return majority[codes]


def _stump(values, y, train):
    """Predictions of the best one-threshold rule (two classes) learnt on ``train``."""
    finite = np.isfinite(values)
    fit = train & finite
    v, t = values[fit], y[fit]
    pred = np.zeros(len(values), dtype=np.int64)
    n1 = t.sum()
    n0 = len(t) - n1
    if n0 == 0 or n1 == 0:
        return None
    order = np.argsort(v, kind="stable")
    v, t = v[order], t[order]
    ones_left = np.cumsum(t)[:-1]  # class-1 rows at or below each cut
    zeros_left = np.arange(1, len(t)) - ones_left
    cut = np.flatnonzero(v[1:] > v[:-1])  # only between distinct values
    if cut.size == 0:
        return None
    # class 0 below the cut, 1 above; or the reverse
    low0 = 0.5 * (zeros_left[cut] / n0 + (n1 - ones_left[cut]) / n1)
    low1 = 1.0 - low0
    best = np.argmax(np.maximum(low0, low1))
    threshold = 0.5 * (v[cut[best]] + v[cut[best] + 1])
    above = (low0[best] >= low1[best]).astype(np.int64)
    pred[finite] = np.where(values[finite] > threshold, above, 1 - above)
    missing = train & ~finite
    fill = np.bincount(y[missing], minlength=2).argmax() if missing.any() else 0
    pred[~finite] = fill
    return pred


def _balanced_accuracy(pred, y, n_classes):
    recalls = [np.mean(pred[y == k] == k) for k in range(n_classes) if (y == k).any()]
    return float(np.mean(recalls))


def single_column_balanced_accuracy(column, y_codes, kind):
    """Balanced accuracy of predicting the target from one column, on held-out rows.

    Two folds (even and odd rows): a rule is learnt on one and scored on the
    other, then the other way round. Categorical columns: the majority class
    of each value (missing is a value; a value unseen in the learning fold
    gets the overall majority). Numeric columns: the same on up to 32
    quantile bins and, for two classes, the best single threshold (a
    decision stump); the better of the two. Cheap: one pass over the column
    per rule.

    Parameters
    ----------
    column : Series of shape (n_samples,)
    y_codes : ndarray of int of shape (n_samples,)
        The target as class codes 0..n_classes-1.
    kind : {"numeric", "categorical"}

    Returns
    -------
    balanced_accuracy : float
    """
    y_codes = np.asarray(y_codes, dtype=np.int64)
    n_classes = int(y_codes.max()) + 1
    folds = np.arange(len(y_codes)) % 2
    codes = _value_codes(column, kind)
    scores = []
    pred = np.empty(len(y_codes), dtype=np.int64)
    for f in (0, 1):
        held = folds == f
        pred[held] = _majority_rule(codes, y_codes, ~held, n_classes)[held]
    scores.append(_balanced_accuracy(pred, y_codes, n_classes))
    if kind == "numeric" and n_classes == 2:
        values = column.to_numpy(dtype=float)
        stump = np.empty(len(y_codes), dtype=np.int64)
        for f in (0, 1):
            held = folds == f
            rule = _stump(values, y_codes, ~held)
            if rule is None:
                break
            stump[held] = rule[held]
        else:
            scores.append(_balanced_accuracy(stump, y_codes, n_classes))
    return max(scores)


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------


def _identifier(name, column, kind, explicit):
    """A message for an identifier-like column, or None; raises for a text id."""
    n_rows = len(column)
    values = column.dropna()
    n_unique = values.nunique()
    if n_rows >= _MIN_ROWS_ID and n_unique == n_rows:
        if kind == "numeric":
            numbers = values.to_numpy(dtype=float)
            if np.all(np.equal(np.floor(numbers), numbers)):
                return (
                    f"column {name!r} holds a different whole number in every row "
                    f"({n_rows} rows, e.g. {_shown(values.iloc[0])}): it looks like an "
                    "identifier (a row or customer number), which tells the model "
                    f"nothing about new rows; if it is one, {_fix(name)}."
                )
            return None  # measurements are often all distinct
        if not explicit:
            raise ValueError(
                f"column {name!r} holds a different value in every row ({n_rows} "
                f"rows, e.g. {_shown(values.iloc[0])}): it looks like an identifier, "
                f"and one-hot encoding it would give {n_rows} features that identify "
                f"rows instead of predicting: {_fix(name)}; to encode it anyway, name "
                f"it in categorical=[{name!r}] (--categorical {name})."
            )
        return (
            f"column {name!r} holds a different value in every row ({n_rows} rows): "
            f"it is one-hot encoded into {n_rows} features because categorical names "
            f"it; if it is an identifier, {_fix(name)}."
        )
    if kind == "categorical" and n_unique > 50 and n_unique > 0.5 * n_rows:
        return (
            f"column {name!r} is categorical with {n_unique} distinct values in "
            f"{n_rows} rows: it looks like an identifier or free text and will be "
            f"one-hot encoded into {n_unique} features; if the model should not see "
            f"it, {_fix(name)}."
        )
    return None


def check_misleading_columns(X, y, kinds, categorical=(), target="target"):
    """Messages about the feature columns likely to mislead a model.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The feature columns.
    y : Series of shape (n_samples,)
        The labels.
    kinds : dict
        Column -> ``"numeric"`` or ``"categorical"``.
    categorical : list of str, default=()
        The columns the user named as categorical (an identifier named there
        is encoded, with a message, instead of refused).
    target : str, default="target"
        The label column's name, for the messages.

    Returns
    -------
    messages : list of str
        One per misleading column, in the columns' order.

    Raises
    ------
    ValueError
        For a text column with a different value in every row (from 20 rows
        on) that ``categorical`` does not name.
    """
    messages = []
    y_codes, _ = pd.factorize(y.astype(object), sort=False)
    for name in X.columns:
        column = X[name]
        kind = kinds[name]
        values = column.dropna()
        if values.nunique() <= 1:
            held = (
                "no value"
                if values.empty
                else f"the single value {_shown(values.iloc[0])}"
            )
            messages.append(
                f"column {name!r} holds {held} in every row (missing cells aside): "
                f"it tells the model nothing; {_fix(name)}."
            )
            continue
        message = _identifier(name, column, kind, name in categorical)
        if message is not None:
            messages.append(message)
            continue
        if len(column) >= _MIN_ROWS_LEAK:
            score = single_column_balanced_accuracy(column, y_codes, kind)
            if score >= LEAK_BALANCED_ACCURACY:
                messages.append(
                    f"column {name!r} alone predicts target {target!r} (balanced "
                    f"accuracy {score:.3f} on held-out rows, from this column only): "
                    "a column this predictive is often a leak of the label (recorded "
                    f"after the outcome, or computed from it); if it is one, "
                    f"{_fix(name)}."
                )
    return messages
