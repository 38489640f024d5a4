"""JIN's ``group_allocation="bootstrap"``: known answers (issue 15, item 4).

The validation predictions are controlled exactly: the nets of
``test_known_answers`` read their class probabilities from the input
(``[p_rob | p_std | p_adv | emb]``) and :class:`SwapToAdv` makes the
adversarial prediction ``p_adv``. The expected probabilities that a group is
the worst are computed here by a separate numpy bootstrap (its own seed, its
own loops), and compared within the binomial spread of both estimates.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skfral.query import JINQueryStrategy
from skfral.query._allocation import allocate, worst_group_probabilities
from skfral.utils._validation import largest_remainder

from .query_helpers import PRE_ISSUE_25
from .test_known_answers import (
    C,
    SwapToAdv,
    fitted_learner,
    labelled_set,
    layout,
    one_hot_rows,
    proba_net,
)


def validation(spec, seed=0):
    """Validation rows with controlled correctness.

    ``spec``: ``{group: (n, n_clean_correct, n_adv_correct)}``; the labels
    cycle over the classes; a wrong prediction is the next class.
    """
    rng = np.random.RandomState(seed)
    X, y, g = [], [], []
    for group, (n, k_clean, k_adv) in spec.items():
        labels = np.arange(n) % C
        ok_clean = rng.permutation(np.arange(n) < k_clean)
        ok_adv = rng.permutation(np.arange(n) < k_adv)
        clean = np.where(ok_clean, labels, (labels + 1) % C)
        adv = np.where(ok_adv, labels, (labels + 1) % C)
        X.append(layout(one_hot_rows(clean), p_adv=one_hot_rows(adv)))
        y.append(labels)
        g += [group] * n
    return np.vstack(X), np.concatenate(y), np.asarray(g)


def pool(counts, seed=1):
    rng = np.random.RandomState(seed)
    s = np.concatenate([[g] * n for g, n in counts.items()])
    p = rng.dirichlet(np.ones(C), size=len(s))
    return layout(p, rng.dirichlet(np.ones(C), size=len(s)), p[:, ::-1]), s


def _jin(X_val, y_val, g_val, **kw):
    params = dict(
        X_val=X_val,
        y_val=y_val,
        sensitive_features_val=g_val,
        attack=SwapToAdv(),
        standard_estimator=proba_net(offset=C),
        disagreement="kl",
        class_balance=False,
        random_state=0,
        **PRE_ISSUE_25,  # bootstrap; no shrinkage, minimum or cap
    )
    params.update(kw)
    return JINQueryStrategy(**params)


def _balanced_by_hand(y, ok):
    return np.mean([ok[y == c].mean() for c in np.unique(y)])


def p_worst_by_hand(X_val, y_val, g_val, criterion, n_boot, seed):
    """An independent bootstrap: python loops, ties split evenly."""
    pred_clean = X_val[:, :C].argmax(axis=1)
    pred_adv = X_val[:, 2 * C : 3 * C].argmax(axis=1)
    groups = list(dict.fromkeys(g_val))
    rng = np.random.default_rng(seed)
    wins = dict.fromkeys(groups, 0.0)
    for _ in range(n_boot):
        scores = {}
        for group in groups:
            rows = np.flatnonzero(g_val == group)
            pick = rows[rng.integers(0, len(rows), len(rows))]
            y = y_val[pick]
            ok_c, ok_a = pred_clean[pick] == y, pred_adv[pick] == y
            if criterion == "mean":
                scores[group] = (ok_c.mean() + ok_a.mean()) / 2
            else:  # balanced_mean
                scores[group] = (
                    _balanced_by_hand(y, ok_c) + _balanced_by_hand(y, ok_a)
                ) / 2
        low = min(scores.values())
        tied = [group for group, v in scores.items() if v == low]
        for group in tied:
            wins[group] += 1 / len(tied)
    return pd.Series(wins) / n_boot


def query_counts(strategy, X_pool, s_pool, n):
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=n,
        sensitive_features=s_pool,
    )
    return pd.Series(s_pool[idx]).value_counts().to_dict(), idx


def test_clearly_worst_group_gets_the_whole_batch():
    # a: always right; b: right on 10 of 40 rows (clean and adversarial)
    X_val, y_val, g_val = validation({"a": (40, 40, 40), "b": (40, 10, 10)})
    p = p_worst_by_hand(X_val, y_val, g_val, "mean", 500, seed=1)
    assert p["b"] == 1.0
    X_pool, s_pool = pool({"a": 15, "b": 15})
    counts, _ = query_counts(_jin(X_val, y_val, g_val), X_pool, s_pool, 10)
    assert counts == {"b": 10}


def test_equal_groups_split_near_half():
    # Both groups: 42 of 60 right, clean and adversarial: equal in expectation,
    # so by symmetry each is the worst with probability 1/2.
    X_val, y_val, g_val = validation({"a": (60, 42, 42), "b": (60, 42, 42)})
    n_boot, n = 1000, 20
    p_hat = p_worst_by_hand(X_val, y_val, g_val, "mean", 4000, seed=2)["a"]
    assert abs(p_hat - 0.5) < 4 * 0.5 / np.sqrt(4000)  # the symmetry, by hand
    # the strategy's share of "a" is 0.5 +- 4 binomial sds of its n_boot draws,
    # then rounded to whole picks
    tol = n * 4 * 0.5 / np.sqrt(n_boot) + 1
    X_pool, s_pool = pool({"a": 30, "b": 30})
    for seed in range(3):
        strategy = _jin(X_val, y_val, g_val, n_boot=n_boot, random_state=seed)
        counts, _ = query_counts(strategy, X_pool, s_pool, n)
        assert sum(counts.values()) == n
        assert abs(counts.get("a", 0) - n / 2) <= tol
        assert 0 < counts.get("a", 0) < n


@pytest.mark.parametrize("criterion", ["mean", "balanced_mean"])
def test_probabilities_match_an_independent_bootstrap(criterion):
    # a: 24/30 clean, 20/30 robust; b: 21/30 clean, 21/30 robust: b is worse on
    # average, but not surely
    X_val, y_val, g_val = validation({"a": (30, 24, 20), "b": (30, 21, 21)})
    n_mine, n_hand = 20000, 4000
    expected = p_worst_by_hand(X_val, y_val, g_val, criterion, n_hand, seed=3)
    pred_clean = X_val[:, :C].argmax(axis=1)
    pred_adv = X_val[:, 2 * C : 3 * C].argmax(axis=1)
    got = worst_group_probabilities(
        y_val,
        pred_clean,
        pred_adv,
        g_val,
        criterion=criterion,
        n_boot=n_mine,
        random_state=0,
    )
    assert got.index.tolist() == ["a", "b"]
    assert got.sum() == pytest.approx(1.0)
    pb = expected["b"]
    assert 0.05 < pb < 0.95  # a case where the bootstrap matters
    sd = np.sqrt(pb * (1 - pb) * (1 / n_mine + 1 / n_hand))
    assert abs(got["b"] - pb) < 5 * sd


def test_batch_follows_the_probabilities_with_largest_remainders():
    X_val, y_val, g_val = validation({"a": (30, 24, 20), "b": (30, 21, 21)})
    pb = p_worst_by_hand(X_val, y_val, g_val, "mean", 4000, seed=4)["b"]
    n = 20
    X_pool, s_pool = pool({"a": 30, "b": 30})
    counts, _ = query_counts(_jin(X_val, y_val, g_val, n_boot=4000), X_pool, s_pool, n)
    # both estimates within 4 sds of p_b, each rounded to whole picks
    tol = n * 4 * np.sqrt(pb * (1 - pb) * 2 / 4000) + 1
    assert abs(counts.get("b", 0) - n * pb) <= tol
    assert sum(counts.values()) == n


def test_allocate_rounds_and_fills_from_the_next_worst():
    table = pd.DataFrame(
        {"score": [0.5, 0.6, 0.7], "p_worst": [0.55, 0.3, 0.15]},
        index=pd.Index(["c", "a", "b"], dtype=object),
    )
    s_pool = np.array(["a"] * 9 + ["b"] * 9 + ["c"] * 9)
    # 10 * (0.55, 0.3, 0.15) = (5.5, 3, 1.5): largest remainders, first of ties
    assert allocate(table, s_pool, 10, "bootstrap") == {"c": 6, "a": 3, "b": 1}
    # c holds only 2: the 4 it cannot give go worst-first (a, then b)
    short = np.array(["a"] * 9 + ["b"] * 9 + ["c"] * 2)
    assert allocate(table, short, 10, "bootstrap") == {"c": 2, "a": 7, "b": 1}
    assert largest_remainder(10, [0.55, 0.3, 0.15]).tolist() == [6, 3, 1]


def test_pool_groups_only_compete():
    # "b" is the worst on validation but has no pool sample: the worst of the
    # pool's groups gets the whole batch
    X_val, y_val, g_val = validation(
        {"a": (30, 30, 30), "b": (30, 5, 5), "c": (30, 12, 12)}
    )
    X_pool, s_pool = pool({"a": 10, "c": 10})
    counts, _ = query_counts(_jin(X_val, y_val, g_val), X_pool, s_pool, 6)
    assert counts == {"c": 6}


def test_seeded_reproducible_and_validation_attacked_once():
    X_val, y_val, g_val = validation({"a": (30, 24, 20), "b": (30, 21, 21)})
    X_pool, s_pool = pool({"a": 30, "b": 30})

    class Counting(SwapToAdv):
        rows = 0

        def perturb(self, net, X, y=None):
            Counting.rows += len(X)
            return super().perturb(net, X, y)

    runs = []
    for allocation in ("bootstrap", "bootstrap", "worst"):
        Counting.rows = 0
        strategy = _jin(
            X_val, y_val, g_val, attack=Counting(), group_allocation=allocation
        )
        _, idx = query_counts(strategy, X_pool, s_pool, 10)
        runs.append((idx.tolist(), Counting.rows))
    assert runs[0] == runs[1]
    # the validation set (60 rows) is attacked once, then the candidates
    # (bootstrap: both groups' 60 pool rows; worst: one group's 30)
    assert runs[0][1] == 60 + 60
    assert runs[2][1] == 60 + 30
    other = _jin(X_val, y_val, g_val, random_state=1, n_boot=50)
    assert isinstance(query_counts(other, X_pool, s_pool, 10)[0], dict)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_boot=0), "n_boot"),
        (dict(n_boot=2.5), "n_boot"),
        (dict(group_allocation="boot"), "group_allocation"),
    ],
)
def test_bad_settings_name_the_parameter(params, match):
    X_val, y_val, g_val = validation({"a": (6, 6, 6), "b": (6, 3, 3)})
    X_pool, s_pool = pool({"a": 5, "b": 5})
    with pytest.raises(InvalidParameterError, match=match):
        query_counts(_jin(X_val, y_val, g_val, **params), X_pool, s_pool, 2)


def test_probabilities_bad_input():
    y = np.array([0, 1, 0, 1])
    g = np.array(["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="n_boot"):
        worst_group_probabilities(y, y, y, g, n_boot=0)
    with pytest.raises(ValueError, match="y_pred_adv is None"):
        worst_group_probabilities(y, y, None, g, criterion="robust")
    with pytest.raises(ValueError, match="criterion"):
        worst_group_probabilities(y, y, y, g, criterion="worst")
    with pytest.raises(ValueError, match="'z' has no validation sample"):
        worst_group_probabilities(y, y, y, g, among=["a", "z"])
    # the standard criteria need no adversarial predictions
    p = worst_group_probabilities(
        y, y, None, g, criterion="standard", n_boot=10, random_state=0
    )
    assert p.to_dict() == {"a": 0.5, "b": 0.5}  # always tied at 1.0
