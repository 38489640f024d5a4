"""Known answers for ``last_query_`` and for the candidate budget (issue 24 item 6).

Every expected value is computed here, by hand or by brute force, from numbers
the test controls (the probability-reading nets of ``test_known_answers``);
none is read back from the strategy's own helpers.
"""

import numpy as np
import pandas as pd
import pytest

from skfral.query import (
    BADGESampling,
    CoreSetSampling,
    EntropySampling,
    LeastConfidenceSampling,
    MarginSampling,
    RandomSampling,
)
from skfral.query._allocation import candidate_quota

from .test_known_answers import (
    BADGE_H,
    BADGE_P,
    EMB,
    ROWS,
    VAL_SPEC,
    C,
    _entropy,
    _fal,
    _fal_expected,
    _fal_world,
    _jin,
    _jin_world,
    _kl,
    _worst_group_strategy,
    count_net,
    fitted_learner,
    gradient_embedding_by_hand,
    group_table_by_hand,
    labelled_set,
    layout,
    one_hot_rows,
    parts,
    pool_with_groups,
    validation_set,
)


# ------------------------------------------------------------ candidate budget
@pytest.mark.parametrize(
    "budget, picks, sizes, expected",
    [
        # a gets 8 of 10 picks: 80 of the 100 candidates, but holds 20; the 60
        # it leaves go to b (split by size it would score 8, all of them picked)
        (100, [8, 2], [20, 1000], [20, 80]),
        # shares 20/3 and 10/3: floors 6 and 3, the remainder 2/3 > 1/3 -> a
        (10, [2, 1], [100, 100], [7, 3]),
        # shares 10 each; a holds 5, its 5 split over b and c (12 or 13 each);
        # b holds 9, so c scores the rest: 30 - 5 - 9
        (30, [2, 2, 2], [5, 9, 100], [5, 9, 16]),
        # a budget of exactly the batch: each group scores its picks
        (4, [3, 1], [50, 50], [3, 1]),
        # fewer samples than the budget: every sample is scored
        (50, [1, 1], [10, 12], [10, 12]),
        # 10/3 each: floors 3, the one left to the first of equal remainders
        (10, [1, 1, 1], [100, 100, 100], [4, 3, 3]),
        # a single group takes the whole budget
        (7, [2], [30], [7]),
    ],
)
def test_candidate_quota_known_answers(budget, picks, sizes, expected):
    assert candidate_quota(budget, picks, sizes).tolist() == expected


def test_candidate_quota_bounds_by_brute_force():
    """Random cases: the documented bounds, checked one group at a time."""
    rng = np.random.RandomState(0)
    for _ in range(300):
        k = rng.randint(1, 5)
        picks = rng.randint(1, 6, size=k)
        sizes = picks + rng.randint(0, 60, size=k)
        n = int(picks.sum())
        budget = n + rng.randint(0, 120)
        quota = candidate_quota(budget, picks, sizes)
        case = f"budget={budget}, picks={picks.tolist()}, sizes={sizes.tolist()}"
        assert quota.sum() == min(budget, sizes.sum()), case
        for q, p, size in zip(quota, picks, sizes):
            assert p <= q <= size, case
            assert q >= min(size, (budget * p) // n), case


def test_worst_group_small_group_with_many_picks_scores_all_its_samples():
    """Proportional allocation gives c (10 pool samples) 4 picks and a (40) 2.
    With max_candidates=30 the budget is split 20:10 by picks; c holds only 10,
    so it scores all 10 and a the other 20. Split by pool size (the old rule),
    c scored 6 random samples of its 10 and its picks were nearly random."""
    X_val, y_val, g_val = validation_set(VAL_SPEC)
    mean = group_table_by_hand(X_val, y_val, g_val)["mean"]
    assert mean.idxmin() == "c" and mean.idxmax() == "b"  # deficits c 0.1, a 0.05
    X_pool, s_pool = pool_with_groups({"a": 40, "b": 40, "c": 10}, seed=2)
    ent = _entropy(parts(X_pool)[0])
    c_rows = np.flatnonzero(s_pool == "c")
    best_c = c_rows[np.argsort(-ent[c_rows], kind="stable")[:4]]
    strategy = _worst_group_strategy(
        "mean", group_allocation="proportional", max_candidates=30
    )
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=6,
        sensitive_features=s_pool,
    )
    record = strategy.last_query_
    assert pd.Series(s_pool[idx]).value_counts().to_dict() == {"c": 4, "a": 2}
    # every c sample was scored, so c's picks are its four highest entropies
    assert sorted(idx[s_pool[idx] == "c"]) == sorted(best_c)
    assert record.groupby("group")["n_scored"].unique().to_dict() == {
        "a": [20],
        "c": [10],
    }
    np.testing.assert_allclose(record["entropy"], ent[idx], rtol=1e-5)
    np.testing.assert_allclose(record["group_score"], mean[s_pool[idx]], atol=1e-12)
    assert record["group_rank"].tolist() == [0 if g == "c" else 1 for g in s_pool[idx]]


# ------------------------------------------------------- uncertainty sampling
def _p_pool():
    return parts(layout(ROWS))[0]


@pytest.mark.parametrize(
    "strategy_cls, column, by_hand",
    [
        (EntropySampling, "entropy", lambda p: _entropy(p)),
        (MarginSampling, "margin", lambda p: np.diff(np.sort(p)[:, -2:])[:, 0]),
        (LeastConfidenceSampling, "confidence", lambda p: p.max(axis=1)),
    ],
    ids=["entropy", "margin", "least_confidence"],
)
def test_uncertainty_last_query_parts_by_hand(strategy_cls, column, by_hand):
    p = _p_pool()
    strategy = strategy_cls(random_state=0)
    idx, scores = strategy(
        fitted_learner(*labelled_set()).estimator,
        layout(ROWS),
        n_instances=3,
        sensitive_features=["u", "v", "w"],
    )
    record = strategy.last_query_
    assert list(record.columns) == ["position", "group", "score", column, "n_scored"]
    assert record["position"].tolist() == idx.tolist()
    assert record["group"].tolist() == np.array(["u", "v", "w"])[idx].tolist()
    np.testing.assert_allclose(record[column], by_hand(p)[idx], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(record["score"], scores)
    if strategy_cls is EntropySampling:  # the score is the entropy itself
        np.testing.assert_allclose(record["score"], _entropy(p)[idx], rtol=1e-5)
    assert record["n_scored"].tolist() == [3, 3, 3]


def test_random_sampling_last_query_counts_the_scored_subset():
    X_pool = layout(one_hot_rows(np.arange(20) % C))
    strategy = RandomSampling(max_candidates=6, random_state=1)
    idx, scores = strategy(fitted_learner(*labelled_set()).estimator, X_pool, 4)
    record = strategy.last_query_
    assert list(record.columns) == ["position", "group", "score", "n_scored"]
    assert record["position"].tolist() == idx.tolist()
    assert record["group"].isna().all()  # no sensitive_features given
    assert record["n_scored"].tolist() == [6] * 4


# ------------------------------------------------------------ core-set, BADGE
def test_coreset_last_query_distance_by_hand():
    rng = np.random.RandomState(1)
    emb_lab, emb_pool = rng.randn(4, EMB) * 2, rng.randn(15, EMB) * 2
    X_lab = layout(one_hot_rows(np.arange(4) % C), emb=emb_lab)
    X_pool = layout(one_hot_rows(np.zeros(15, dtype=int)), emb=emb_pool)
    strategy = CoreSetSampling(random_state=0)
    idx, _ = strategy(fitted_learner(X_lab, np.arange(4) % C), X_pool, 5)
    lab = X_lab[:, 3 * C :].astype(np.float64)
    pool = X_pool[:, 3 * C :].astype(np.float64)
    expected, centers = [], list(lab)
    for i in idx:  # distance to the labelled set and the earlier picks
        expected.append(min(np.linalg.norm(pool[i] - c) for c in centers))
        centers.append(pool[i])
    record = strategy.last_query_
    np.testing.assert_allclose(record["distance"], expected, rtol=1e-4)
    assert record["n_scored"].tolist() == [15] * 5


def test_badge_last_query_gradient_norm_and_distance_by_hand():
    X_pool = layout(BADGE_P, emb=BADGE_H)
    p, _, _, h = parts(X_pool)
    g = gradient_embedding_by_hand(p, h)
    strategy = BADGESampling(random_state=3)
    idx, scores = strategy(fitted_learner(*labelled_set()).estimator, X_pool, 3)
    record = strategy.last_query_
    np.testing.assert_allclose(
        record["gradient_norm"], np.linalg.norm(g[idx], axis=1), rtol=1e-4
    )
    # squared distance to the nearest earlier pick (none for the first)
    d2 = [
        min(((g[i] - g[j]) ** 2).sum() for j in idx[:k]) for k, i in enumerate(idx) if k
    ]
    assert np.isnan(record["squared_distance"][0])
    np.testing.assert_allclose(record["squared_distance"][1:], d2, rtol=1e-4)
    np.testing.assert_allclose(record["score"][1:], d2, rtol=1e-4)


# ------------------------------------------------------------------------ FAL
def test_fal_last_query_gain_and_entropy_by_hand():
    X_lab, y_lab, X_val, y_val, g_val, X_pool = _fal_world()
    gain, ent = _fal_expected(X_lab, y_lab, X_val, y_val, g_val, X_pool)
    strategy = _fal(0.3, X_val, y_val, g_val, 4)
    idx, _ = strategy(
        fitted_learner(X_lab, y_lab, estimator=count_net()), X_pool, n_instances=2
    )
    record = strategy.last_query_
    np.testing.assert_allclose(record["expected_fairness_gain"], gain[idx], atol=1e-9)
    np.testing.assert_allclose(record["entropy"], ent[idx], rtol=1e-5)
    assert record["n_scored"].tolist() == [4, 4]


# ------------------------------------------------------------------------ JIN
def test_jin_last_query_inconsistencies_by_hand():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=14, seed=2)
    s_pool = np.array(["c"] * 10 + ["a"] * 4)
    p_rob, p_std, p_adv, _ = parts(X_pool)
    strategy = _jin(X_val, y_val, g_val, disagreement="kl", group_allocation="worst")
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=5,
        sensitive_features=s_pool,
    )
    record = strategy.last_query_
    i_adv, i_mod = _kl(p_rob, p_adv), _kl(p_std, p_rob)
    np.testing.assert_allclose(
        record["adversarial_inconsistency"], i_adv[idx], rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        record["model_inconsistency"], i_mod[idx], rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(record["score"], (i_adv + i_mod)[idx], rtol=1e-4)
    assert record["predicted_class"].tolist() == p_rob[idx].argmax(axis=1).tolist()
    # c is the validation-worst group (mean 0.5): all picks, 10 candidates
    assert record["group"].tolist() == ["c"] * 5
    assert record["group_rank"].tolist() == [0] * 5
    np.testing.assert_allclose(record["group_score"], 0.5)
    assert record["n_scored"].tolist() == [10] * 5
    assert "tie_break" not in record and "entropy" not in record


def test_jin_last_query_hard_tie_break_entropy_and_bootstrap():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=12, seed=4)
    s_pool = np.array(["c"] * 12)
    p_rob, p_std, p_adv, _ = parts(X_pool)
    w = 0.5
    strategy = _jin(X_val, y_val, g_val, uncertainty_weight=w)  # hard, bootstrap
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=4,
        sensitive_features=s_pool,
    )
    record = strategy.last_query_
    ent = _entropy(p_rob)
    hard_adv = (p_rob.argmax(1) != p_adv.argmax(1)).astype(float)
    hard_mod = (p_std.argmax(1) != p_rob.argmax(1)).astype(float)
    np.testing.assert_array_equal(record["adversarial_inconsistency"], hard_adv[idx])
    np.testing.assert_array_equal(record["model_inconsistency"], hard_mod[idx])
    np.testing.assert_allclose(record["entropy"], ent[idx], rtol=1e-5)
    soft = _kl(p_rob, p_adv) + _kl(p_std, p_rob) + w * ent
    np.testing.assert_allclose(record["tie_break"], soft[idx], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        record["score"], (hard_adv + hard_mod + w * ent)[idx], rtol=1e-5
    )
    # the only pool group competes alone for the worst place
    np.testing.assert_allclose(record["p_worst"], 1.0)


def test_jin_last_query_without_groups_keeps_the_given_group():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=10, seed=1)
    s_pool = np.array(["a", "b"] * 5)
    strategy = _jin(X_val, y_val, g_val, disagreement="kl", group_allocation="none")
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=3,
        sensitive_features=s_pool,
    )
    record = strategy.last_query_
    assert record["group"].tolist() == s_pool[idx].tolist()
    assert record["n_scored"].tolist() == [10] * 3  # the whole pool competes
    assert "group_rank" not in record


def test_jin_small_group_with_many_picks_scores_all_its_samples():
    """JIN, proportional: c (10 pool samples) gets 4 picks, a (40) 2; with
    max_candidates=30, c scores all 10 (its share is 20) and a the other 20."""
    X_val, y_val, g_val, _ = _jin_world()
    rng = np.random.RandomState(3)
    s_pool = np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 10)
    p = rng.dirichlet(np.ones(C), size=len(s_pool))
    X_pool = layout(p, rng.dirichlet(np.ones(C), size=len(s_pool)), p[:, ::-1])
    p_rob, p_std, p_adv, _ = parts(X_pool)
    score = _kl(p_rob, p_adv) + _kl(p_std, p_rob)
    c_rows = np.flatnonzero(s_pool == "c")
    best_c = c_rows[np.argsort(-score[c_rows])[:4]]
    strategy = _jin(
        X_val,
        y_val,
        g_val,
        disagreement="kl",
        group_allocation="proportional",
        max_candidates=30,
    )
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=6,
        sensitive_features=s_pool,
    )
    assert pd.Series(s_pool[idx]).value_counts().to_dict() == {"c": 4, "a": 2}
    assert sorted(idx[s_pool[idx] == "c"]) == sorted(best_c)
    record = strategy.last_query_
    assert record.groupby("group")["n_scored"].unique().to_dict() == {
        "a": [20],
        "c": [10],
    }


# ------------------------------------------------------- the recording API
class _Toy(RandomSampling):
    """Random picks, recorded as the test says (``mode``)."""

    mode = "parts"

    def _select(self, query):
        n = query.n_instances
        idx = np.arange(n)[::-1]
        scores = np.arange(n, dtype=float)
        if self.mode == "parts":
            self._record_query(idx, scores, parts={"twice": 2 * idx}, n_scored=7)
        elif self.mode == "short":
            self._record_query(idx, scores, parts={"twice": [1.0]}, n_scored=7)
        elif self.mode == "clash":
            self._record_query(idx, scores, parts={"score": scores}, n_scored=7)
        elif self.mode == "other_picks":
            self._record_query(idx[::-1], scores, n_scored=7)
        return idx, scores


def _toy_call(mode, **kw):
    X_pool = layout(one_hot_rows(np.arange(10) % C))
    strategy = type("Toy", (_Toy,), {"mode": mode})(random_state=0, **kw)
    idx, _ = strategy(fitted_learner(*labelled_set()).estimator, X_pool, 3)
    return strategy, idx


def test_record_query_parts_go_between_score_and_n_scored():
    strategy, idx = _toy_call("parts")
    record = strategy.last_query_
    assert list(record.columns) == ["position", "group", "score", "twice", "n_scored"]
    assert record["position"].tolist() == [2, 1, 0] == idx.tolist()
    assert record["twice"].tolist() == [4, 2, 0]
    assert record["n_scored"].tolist() == [7, 7, 7]  # a scalar is broadcast


def test_record_query_maps_subset_rows_to_pool_positions():
    """With max_candidates the base draws a subset: recorded rows are mapped
    to positions in the pool given, exactly as the returned indices."""
    strategy, idx = _toy_call("parts", max_candidates=4)
    assert strategy.last_query_["position"].tolist() == idx.tolist()
    assert strategy.last_query_["twice"].tolist() == [4, 2, 0]  # subset rows


def test_without_a_record_the_common_columns_count_the_scored_rows():
    strategy, idx = _toy_call("none", max_candidates=5)
    record = strategy.last_query_
    assert list(record.columns) == ["position", "group", "score", "n_scored"]
    assert record["position"].tolist() == idx.tolist()
    assert record["n_scored"].tolist() == [5, 5, 5]


@pytest.mark.parametrize(
    "mode, error, match",
    [
        ("short", ValueError, r"twice has shape \(1,\), expected \(3,\)"),
        ("clash", ValueError, r"parts \['score'\] clash with the common columns"),
        ("other_picks", RuntimeError, r"recorded picks \[0 1 2\] but returned"),
    ],
)
def test_record_query_misuse_is_a_clear_error(mode, error, match):
    with pytest.raises(error, match=match):
        _toy_call(mode)
