"""The modAL compatibility shim (skfral._modal_compat)."""

import importlib
import importlib.metadata
import inspect
import sys

import numpy as np
import pandas as pd
import pytest
import sklearn.utils

import skfral
from skfral import _modal_compat

pytest.importorskip("modAL")


def installed_needs():
    """What the installed scikit-learn and pandas need (not using the shim's code)."""
    sklearn_needs = (
        "force_all_finite" not in inspect.signature(sklearn.utils.check_X_y).parameters
    )
    pandas_needs = not hasattr(pd.DataFrame, "append")
    return sklearn_needs, pandas_needs


def modal_modules():
    return {
        name: mod
        for name, mod in sys.modules.items()
        if name == "modAL" or name.startswith("modAL.")
    }


@pytest.fixture
def unpatched():
    """modAL as installed (shim undone); the shim is re-applied afterwards."""
    saved_state = dict(_modal_compat._state)
    undone = []
    for module in modal_modules().values():
        for attr in ("check_X_y", "data_vstack"):
            func = getattr(module, attr, None)
            if getattr(func, "__skfral_compat__", False):
                setattr(module, attr, func.__wrapped__)
                undone.append((module, attr, func))
    _modal_compat._state.update(applied=False, patched=())
    yield
    for module, attr, func in undone:
        setattr(module, attr, func)
    _modal_compat._state.clear()
    _modal_compat._state.update(saved_state)


def test_import_applies_the_shim():
    sklearn_needs, pandas_needs = installed_needs()
    learners = importlib.import_module("modAL.models.learners")
    data = importlib.import_module("modAL.utils.data")
    assert getattr(learners.check_X_y, "__skfral_compat__", False) is sklearn_needs
    assert getattr(data.data_vstack, "__skfral_compat__", False) is pandas_needs
    assert skfral._modal_compat._state["applied"]


def test_apply_patches_what_the_installed_versions_need(unpatched):
    sklearn_needs, pandas_needs = installed_needs()
    patched = _modal_compat.apply()
    expected = set()
    if sklearn_needs:
        expected |= {"modAL.models.learners.check_X_y"}
    if pandas_needs:
        expected |= {
            "modAL.utils.data.data_vstack",
            "modAL.utils.data_vstack",
            "modAL.models.learners.data_vstack",
        }
    assert set(patched) == expected
    # every patched name now holds the compat function, wrapping the original once
    for dotted in patched:
        module_name, attr = dotted.rsplit(".", 1)
        func = getattr(sys.modules[module_name], attr)
        assert func.__skfral_compat__
        assert not getattr(func.__wrapped__, "__skfral_compat__", False)
    # and no other modAL attribute was touched
    for name, module in modal_modules().items():
        for attr in ("check_X_y", "data_vstack"):
            func = getattr(module, attr, None)
            if getattr(func, "__skfral_compat__", False):
                assert f"{name}.{attr}" in patched


def test_apply_is_idempotent(unpatched):
    first = _modal_compat.apply()
    learners = importlib.import_module("modAL.models.learners")
    data = importlib.import_module("modAL.utils.data")
    funcs = learners.check_X_y, data.data_vstack
    assert _modal_compat.apply() == first
    # even with the state forgotten, a second pass does not wrap twice
    _modal_compat._state.update(applied=False, patched=())
    assert _modal_compat.apply() == ()
    assert (learners.check_X_y, data.data_vstack) == funcs


def test_nothing_is_patched_when_nothing_is_needed(unpatched, monkeypatch):
    monkeypatch.setattr(_modal_compat, "_sklearn_needs_patch", lambda: False)
    monkeypatch.setattr(_modal_compat, "_pandas_needs_patch", lambda: False)
    assert _modal_compat.apply() == ()
    learners = importlib.import_module("modAL.models.learners")
    assert learners.check_X_y is sklearn.utils.check_X_y


def test_only_the_needed_patch(unpatched, monkeypatch):
    monkeypatch.setattr(_modal_compat, "_sklearn_needs_patch", lambda: True)
    monkeypatch.setattr(_modal_compat, "_pandas_needs_patch", lambda: False)
    assert _modal_compat.apply() == ("modAL.models.learners.check_X_y",)


def test_check_X_y_translation_keeps_the_meaning():
    learners = importlib.import_module("modAL.models.learners")
    X = np.array([[0.0, np.nan], [1.0, 2.0]])
    learners.check_X_y(X, [0, 1], force_all_finite=False)  # NaN allowed
    with pytest.raises(ValueError, match="NaN"):
        learners.check_X_y(X, [0, 1], force_all_finite=True)


def test_data_vstack_with_pandas():
    data = importlib.import_module("modAL.utils.data")
    a = pd.DataFrame({"u": [1.0, 2.0], "v": [3.0, 4.0]})
    b = pd.DataFrame({"u": [5.0], "v": [6.0]})
    stacked = data.data_vstack((a, b))
    assert isinstance(stacked, pd.DataFrame) and stacked["u"].tolist() == [
        1.0,
        2.0,
        5.0,
    ]
    mixed = data.data_vstack((a, np.array([[7.0, 8.0]])))
    assert mixed.columns.tolist() == ["u", "v"] and mixed["v"].tolist() == [
        3.0,
        4.0,
        8.0,
    ]
    series = data.data_vstack((pd.Series([0, 1], name="y"), np.array([1])))
    assert series.tolist() == [0, 1, 1]
    assert data.data_vstack((np.zeros((1, 2)), np.ones((2, 2)))).shape == (3, 2)


def test_active_learner_fit_and_teach_with_a_sklearn_estimator():
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(40, 3), columns=list("abc"))
    y = pd.Series((X["a"] > 0).astype(int), name="label")
    learner = ActiveLearner(
        LogisticRegression(), X_training=X.iloc[:10], y_training=y.iloc[:10]
    )
    learner.teach(X.iloc[10:15], y.iloc[10:15])
    learner.teach(X.iloc[15:16].to_numpy(), y.iloc[15:16].to_numpy())
    assert len(learner.X_training) == 16 and len(learner.y_training) == 16
    learner.fit(X.to_numpy(), y.to_numpy())
    assert learner.X_training.shape == (40, 3)
    assert learner.score(X.to_numpy(), y) > 0.8


# ------------------------------------------------------------ require_modal
def test_require_modal_returns_modal_models():
    models = _modal_compat.require_modal()
    assert models.ActiveLearner.__name__ == "ActiveLearner"


def test_require_modal_when_modal_is_missing(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert _modal_compat._modal_version() is None
    with pytest.raises(ImportError, match="not installed") as info:
        _modal_compat.require_modal()
    assert 'pip install --no-deps "modAL-python==0.4.2.1"' in str(info.value)


@pytest.mark.parametrize("found", ["0.4.1", "0.5.0"])
def test_require_modal_with_an_unsupported_version(monkeypatch, found):
    monkeypatch.setattr(_modal_compat, "_modal_version", lambda: found)
    with pytest.raises(ImportError, match=rf"{found} is installed") as info:
        _modal_compat.require_modal()
    assert 'pip install --no-deps "modAL-python==0.4.2.1"' in str(info.value)
