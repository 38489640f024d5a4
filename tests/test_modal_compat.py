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


PATCHED_NAMES = ("check_X_y", "data_vstack", "retrieve_rows")
ALWAYS_PATCHED = {  # modAL 0.4.2.x: bare except in retrieve_rows; the learner's flag
    "modAL.utils.data.retrieve_rows",
    "modAL.models.base.retrieve_rows",
    "modAL.models.learners.retrieve_rows",
    "modAL.models.learners.ActiveLearner.__init__",
}


@pytest.fixture
def unpatched():
    """modAL as installed (shim undone); the shim is re-applied afterwards."""
    saved_state = dict(_modal_compat._state)
    undone = []
    for module in modal_modules().values():
        for attr in PATCHED_NAMES:
            func = getattr(module, attr, None)
            if getattr(func, "__skfral_compat__", False):
                setattr(module, attr, func.__wrapped__)
                undone.append((module, attr, func))
    learner_cls = importlib.import_module("modAL.models.learners").ActiveLearner
    init = learner_cls.__dict__["__init__"]
    if getattr(init, "__skfral_compat__", False):
        learner_cls.__init__ = init.__wrapped__
    _modal_compat._state.update(applied=False, patched=())
    yield
    for module, attr, func in undone:
        setattr(module, attr, func)
    learner_cls.__init__ = init
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
    expected = {
        name
        for name in ALWAYS_PATCHED
        if name.endswith("__init__") or name.rsplit(".", 1)[0] in sys.modules
    }
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
        if attr == "__init__":
            module_name, cls_name = module_name.rsplit(".", 1)
            func = getattr(sys.modules[module_name], cls_name).__dict__["__init__"]
        else:
            func = getattr(sys.modules[module_name], attr)
        assert func.__skfral_compat__
        assert not getattr(func.__wrapped__, "__skfral_compat__", False)
    # and no other modAL attribute was touched
    for name, module in modal_modules().items():
        for attr in PATCHED_NAMES:
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
    monkeypatch.setattr(_modal_compat, "_retrieve_rows_needs_patch", lambda f: False)
    monkeypatch.setattr(_modal_compat, "_learner_init_needs_patch", lambda c: False)
    assert _modal_compat.apply() == ()
    learners = importlib.import_module("modAL.models.learners")
    assert learners.check_X_y is sklearn.utils.check_X_y


def test_only_the_needed_patch(unpatched, monkeypatch):
    monkeypatch.setattr(_modal_compat, "_sklearn_needs_patch", lambda: True)
    monkeypatch.setattr(_modal_compat, "_pandas_needs_patch", lambda: False)
    monkeypatch.setattr(_modal_compat, "_retrieve_rows_needs_patch", lambda f: False)
    monkeypatch.setattr(_modal_compat, "_learner_init_needs_patch", lambda c: False)
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


# ------------------------------------------------- the wrong package (issue 16)
FIX = "pip uninstall modal modAL; pip install --no-deps modAL-python==0.4.2.1"


def test_require_modal_names_modals_cloud_client(monkeypatch):
    versions = {"modal": "1.2.3"}  # what `pip install modAL` installs
    monkeypatch.setattr(_modal_compat, "_distribution_version", versions.get)
    with pytest.raises(ImportError) as info:
        _modal_compat.require_modal()
    message = str(info.value)
    assert "the installed package is modal 1.2.3, Modal's cloud client" in message
    assert "`pip install modAL` installs it" in message
    assert message.endswith(f"Fix: {FIX}")


def test_require_modal_when_modal_imports_without_a_learner(monkeypatch):
    import types

    real_import = importlib.import_module
    fake = types.ModuleType("modAL.models")  # no ActiveLearner

    def import_module(name, *args):
        return fake if name == "modAL.models" else real_import(name, *args)

    monkeypatch.setattr(_modal_compat.importlib, "import_module", import_module)
    monkeypatch.setattr(
        _modal_compat,
        "_distribution_version",
        {"modAL-python": "0.4.2.1", "modal": "0.9"}.get,
    )
    with pytest.raises(ImportError) as info:
        _modal_compat.require_modal()
    message = str(info.value)
    assert "without modAL.models.ActiveLearner" in message
    assert "modal 0.9 is installed too" in message
    assert message.endswith(f"Fix: {FIX}")


def test_docs_say_modal_python():
    """Install instructions name modAL-python; ``pip install modAL`` only as a warning."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    wrong = re.compile(r"pip install (?:--?\S+ )*[\"']?modAL(?![-\w])")
    for rel in ("docs/user_guide/jin.rst", "docs/user_guide/baselines.rst"):
        text = (root / rel).read_text()
        assert "modAL-python" in text, rel
        bad = [
            line
            for line in text.splitlines()
            if wrong.search(line) and "unrelated" not in line and "Modal" not in line
        ]
        assert not bad, f"{rel}: {bad}"


# ------------------------------------------- interrupts reach the user (13)
class _Interrupting:
    """A pool whose row access is interrupted (Ctrl-C / sys.exit mid-query)."""

    def __init__(self, exc):
        self.exc = exc

    def __getitem__(self, item):
        raise self.exc

    def __len__(self):
        return 3


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_retrieve_rows_lets_interrupts_through(exc):
    data = importlib.import_module("modAL.utils.data")
    with pytest.raises(exc):
        data.retrieve_rows(_Interrupting(exc), [0])


def test_ctrl_c_during_a_modal_query_is_not_a_type_error():
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    learner = ActiveLearner(
        LogisticRegression(),
        query_strategy=lambda learner, X_pool, **kw: (np.array([0]), np.array([1.0])),
        X_training=X,
        y_training=[0, 0, 1, 1],
    )
    with pytest.raises(KeyboardInterrupt):
        learner.query(_Interrupting(KeyboardInterrupt))


def test_retrieve_rows_fallbacks_still_work():
    import scipy.sparse as sp

    data = importlib.import_module("modAL.utils.data")
    assert data.retrieve_rows([[1], [2], [3]], [0, 2]) == [[1], [3]]
    out = data.retrieve_rows({"a": np.arange(3), "b": [4, 5, 6]}, [1])
    assert out["a"].tolist() == [1] and out["b"] == [5]
    coo = sp.coo_matrix(np.eye(3))
    rows = data.retrieve_rows(coo, [1])
    assert rows.format == "coo" and rows.toarray().tolist() == [[0.0, 1.0, 0.0]]
    with pytest.raises(TypeError, match="datatype is not supported"):
        data.retrieve_rows(object(), [0])


# ------------------------------------ NaN-tolerant pipelines in modAL (12)
def _nan_data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    X[rng.rand(60, 3) < 0.15] = np.nan
    return X, y


def test_pipeline_with_imputer_teaches_and_queries_with_missing_values():
    from modAL.models import ActiveLearner
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfral.nn import MLP, RobustNeuralNetClassifier
    from skfral.query import EntropySampling

    X, y = _nan_data()
    assert np.isnan(X[:20]).any() and np.isnan(X[20:25]).any()
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=3, max_epochs=1, attack_n_steps=1, random_state=0
    )
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), net)
    learner = ActiveLearner(
        pipe,
        query_strategy=EntropySampling(random_state=0),
        X_training=X[:20],
        y_training=y[:20],
    )
    assert learner.force_all_finite is False  # the pipeline checks its own input
    learner.teach(X[20:25], y[20:25])
    assert len(learner.X_training) == 25
    idx, rows = learner.query(X[25:], n_instances=3)
    assert len(np.unique(idx)) == 3
    np.testing.assert_array_equal(rows, X[25:][idx])


def test_force_all_finite_is_kept_by_the_learner_not_passed_to_fit():
    from modAL.models import ActiveLearner
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = _nan_data()
    learner = ActiveLearner(
        make_pipeline(SimpleImputer(), LogisticRegression()),
        X_training=X[:20],
        y_training=y[:20],
        force_all_finite=False,
    )
    learner.teach(X[20:30], y[20:30])
    assert len(learner.y_training) == 30
    # asked for explicitly, modAL's own check stays on
    strict = ActiveLearner(
        make_pipeline(SimpleImputer(), LogisticRegression()),
        X_training=X[:20],
        y_training=y[:20],
        force_all_finite=True,
    )
    with pytest.raises(ValueError, match="NaN"):
        strict.teach(X[20:30], y[20:30])
    with pytest.raises(TypeError, match="force_all_finite='no'"):
        ActiveLearner(LogisticRegression(), force_all_finite="no")


def test_an_estimator_that_refuses_nan_keeps_modals_check():
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression

    X, y = _nan_data()
    finite = ~np.isnan(X).any(axis=1)
    learner = ActiveLearner(
        LogisticRegression(), X_training=X[finite][:20], y_training=y[finite][:20]
    )
    assert learner.force_all_finite is True
    with pytest.raises(ValueError, match="NaN"):
        learner.teach(X[~finite][:3], y[~finite][:3])
