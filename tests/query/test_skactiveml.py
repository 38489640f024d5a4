"""skfral strategies inside scikit-activeml (issue 16): to_skactiveml.

Every strategy runs three rounds of scikit-activeml's own pool loop
(``y`` with ``MISSING_LABEL``, ``SklearnClassifier`` refitted each round), and
the conventions of scikit-activeml's query-strategy test template are checked
on the adapter: parameter types, batch and candidate variations, utilities
(NaN for labelled samples), reproducibility and an unchanged ``clf``.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfral.query import EntropySampling, JINQueryStrategy, to_skactiveml
from skfral.utils.discovery import all_strategies

from .query_helpers import make_data, make_net

skactiveml = pytest.importorskip("skactiveml")
from skactiveml.base import SingleAnnotatorPoolQueryStrategy  # noqa: E402
from skactiveml.classifier import SklearnClassifier  # noqa: E402
from skactiveml.utils import MISSING_LABEL, is_labeled, is_unlabeled  # noqa: E402

STRATEGIES = all_strategies()


@pytest.fixture(scope="module")
def data():
    X, y, s = make_data(n=160)
    y = y.astype(float)
    val = slice(0, 50)
    rest = slice(50, None)
    X_al, y_true, s_al = X[rest], y[rest], s[rest]
    y_al = np.full(len(y_true), MISSING_LABEL)
    y_al[:20] = y_true[:20]
    return dict(
        X_val=X[val],
        y_val=y[val],
        s_val=s[val],
        X=X_al,
        y=y_al,
        y_true=y_true,
        s=s_al,
    )


def build(cls, data, **extra):
    params = {"random_state": 0}
    if cls.requires_validation:
        params.update(
            X_val=data["X_val"],
            y_val=data["y_val"],
            sensitive_features_val=data["s_val"],
        )
    if "n_candidates" in cls._get_param_names():
        params.update(n_candidates=3, refit_epochs=1)
    params.update(extra)
    return cls(**params)


def net(**kw):
    return make_net(max_epochs=1, attack_n_steps=1, **kw)


def query(qs, data, clf=None, **kw):
    kw.setdefault("sensitive_features", data["s"])
    return qs.query(data["X"], data["y"], net() if clf is None else clf, **kw)


# ---------------------------------------------- scikit-activeml's pool loop
@pytest.mark.parametrize("name, cls", STRATEGIES, ids=[n for n, _ in STRATEGIES])
def test_three_rounds_of_the_skactiveml_pool_loop(name, cls, data):
    X, y_true, s = data["X"], data["y_true"], data["s"]
    y = data["y"].copy()
    clf = SklearnClassifier(net(), classes=[0.0, 1.0], missing_label=MISSING_LABEL)
    qs = to_skactiveml(build(cls, data))
    assert isinstance(qs, SingleAnnotatorPoolQueryStrategy)
    clf.fit(X, y)
    for _ in range(3):
        n_labelled = int(is_labeled(y).sum())
        idx = qs.query(X, y, clf, sensitive_features=s, batch_size=3)
        assert len(np.unique(idx)) == 3
        assert is_unlabeled(y[idx]).all()  # indices into X, unlabelled ones
        y[idx] = y_true[idx]
        clf.fit(X, y)
        assert int(is_labeled(y).sum()) == n_labelled + 3


# ------------------------------------------------------ template conventions
@pytest.fixture(params=["entropy", "jin"])
def qs_cls(request, data):
    return EntropySampling if request.param == "entropy" else JINQueryStrategy


def test_batch_variation_and_utilities(qs_cls, data):
    qs = to_skactiveml(build(qs_cls, data))
    idx, utils = query(qs, data, batch_size=4, return_utilities=True)
    labelled = is_labeled(data["y"])
    assert len(idx) == 4 and utils.shape == (4, len(data["X"]))
    assert np.isnan(utils[0]).sum() == labelled.sum()  # NaN exactly for labelled
    assert np.isnan(utils[:, labelled]).all()
    for k in range(4):  # row k chooses the k-th pick; earlier picks are NaN
        assert np.nanargmax(utils[k]) == idx[k]
        assert np.isnan(utils[k, idx[:k]]).all()
    n_unlabelled = int((~labelled).sum())
    with pytest.warns(Warning, match="larger than number of candidates"):
        ids = query(qs, data, batch_size=n_unlabelled + 1, candidates=np.arange(20, 26))
    assert sorted(ids.tolist()) == list(range(20, 26))


def test_candidate_variation(data):
    qs = to_skactiveml(EntropySampling(random_state=0))
    clf = net().fit(data["X"][:20], data["y"][:20])
    kw = dict(fit_clf=False, return_utilities=True, batch_size=2)
    idx1, u1 = query(qs, data, clf, **kw)
    unlabelled = np.flatnonzero(is_unlabeled(data["y"]))
    idx2, u2 = query(qs, data, clf, candidates=unlabelled, **kw)
    np.testing.assert_array_equal(idx1, idx2)
    np.testing.assert_allclose(u1, u2)
    one = unlabelled[:1]
    idx3, u3 = query(qs, data, clf, candidates=one, **{**kw, "batch_size": 1})
    assert idx3.tolist() == one.tolist()
    expected = np.full_like(u3, np.nan)
    expected[0, one] = u3[0, one]
    np.testing.assert_allclose(u3, expected)
    # candidate samples: indices and utilities refer to the candidates
    X_cand = data["X"][unlabelled][::-1]
    s = np.concatenate([data["s"], data["s"][unlabelled][::-1]])
    idx4, u4 = qs.query(
        data["X"], data["y"], clf, sensitive_features=s, candidates=X_cand, **kw
    )
    assert u4.shape == (2, len(X_cand))
    np.testing.assert_array_equal(X_cand[idx4], data["X"][idx1])
    with pytest.raises(ValueError, match="then of the .* candidates"):
        qs.query(
            data["X"], data["y"], clf, sensitive_features=data["s"], candidates=X_cand
        )


def test_reproducible_with_a_random_state_instance(data):
    qs = to_skactiveml(
        build(JINQueryStrategy, data), random_state=np.random.RandomState(0)
    )
    ids1, u1 = query(qs, data, batch_size=3, return_utilities=True)
    ids2, u2 = query(qs, data, batch_size=3, return_utilities=True)
    np.testing.assert_array_equal(ids1, ids2)
    np.testing.assert_allclose(u1, u2)


@pytest.mark.parametrize("fit_clf", [True, False])
def test_clf_is_never_changed(fit_clf, data):
    clf = SklearnClassifier(net(), classes=[0.0, 1.0], missing_label=MISSING_LABEL)
    if not fit_clf:
        clf.fit(data["X"], data["y"])
    before = copy.deepcopy(clf)
    query(to_skactiveml(EntropySampling(random_state=0)), data, clf, fit_clf=fit_clf)
    assert set(vars(clf)) == set(vars(before))
    if not fit_clf:
        p_before = before.predict_proba(data["X"])
        np.testing.assert_allclose(clf.predict_proba(data["X"]), p_before)


def test_pipeline_and_bare_net_clf(data):
    qs = to_skactiveml(build(JINQueryStrategy, data))
    idx = query(qs, data, make_pipeline(StandardScaler(), net()), batch_size=3)
    assert len(np.unique(idx)) == 3 and is_unlabeled(data["y"][idx]).all()


@pytest.mark.parametrize(
    "params, exc, match",
    [
        (dict(clf=np.nan), TypeError, "clf=nan is not supported"),
        (dict(clf="state"), TypeError, "clf='state' is not supported"),
        (dict(clf=GaussianNB()), TypeError, "expected a skfral RobustNeuralNet"),
        (dict(fit_clf="state"), TypeError, "fit_clf='state'"),
        (dict(fit_clf=np.nan), TypeError, "fit_clf=nan"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=1.2), TypeError, "batch_size"),
        (dict(return_utilities="string"), TypeError, "return_utilities"),
        (dict(sensitive_features=np.zeros(3)), ValueError, "sensitive_features has 3"),
    ],
)
def test_query_parameters_are_checked(params, exc, match, data):
    qs = to_skactiveml(EntropySampling(random_state=0))
    params = {"clf": net(), **params}
    with pytest.raises(exc, match=match):
        qs.query(data["X"], data["y"], **params)


def test_init_parameters_are_checked_at_query(data):
    for qs, exc in [
        (to_skactiveml(EntropySampling(), random_state="state"), ValueError),
        (to_skactiveml(EntropySampling(), random_state=np.nan), ValueError),
        (to_skactiveml("entropy"), TypeError),
    ]:
        with pytest.raises(exc):
            query(qs, data)
    qs = to_skactiveml(EntropySampling(), missing_label=-1)
    with pytest.raises((TypeError, ValueError)):
        query(qs, data)  # NaN labels with missing_label=-1 are inconsistent


def test_skorch_classifier_is_refused_with_a_hint(data):
    from skactiveml.classifier import SkorchClassifier

    from skfral.nn import MLP

    clf = SkorchClassifier(MLP, classes=[0.0, 1.0], missing_label=MISSING_LABEL)
    with pytest.raises(
        TypeError, match=r"SklearnClassifier\(RobustNeuralNetClassifier"
    ):
        query(to_skactiveml(EntropySampling()), data, clf)


def test_clone_and_params(data):
    qs = to_skactiveml(EntropySampling(random_state=3), missing_label=-1)
    twin = clone(qs)
    assert type(twin) is type(qs)
    assert twin.missing_label == -1 and twin.strategy.random_state == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert twin.get_params()["strategy"].get_params() == {
            "max_candidates": None,
            "random_state": 3,
        }
