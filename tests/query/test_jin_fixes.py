"""JIN crashes found in review (issue 13), each pinned by a test that failed before.

* ``standard_estimator=LogisticRegression()`` failed from the second query
  (``Invalid parameter 'max_epochs'``): the warm start assumed a skorch net.
* ``diversity="kcenter"`` with duplicate rows picked the same sample twice and
  raised ``RuntimeError``.
* ``utilities()`` followed by a query on the same labelled set fitted the
  standard model twice.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from skfral.nn import PGD
from skfral.query import JINQueryStrategy


def jin(data, **kw):
    params = dict(
        X_val=data["X_val"],
        y_val=data["y_val"],
        sensitive_features_val=data["s_val"],
        random_state=0,
    )
    params.update(kw)
    return JINQueryStrategy(**params)


def test_sklearn_standard_estimator_across_rounds(learner, fral_data):
    X_pool, y_pool, s_pool = (fral_data[k] for k in ("X_pool", "y_pool", "s_pool"))
    template = LogisticRegression()
    strategy = jin(fral_data, standard_estimator=template)
    remaining = np.arange(len(X_pool))
    for _ in range(3):
        X_lab, y_lab = learner.X_training.copy(), learner.y_training.copy()
        idx, _ = strategy(
            learner,
            X_pool[remaining],
            n_instances=4,
            sensitive_features=s_pool[remaining],
        )
        assert len(np.unique(idx)) == 4
        model = strategy.standard_estimator_
        assert isinstance(model, LogisticRegression) and model is not template
        # refitted from scratch on the whole labelled set each round
        expected = LogisticRegression().fit(X_lab, y_lab)
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-6)
        learner.teach(X_pool[remaining][idx], y_pool[remaining][idx])
        remaining = np.delete(remaining, idx)
    assert strategy.n_standard_fits_ == 3
    assert not hasattr(template, "coef_")  # the object passed is never fitted


def test_kcenter_diversity_with_duplicate_rows(learner, fral_data):
    X_pool = np.repeat(fral_data["X_pool"][:6], 25, axis=0)  # 6 distinct rows
    s_pool = np.repeat(fral_data["s_pool"][:6], 25)
    strategy = jin(fral_data, diversity="kcenter", group_allocation="none")
    idx, scores = strategy(learner, X_pool, n_instances=8, sensitive_features=s_pool)
    assert len(idx) == 8 and len(np.unique(idx)) == 8
    assert np.isfinite(scores).all()
    # k-center moves away from the first pick: more than one distinct row
    assert len({X_pool[i].tobytes() for i in idx}) >= 2


class CountingProba(ClassifierMixin, BaseEstimator):
    """A deterministic standard model that counts its fits."""

    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        p = 1 / (1 + np.exp(-X[:, 0]))
        return np.column_stack([1 - p, p])


def test_utilities_then_query_fits_the_standard_model_once(learner, fral_data):
    CountingProba.fits = 0
    strategy = jin(
        fral_data,
        standard_estimator=CountingProba(),
        class_balance=False,
        disagreement="kl",
        attack=PGD(eps=0.1, n_steps=2, random_start=False),  # same x_adv per row
    )
    kwargs = dict(sensitive_features=fral_data["s_pool"])
    table = strategy.utilities(learner, fral_data["X_pool"], **kwargs)
    idx, scores = strategy(learner, fral_data["X_pool"], n_instances=5, **kwargs)
    assert CountingProba.fits == 1 and strategy.n_standard_fits_ == 1
    # the query scored with the model utilities() fitted: same scores
    np.testing.assert_allclose(scores, table["score"].to_numpy()[idx], rtol=1e-6)
    # a new labelled set: the next query fits again
    learner.teach(fral_data["X_pool"][idx], fral_data["y_pool"][idx])
    strategy(
        learner,
        np.delete(fral_data["X_pool"], idx, axis=0),
        n_instances=5,
        sensitive_features=np.delete(fral_data["s_pool"], idx),
    )
    assert CountingProba.fits == 2


def test_state_round_trip_with_a_pipeline_after_utilities(fral_data):
    """A restored Pipeline standard model is warm-started, not reused unfitted."""
    from modAL.models import ActiveLearner
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .query_helpers import make_net

    X_pool, y_pool, s_pool = (fral_data[k] for k in ("X_pool", "y_pool", "s_pool"))
    learner = ActiveLearner(
        estimator=make_pipeline(StandardScaler(), make_net()),
        X_training=fral_data["X_lab"],
        y_training=fral_data["y_lab"],
    )
    strategy = jin(fral_data)
    strategy(learner, X_pool, n_instances=4, sensitive_features=s_pool)
    learner.teach(X_pool[:4], y_pool[:4])
    strategy.utilities(learner, X_pool[4:], sensitive_features=s_pool[4:])
    resumed = clone(strategy).load_state_dict(
        strategy.state_dict(), estimator=learner.estimator
    )
    kwargs = dict(n_instances=4, sensitive_features=s_pool[4:])
    idx, scores = resumed(learner, X_pool[4:], **kwargs)
    assert len(np.unique(idx)) == 4 and np.isfinite(scores).all()
    assert resumed.n_standard_fits_ == strategy.n_standard_fits_ + 1
