"""JIN's own behaviour (the common contract is in test_common.py)."""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from skfral.nn import PGD
from skfral.query import JINQueryStrategy, disagreement_scores
from skfral.query._base import round_robin

from .query_helpers import PRE_ISSUE_25


def jin(data, **kw):
    """JIN with the settings before issue 25 (the answers below assume them:
    unshrunk group scores, every validation group ranked, no cap)."""
    params = dict(
        X_val=data["X_val"],
        y_val=data["y_val"],
        sensitive_features_val=data["s_val"],
        random_state=0,
        **PRE_ISSUE_25,
    )
    params.update(kw)
    return JINQueryStrategy(**params)


# A deterministic attack (a fixed seed), so that the worst group can be computed
# here, independently of the strategy's own ranking.
ATTACK = PGD(eps=0.1, n_steps=2, random_state=0)


def group_scores_by_hand(learner, X_val, y_val, s_val, attack=ATTACK):
    """Mean of clean and robust accuracy per group, with pandas (worst first)."""
    net = learner.estimator
    clean = net.predict(X_val) == y_val
    robust = net.predict(attack.perturb(net, X_val, y_val)) == y_val
    table = pd.DataFrame({"clean": clean, "robust": robust}).groupby(s_val).mean()
    return ((table["clean"] + table["robust"]) / 2).sort_values(kind="stable")


def worst_group_of(learner, data):
    return group_scores_by_hand(
        learner, data["X_val"], data["y_val"], data["s_val"]
    ).index[0]


def test_picks_only_worst_group_when_it_has_enough(learner, fral_data):
    strategy = jin(fral_data, group_allocation="worst", attack=ATTACK)
    worst = worst_group_of(learner, fral_data)
    idx, _ = strategy(
        learner,
        fral_data["X_pool"],
        n_instances=6,
        sensitive_features=fral_data["s_pool"],
    )
    assert set(fral_data["s_pool"][idx]) == {worst}


def test_falls_back_to_next_worst_group(learner, fral_data):
    strategy = jin(fral_data, group_allocation="worst", attack=ATTACK)
    worst = worst_group_of(learner, fral_data)
    n_worst = int((fral_data["s_pool"] == worst).sum())
    idx, _ = strategy(
        learner,
        fral_data["X_pool"],
        n_instances=n_worst + 5,
        sensitive_features=fral_data["s_pool"],
    )
    groups = fral_data["s_pool"][idx]
    assert (groups == worst).sum() == n_worst
    assert (groups != worst).sum() == 5
    # the worst group's samples come first
    assert np.all(groups[:n_worst] == worst)


def proportional_by_hand(scores, n):
    """Split ``n`` by each group's deficit to the best group (largest remainders,
    ties to the worse group). ``scores``: a Series, worst group first."""
    values = scores.to_numpy(dtype=float)
    deficit = values.max() - values
    share = n * deficit / deficit.sum()
    counts = np.floor(share).astype(int)
    extra = sorted(range(len(share)), key=lambda j: (counts[j] - share[j], values[j]))
    for j in extra[: n - counts.sum()]:
        counts[j] += 1
    return {g: int(c) for g, c in zip(scores.index, counts) if c > 0}


def three_groups(X, s):
    """The minority (2) and the majority split in two by feature 2."""
    return np.where(s == 1, 2, (X[:, 2] > 0).astype(int))


def test_proportional_allocation_spreads_over_groups(learner, fral_data):
    # Three groups: with two, "proportional" would equal "worst".
    data = dict(fral_data)
    data["s_val"] = three_groups(data["X_val"], data["s_val"])
    data["s_pool"] = three_groups(data["X_pool"], data["s_pool"])
    scores = group_scores_by_hand(learner, data["X_val"], data["y_val"], data["s_val"])
    assert scores.is_unique
    n = 10
    expected = proportional_by_hand(scores, n)
    assert len(expected) >= 2  # visibly different from "worst" (all from one group)
    available = pd.Series(data["s_pool"]).value_counts()
    assert all(available[g] >= c for g, c in expected.items())

    strategy = jin(data, group_allocation="proportional", attack=ATTACK)
    table = strategy.utilities(
        learner, data["X_pool"], sensitive_features=data["s_pool"]
    )
    assert set(table.columns) >= {
        "group",
        "group_rank",
        "I_adv",
        "I_mod",
        "score",
        "predicted_class",
    }
    idx, _ = strategy(
        learner, data["X_pool"], n_instances=n, sensitive_features=data["s_pool"]
    )
    assert len(np.unique(idx)) == n
    assert pd.Series(data["s_pool"][idx]).value_counts().to_dict() == expected
    # "worst" takes the whole batch from the worst group
    idx, _ = jin(data, group_allocation="worst", attack=ATTACK)(
        learner, data["X_pool"], n_instances=n, sensitive_features=data["s_pool"]
    )
    assert set(data["s_pool"][idx]) == {scores.index[0]}


class FixedProba(ClassifierMixin, BaseEstimator):
    """A "standard model" that answers ``proba`` for rows whose feature 3 is ``mark``."""

    fits = 0

    def __init__(self, mark=50.0, proba=(0.5, 0.5)):
        self.mark = mark
        self.proba = proba

    def fit(self, X, y):
        type(self).fits += 1
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        out = np.full((len(X), 2), 0.5)
        out[X[:, 3] == self.mark] = self.proba
        return out


class MoveMarked:
    """Attack that sends the marked row to ``target`` and leaves the others alone."""

    def __init__(self, mark, target):
        self.mark, self.target = mark, target

    def perturb(self, net, X, y=None):
        X = np.array(X, dtype=np.float32, copy=True)
        X[X[:, 3] == self.mark] = self.target
        return X


def test_sample_inconsistent_in_both_senses_ranks_first(learner, fral_data):
    X_pool = fral_data["X_pool"].copy()
    s_pool = np.ones(len(X_pool), dtype=int)  # every candidate in one group
    net = learner.estimator
    pred = net.predict(X_pool)
    i = int(np.flatnonzero(pred == pred[0])[5])
    X_pool[i, 3] = 50.0
    c = int(net.predict(X_pool[i : i + 1])[0])
    other = X_pool[np.flatnonzero(net.predict(X_pool) != c)[0]]
    opposite = np.eye(2)[1 - c] * 0.98 + 0.01
    strategy = jin(
        fral_data,
        attack=MoveMarked(50.0, other),
        standard_estimator=FixedProba(mark=50.0, proba=tuple(opposite)),
        class_balance=False,
    )
    idx, scores = strategy(learner, X_pool, n_instances=3, sensitive_features=s_pool)
    assert idx[0] == i
    assert scores[0] > scores[1]


def test_fits_standard_once_per_call_and_never_refits_robust(
    learner, fral_data, monkeypatch
):
    calls = {"robust": 0}
    original_fit = learner.estimator.fit

    def counting_fit(*args, **kwargs):
        calls["robust"] += 1
        return original_fit(*args, **kwargs)

    monkeypatch.setattr(learner.estimator, "fit", counting_fit)
    FixedProba.fits = 0
    strategy = jin(fral_data, standard_estimator=FixedProba())
    for n_calls in (1, 2):
        strategy(
            learner,
            fral_data["X_pool"],
            n_instances=4,
            sensitive_features=fral_data["s_pool"],
        )
        assert FixedProba.fits == n_calls
        assert strategy.n_standard_fits_ == n_calls
    assert calls["robust"] == 0


def test_default_standard_model_is_clean_and_warm_started(learner, fral_data):
    strategy = jin(fral_data)
    strategy(
        learner,
        fral_data["X_pool"],
        n_instances=4,
        sensitive_features=fral_data["s_pool"],
    )
    std = strategy.standard_estimator_
    assert std.adversarial is None and learner.estimator.adversarial == "pgd"
    assert std is not learner.estimator
    first_weights = copy.deepcopy(std.module_.state_dict())
    learner.teach(fral_data["X_pool"][:4], fral_data["y_pool"][:4])
    strategy(
        learner,
        fral_data["X_pool"][4:],
        n_instances=4,
        sensitive_features=fral_data["s_pool"][4:],
    )
    assert strategy.standard_estimator_.warm_start is True
    assert strategy.standard_estimator_.max_epochs == 1  # ceil(3 / 3)
    assert any(
        not np.allclose(first_weights[k], v)
        for k, v in strategy.standard_estimator_.module_.state_dict().items()
    )


def test_class_balance_gives_balanced_batch(learner, fral_data):
    strategy = jin(fral_data, class_balance=True, group_allocation="worst")
    util = strategy.utilities(
        learner, fral_data["X_pool"], sensitive_features=fral_data["s_pool"]
    )
    idx, _ = strategy(
        learner,
        fral_data["X_pool"],
        n_instances=8,
        sensitive_features=fral_data["s_pool"],
    )
    classes = util["predicted_class"].to_numpy()[idx]
    available = util.loc[idx, "group"].iloc[0]
    per_class = np.bincount(
        util.loc[util["group"] == available, "predicted_class"], minlength=2
    )
    counts = np.bincount(classes, minlength=2)
    if per_class.min() >= 4:
        assert counts.tolist() == [4, 4]
    else:
        assert counts.min() == per_class.min()


def test_round_robin_alternates():
    order = np.array([0, 1, 2, 3, 4, 5])
    labels = np.array([0, 0, 0, 1, 1, 0])
    assert round_robin(order, labels, 4).tolist() == [0, 3, 1, 4]
    assert round_robin(order, labels, 6).tolist() == [0, 3, 1, 4, 2, 5]


@pytest.mark.parametrize("kind", ["kl", "js", "hard"])
def test_disagreement_properties(kind):
    rng = np.random.RandomState(0)
    p = rng.dirichlet([1, 1, 1], size=20)
    q = rng.dirichlet([1, 1, 1], size=20)
    d = disagreement_scores(p, q, kind)
    assert d.shape == (20,) and np.all(d >= 0)
    np.testing.assert_allclose(disagreement_scores(p, p, kind), 0, atol=1e-9)
    if kind == "js":
        np.testing.assert_allclose(d, disagreement_scores(q, p, kind))
        assert np.all(d <= np.log(2) + 1e-9)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(disagreement="kld"), "disagreement='kld'"),
        (dict(weights=(1.0,)), "weights="),
        (dict(weights=(0, 0)), r"weights=\(0, 0\)"),
        (dict(weights=(-1, 1)), r"weights\[0\]=-1"),
        (dict(group_allocation="all"), "group_allocation='all'"),
        (dict(group_criterion="worst"), "group_criterion='worst'"),
        (dict(score_aggregation="max"), "score_aggregation='max'"),
        (dict(class_balance="yes"), "class_balance='yes'"),
    ],
)
def test_bad_settings(params, match, learner, fral_data):
    with pytest.raises((ValueError, TypeError), match=match):
        jin(fral_data, **params)(
            learner,
            fral_data["X_pool"],
            n_instances=2,
            sensitive_features=fral_data["s_pool"],
        )


@pytest.mark.parametrize("weights", [(1.0, 0.0), (0.0, 1.0)])
@pytest.mark.parametrize("aggregation", ["sum", "rank"])
def test_single_signal_and_rank_aggregation(weights, aggregation, learner, fral_data):
    strategy = jin(
        fral_data, weights=weights, score_aggregation=aggregation, class_balance=False
    )
    util = strategy.utilities(
        learner, fral_data["X_pool"], sensitive_features=fral_data["s_pool"]
    )
    signal = util["I_adv"] if weights[0] else util["I_mod"]
    if aggregation == "sum":
        np.testing.assert_allclose(util["score"], signal)
    else:
        assert np.all(
            np.diff(
                util["score"].to_numpy()[np.argsort(signal.to_numpy(), kind="stable")]
            )
            >= -1e-12
        )


def test_kcenter_diversity_keeps_quotas_and_spreads_the_batch(learner, fral_data):
    from skfral.nn import penultimate_embedding

    kw = dict(class_balance=True)
    plain = jin(fral_data, **kw)
    diverse = jin(fral_data, diversity="kcenter", diversity_factor=3, **kw)
    args = (learner, fral_data["X_pool"])
    sf = dict(n_instances=6, sensitive_features=fral_data["s_pool"])
    idx_plain, _ = plain(*args, **sf)
    idx_div, _ = diverse(*args, **sf)
    pred = learner.estimator.predict(fral_data["X_pool"])
    # same class quotas and the same groups
    assert sorted(pred[idx_plain]) == sorted(pred[idx_div])
    assert set(fral_data["s_pool"][idx_div]) == set(fral_data["s_pool"][idx_plain])
    # the diverse batch starts with the best candidate and is at least as spread out
    assert idx_div[0] == idx_plain[0]
    emb = penultimate_embedding(learner.estimator, fral_data["X_pool"])

    def min_pairwise(idx):
        e = emb[idx]
        d = ((e[:, None] - e[None]) ** 2).sum(-1)
        return d[np.triu_indices(len(idx), 1)].min()

    assert min_pairwise(idx_div) >= min_pairwise(idx_plain) - 1e-9
    with pytest.raises(ValueError, match="diversity='dpp'"):
        jin(fral_data, diversity="dpp")(*args, **sf)


def test_no_group_restriction_ranks_the_whole_pool(learner, fral_data, monkeypatch):
    import skfral.query._jin as jin_module

    def fail(*args, **kwargs):
        raise AssertionError("no validation ranking expected")

    monkeypatch.setattr(jin_module, "rank_groups", fail)
    # a deterministic standard model: utilities() and the query then score alike
    strategy = jin(
        fral_data,
        group_allocation="none",
        class_balance=False,
        standard_estimator=FixedProba(),
    )
    util = strategy.utilities(
        learner, fral_data["X_pool"], sensitive_features=fral_data["s_pool"]
    )
    idx, scores = strategy(
        learner,
        fral_data["X_pool"],
        n_instances=5,
        sensitive_features=fral_data["s_pool"],
    )
    top = np.argsort(-util["score"].to_numpy(), kind="stable")[:5]
    assert set(idx) == set(top)


def test_uncertainty_weight_adds_the_robust_entropy(learner, fral_data):
    kw = dict(disagreement="kl", class_balance=False, standard_estimator=FixedProba())
    plain = jin(fral_data, **kw).utilities(
        learner, fral_data["X_pool"], sensitive_features=fral_data["s_pool"]
    )
    mixed = jin(fral_data, uncertainty_weight=2.0, **kw).utilities(
        learner, fral_data["X_pool"], sensitive_features=fral_data["s_pool"]
    )
    proba = learner.estimator.predict_proba(fral_data["X_pool"])
    expected_entropy = -(proba * np.log(np.clip(proba, 1e-12, 1))).sum(axis=1)
    np.testing.assert_allclose(mixed["entropy"], expected_entropy, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        mixed["score"], plain["score"] + 2.0 * expected_entropy, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="uncertainty_weight=-1"):
        jin(fral_data, uncertainty_weight=-1)(
            learner,
            fral_data["X_pool"],
            n_instances=2,
            sensitive_features=fral_data["s_pool"],
        )
