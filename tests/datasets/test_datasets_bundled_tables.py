"""load_adult and load_german_credit: shipped data, variants, no network, errors."""

import socket

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skfral.datasets import load_adult, load_german_credit
from skfral.datasets._common import _read_csv_gz_cached


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    _read_csv_gz_cached.cache_clear()  # really read the shipped files
    yield
    _read_csv_gz_cached.cache_clear()


def test_no_network_needed(no_network):
    adult = load_adult()
    german = load_german_credit()
    assert adult.data.shape[0] == 32561 and german.data.shape[0] == 1000


def test_adult_default():
    adult = load_adult()
    X = adult.data
    assert X.shape == (32561, 105) and X.dtype == np.float32
    assert np.isfinite(X).all()
    assert adult.target.dtype == np.int64 and int(adult.target.sum()) == 7841
    assert adult.sensitive.shape == (32561,)
    assert pd.Series(adult.sensitive).value_counts().to_dict() == {
        "Male": 21790,
        "Female": 10771,
    }
    assert adult.sensitive_names.tolist() == ["Female", "Male"]
    assert adult.target_names.tolist() == ["<=50K", ">50K"]
    names = list(adult.feature_names)
    assert len(names) == X.shape[1]
    assert not any(n.startswith("sex") for n in names)  # dropped by default
    assert "fnlwgt" not in names and "workclass_nan" in names
    numeric = [names.index(c) for c in adult.numerical_features]
    np.testing.assert_allclose(X[:, numeric].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(X[:, numeric].std(axis=0), 1, atol=1e-3)
    onehot = X[:, [i for i, n in enumerate(names) if n.startswith("workclass_")]]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 1).all()
    assert adult.frame is None
    assert "CC BY 4.0" in adult.DESCR


def test_adult_race_options():
    race = load_adult(sensitive="race", return_X_y=True)[2]
    assert sorted(set(race)) == [
        "Amer-Indian-Eskimo",
        "Asian-Pac-Islander",
        "Black",
        "Other",
        "White",
    ]
    bunch = load_adult(sensitive="race_binary")
    counts = pd.Series(bunch.sensitive).value_counts().to_dict()
    assert counts == {"White": 27816, "Non-White": 4745}
    assert any(n.startswith("sex_") for n in bunch.feature_names)
    assert not any(n.startswith("race_") for n in bunch.feature_names)


def test_adult_intersectional():
    X, y, s = load_adult(sensitive=["sex", "race_binary"], return_X_y=True)
    assert s.shape == (32561, 2)
    frame = load_adult(sensitive=["sex", "race_binary"], as_frame=True)
    assert list(frame.sensitive.columns) == ["sex", "race_binary"]
    assert set(frame.sensitive_names) == {"sex", "race_binary"}


def test_adult_raw_frame_and_reusable_preprocessor():
    bunch = load_adult(as_frame=True, preprocessed=False)
    raw = bunch.data
    assert isinstance(raw, pd.DataFrame) and raw.shape == (32561, 13)
    assert "sex" not in raw and "income" not in raw and "fnlwgt" in raw
    assert raw["workclass"].isna().sum() == 1836  # "?" in the source
    assert bunch.frame.shape == (32561, 15)
    assert set(bunch.frame["income"]) == {"<=50K", ">50K"}
    assert isinstance(bunch.target, pd.Series) and bunch.target.name == "income"
    assert isinstance(bunch.sensitive, pd.Series)
    Xt = clone(bunch.preprocessor).fit_transform(raw).astype(np.float32)
    np.testing.assert_allclose(Xt, load_adult().data, atol=1e-6)


def test_adult_preprocessed_frame_and_keep_sensitive():
    bunch = load_adult(as_frame=True, drop_sensitive=False)
    assert isinstance(bunch.data, pd.DataFrame)
    assert (bunch.data.dtypes == np.float32).all()
    assert {"sex_Female", "sex_Male"} <= set(bunch.data.columns)
    assert bunch.data.shape == (32561, 107)


def test_returned_data_is_a_copy():
    frame = load_adult(as_frame=True, preprocessed=False).frame
    frame.loc[:, "age"] = -1
    assert (load_adult(as_frame=True, preprocessed=False).frame["age"] > 0).all()


def test_german_default():
    german = load_german_credit()
    assert german.data.shape == (1000, 57) and german.data.dtype == np.float32
    assert int(german.target.sum()) == 700
    assert german.target_names.tolist() == ["bad", "good"]
    counts = pd.Series(german.sensitive).value_counts().to_dict()
    assert counts == {"Male": 690, "Female": 310}
    assert not any(n.startswith("personal_status") for n in german.feature_names)
    assert "age" in german.feature_names


def test_german_age_groups():
    bunch = load_german_credit(sensitive="age")
    assert pd.Series(bunch.sensitive).value_counts().to_dict() == {
        ">=25": 851,
        "<25": 149,
    }
    assert "age" not in bunch.feature_names
    s = load_german_credit(sensitive="age", age_threshold=30, return_X_y=True)[2]
    assert sorted(set(s)) == ["<30", ">=30"]


def test_german_raw_and_sex_decoding():
    bunch = load_german_credit(as_frame=True, preprocessed=False, drop_sensitive=False)
    status = bunch.data["personal_status"]
    male = status.isin(["A91", "A93", "A94"]).to_numpy()
    assert ((bunch.sensitive == "Male").to_numpy() == male).all()
    assert set(bunch.frame["credit"]) == {1, 2}
    assert (
        (bunch.frame["credit"] == 1).to_numpy() == (bunch.target == 1).to_numpy()
    ).all()


@pytest.mark.parametrize(
    "loader, kwargs, error, match",
    [
        (
            load_adult,
            {"sensitive": "gender"},
            ValueError,
            "sensitive='gender' is not valid",
        ),
        (load_adult, {"sensitive": 3}, TypeError, "sensitive=3 is invalid"),
        (
            load_adult,
            {"sensitive": ["sex", "sex"]},
            ValueError,
            "names an attribute twice",
        ),
        (
            load_adult,
            {"preprocessed": False},
            ValueError,
            "preprocessed=False .* as_frame=True",
        ),
        (load_adult, {"return_X_y": "yes"}, TypeError, "return_X_y='yes'"),
        (
            load_german_credit,
            {"sensitive": "race"},
            ValueError,
            "expected one of 'sex', 'age'",
        ),
        (
            load_german_credit,
            {"age_threshold": 0},
            ValueError,
            "age_threshold=0 is invalid",
        ),
    ],
)
def test_bad_arguments(loader, kwargs, error, match):
    with pytest.raises(error, match=match):
        loader(**kwargs)
