"""Encode, impute and scale a raw user table: :func:`make_tabular_preprocessor`.

The scikit-learn ColumnTransformer that is the first step of an estimator's
Pipeline on a user's table. numpy, pandas and scikit-learn only.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..utils._validation import did_you_mean
from ._table_columns import _kind, _names, _shown

__all__ = ["make_tabular_preprocessor"]


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
