"""UCI Adult and German credit, shipped inside the package (no download)."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

from ..utils._docstring import Substitution
from ..utils._validation import check_bool, check_int, check_option
from ._common import load_descr, read_csv_gz

__all__ = ["load_adult", "load_german_credit"]

_RETURNS_DOC = """\
Returns
-------
data : Bunch
    ``data``: float32 array (or DataFrame with ``as_frame=True``) of the
    one-hot encoded and standardised features; with ``preprocessed=False``
    the raw feature table. ``target``: int64 labels (Series with
    ``as_frame``). ``sensitive``: group labels (str array or Series; a
    2-d array or DataFrame when several attributes are asked for).
    ``feature_names``, ``target_names``, ``sensitive_names`` (the group
    labels; a dict of them per attribute when several); ``frame``:
    the whole raw table (features, sensitive columns and target as
    shipped) when ``as_frame`` else None; ``preprocessor``: the
    ColumnTransformer (fitted on all rows when ``preprocessed=True``,
    unfitted otherwise; ``sklearn.base.clone`` it to refit on a training
    split only); ``categorical_features``, ``numerical_features`` (its
    input columns) and ``DESCR``.
(data, target, sensitive) : tuple
    If ``return_X_y`` is True."""

_ADULT = {
    "file": "adult.csv.gz",
    "descr": "adult.rst",
    "target": "income",
    "target_names": ["<=50K", ">50K"],
    "categorical": [
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native_country",
    ],
    # fnlwgt (a census sampling weight, not a trait of the person) stays in
    # the raw frame but is not used by the preprocessor.
    "numerical": [
        "age",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    ],
    "sensitive": {"sex": "sex", "race": "race", "race_binary": "race"},
}

_GERMAN = {
    "file": "german_credit.csv.gz",
    "descr": "german_credit.rst",
    "target": "credit",
    "target_names": ["bad", "good"],
    "categorical": [
        "status",
        "credit_history",
        "purpose",
        "savings",
        "employment",
        "personal_status",
        "other_debtors",
        "property",
        "installment_plans",
        "housing",
        "skill_level",
        "telephone",
        "foreign_worker",
    ],
    "numerical": [
        "month",
        "credit_amount",
        "investment_as_income_percentage",
        "residence_since",
        "age",
        "number_of_credits",
        "people_liable_for",
    ],
    "sensitive": {"sex": "personal_status", "age": "age"},
}

GERMAN_SEX = {
    "A91": "Male",
    "A92": "Female",
    "A93": "Male",
    "A94": "Male",
    "A95": "Female",
}


def _bundled_preprocessor(categorical, numerical):
    """Unfitted ColumnTransformer of the bundled tables: one-hot and standardisation.

    Missing categories (NaN) get their own indicator column; categories
    unseen at fit time are encoded as all zeros. Columns not listed are
    dropped.
    """
    return ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="ignore", sparse_output=False, dtype=np.float32
                ),
                list(categorical),
            ),
            ("numerical", StandardScaler(), list(numerical)),
        ],
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


def _check_sensitive_arg(sensitive, options):
    names = [sensitive] if isinstance(sensitive, str) else sensitive
    try:
        names = list(names)
    except TypeError:
        names = None
    if not names or not all(isinstance(n, str) for n in names):
        listed = ", ".join(repr(o) for o in options)
        raise TypeError(
            f"sensitive={sensitive!r} is invalid: expected one of {listed} or a list "
            "of them (intersectional groups)."
        )
    for name in names:
        check_option(name, "sensitive", tuple(options))
    if len(set(names)) != len(names):
        raise ValueError(f"sensitive={sensitive!r} names an attribute twice.")
    return names


def _load_tabular(
    spec,
    sensitive,
    return_X_y,
    as_frame,
    preprocessed,
    drop_sensitive,
    encoders,
):
    names = _check_sensitive_arg(sensitive, spec["sensitive"])
    return_X_y = check_bool(return_X_y, "return_X_y")
    as_frame = check_bool(as_frame, "as_frame")
    preprocessed = check_bool(preprocessed, "preprocessed")
    drop_sensitive = check_bool(drop_sensitive, "drop_sensitive")
    if not preprocessed and not as_frame:
        raise ValueError(
            "preprocessed=False returns the raw table, which has text columns: pass "
            "as_frame=True with it (or preprocessed=True for a float32 array)."
        )

    frame = read_csv_gz(spec["file"])
    target_col = spec["target"]
    y = encoders["target"](frame[target_col]).astype(np.int64)

    groups = {name: encoders[name](frame) for name in names}
    dropped = {spec["sensitive"][name] for name in names} if drop_sensitive else set()
    categorical = [c for c in spec["categorical"] if c not in dropped]
    numerical = [c for c in spec["numerical"] if c not in dropped]
    X_raw = frame.drop(columns=[target_col, *sorted(dropped)])
    preprocessor = _bundled_preprocessor(categorical, numerical)

    if preprocessed:
        data = preprocessor.fit_transform(X_raw).astype(np.float32, copy=False)
        feature_names = np.asarray(preprocessor.get_feature_names_out(), dtype=object)
        if as_frame:
            data = pd.DataFrame(data, columns=list(feature_names))
    else:
        data = X_raw
        feature_names = np.asarray(X_raw.columns, dtype=object)

    if len(names) == 1:
        s = groups[names[0]]
        sensitive_names = np.array(sorted(set(s)), dtype=object)
        s = (
            pd.Series(s, name=names[0], dtype=object)
            if as_frame
            else np.asarray(s, dtype=object)
        )
    else:
        s = pd.DataFrame({n: pd.Series(groups[n], dtype=object) for n in names})
        sensitive_names = {
            n: np.array(sorted(set(groups[n])), dtype=object) for n in names
        }
        if not as_frame:
            s = s.to_numpy(dtype=object)
    target = pd.Series(y, name=target_col) if as_frame else y

    if return_X_y:
        return data, target, s
    return Bunch(
        data=data,
        target=target,
        sensitive=s,
        feature_names=feature_names,
        target_names=np.array(spec["target_names"], dtype=object),
        sensitive_names=sensitive_names,
        frame=frame if as_frame else None,
        preprocessor=preprocessor,
        categorical_features=categorical,
        numerical_features=numerical,
        DESCR=load_descr(spec["descr"]),
    )


@Substitution(returns=_RETURNS_DOC)
def load_adult(
    *,
    sensitive="sex",
    return_X_y=False,
    as_frame=False,
    preprocessed=True,
    drop_sensitive=True,
):
    """Load the UCI Adult (census income) data shipped with skfral (no download).

    32,561 people of the 1994 US census (the ``adult.data`` part of the UCI
    data set); target 1 when the yearly income is above 50K USD (24.1%).
    Licence CC BY 4.0; source and conversion in ``DESCR`` and
    ``skfral/datasets/data/README_DATA.rst``.

    Parameters
    ----------
    sensitive : {"sex", "race", "race_binary"} or list of them, default="sex"
        Sensitive attribute: ``"sex"`` (Female, Male); ``"race"`` (the five
        census categories: Amer-Indian-Eskimo, Asian-Pac-Islander, Black,
        Other, White); ``"race_binary"`` (White, Non-White). A list gives
        intersectional groups (one column per attribute).
    return_X_y : bool, default=False
        If True, return ``(data, target, sensitive)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame, ``target`` and ``sensitive`` are
        Series and the Bunch has the raw ``frame``.
    preprocessed : bool, default=True
        If True, ``data`` is the numeric version: one-hot encoded categories
        (missing values, ``?`` in the source, get their own column) and
        standardised numbers (``fnlwgt`` is left out), float32. If False,
        ``data`` is the raw table (needs ``as_frame=True``).
    drop_sensitive : bool, default=True
        Leave the column(s) the sensitive attribute comes from out of
        ``data`` (the model does not see the group; FRAL still knows it).

    {returns}

    Examples
    --------
    >>> from skfral.datasets import load_adult
    >>> adult = load_adult()
    >>> adult.data.shape, adult.data.dtype, adult.sensitive_names.tolist()
    ((32561, 105), dtype('float32'), ['Female', 'Male'])
    >>> raw = load_adult(as_frame=True, preprocessed=False).data
    >>> raw.shape
    (32561, 13)
    """
    encoders = {
        "target": lambda col: (col == ">50K").to_numpy(),
        "sex": lambda f: f["sex"].to_numpy(dtype=object),
        "race": lambda f: f["race"].to_numpy(dtype=object),
        "race_binary": lambda f: np.where(
            f["race"] == "White", "White", "Non-White"
        ).astype(object),
    }
    return _load_tabular(
        _ADULT, sensitive, return_X_y, as_frame, preprocessed, drop_sensitive, encoders
    )


@Substitution(returns=_RETURNS_DOC)
def load_german_credit(
    *,
    sensitive="sex",
    return_X_y=False,
    as_frame=False,
    preprocessed=True,
    drop_sensitive=True,
    age_threshold=25,
):
    """Load the UCI Statlog German credit data shipped with skfral (no download).

    1,000 loan applicants; target 1 for good credit (70%), 0 for bad.
    Licence CC BY 4.0; source and conversion in ``DESCR`` and
    ``skfral/datasets/data/README_DATA.rst``.

    Parameters
    ----------
    sensitive : {"sex", "age"} or list of them, default="sex"
        ``"sex"``: decoded from ``personal_status`` (A91, A93, A94 Male; A92,
        A95 Female); ``"age"``: ``"<T"`` / ``">=T"`` for ``T =
        age_threshold``. A list gives intersectional groups.
    return_X_y : bool, default=False
        If True, return ``(data, target, sensitive)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame, ``target`` and ``sensitive`` are
        Series and the Bunch has the raw ``frame``.
    preprocessed : bool, default=True
        If True, ``data`` is one-hot encoded and standardised, float32; if
        False, the raw table with its UCI codes (needs ``as_frame=True``).
    drop_sensitive : bool, default=True
        Leave the column the sensitive attribute comes from (``personal_status``
        for sex, which also drops the marital status it encodes; ``age`` for
        age) out of ``data``.
    age_threshold : int, default=25
        Age from which an applicant is in the older group.

    {returns}

    Examples
    --------
    >>> from skfral.datasets import load_german_credit
    >>> X, y, s = load_german_credit(sensitive="age", return_X_y=True)
    >>> X.shape, int(y.sum()), sorted(set(s))
    ((1000, 60), 700, ['<25', '>=25'])
    """
    age_threshold = check_int(age_threshold, "age_threshold", min_value=1)
    encoders = {
        "target": lambda col: (col == 1).to_numpy(),
        "sex": lambda f: f["personal_status"].map(GERMAN_SEX).to_numpy(dtype=object),
        "age": lambda f: np.where(
            f["age"] >= age_threshold, f">={age_threshold}", f"<{age_threshold}"
        ).astype(object),
    }
    return _load_tabular(
        _GERMAN, sensitive, return_X_y, as_frame, preprocessed, drop_sensitive, encoders
    )
