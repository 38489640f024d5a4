"""Known answers for the query strategies (issue 17).

Every expected value here is computed inside the test, by hand or by brute
force, from numbers the test controls; none is read back from the strategy's
own helpers. The strategies are called through their public API,
``strategy(learner, X_pool, n_instances, sensitive_features=...)``.

The models are real skorch nets whose outputs the tests control:

* :class:`ProbaModule` reads its class probabilities straight from the input.
  A row is laid out as ``[p_rob | p_std | p_adv | embedding]``: the robust net
  reads ``p_rob``, a "standard" net (``offset=C``) reads ``p_std``, the
  :class:`SwapToAdv` attack replaces ``p_rob`` by ``p_adv``, and the
  penultimate embedding (``features``) is the trailing block.
* :class:`CountModule` is a deterministic "refit": its probabilities are the
  Laplace-smoothed label counts of each cell (feature 0) of its training set.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr
from skorch.callbacks import Callback

import skfral  # noqa: F401  (applies the modAL shim)
from skfral.nn import RobustNeuralNetClassifier
from skfral.query import (
    BADGESampling,
    CoreSetSampling,
    EntropySampling,
    FALSampling,
    JINQueryStrategy,
    LeastConfidenceSampling,
    MarginSampling,
    WorstGroupSampling,
)

from .query_helpers import PRE_ISSUE_25

C = 3  # classes of the probability-reading nets
EMB = 2  # embedding width


# ----------------------------------------------------------------- fake nets
class ProbaModule(torch.nn.Module):
    """Outputs ``log p`` where ``p`` is read from the input (columns ``offset:offset+C``)."""

    def __init__(self, n_classes=C, offset=0):
        super().__init__()
        self.n_classes = n_classes
        self.offset = offset
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # an optimiser needs one

    def features(self, x):
        return x[:, 3 * self.n_classes :]

    def forward(self, x):
        p = x[:, self.offset : self.offset + self.n_classes].clamp_min(1e-12)
        return torch.log(p) + 0.0 * self.dummy


def proba_net(n_classes=C, offset=0):
    return RobustNeuralNetClassifier(
        ProbaModule,
        module__n_classes=n_classes,
        module__offset=offset,
        adversarial=None,
        max_epochs=0,
        random_state=0,
    )


def layout(p_rob, p_std=None, p_adv=None, emb=None):
    """Rows ``[p_rob | p_std | p_adv | emb]`` as float32."""
    p_rob = np.asarray(p_rob, dtype=np.float64)
    n = len(p_rob)
    p_std = p_rob if p_std is None else np.asarray(p_std, dtype=np.float64)
    p_adv = p_rob if p_adv is None else np.asarray(p_adv, dtype=np.float64)
    emb = np.zeros((n, EMB)) if emb is None else np.asarray(emb, dtype=np.float64)
    return np.hstack([p_rob, p_std, p_adv, emb]).astype(np.float32)


def parts(X, n_classes=C):
    """``(p_rob, p_std, p_adv, emb)`` of laid-out rows, as float64 and normalised."""
    X = np.asarray(X, dtype=np.float64)
    blocks = [X[:, k * n_classes : (k + 1) * n_classes] for k in range(3)]
    blocks = [b / b.sum(axis=1, keepdims=True) for b in blocks]
    return (*blocks, X[:, 3 * n_classes :])


class SwapToAdv:
    """A controlled attack: the robust net's probabilities become ``p_adv``."""

    def __init__(self, n_classes=C):
        self.n_classes = n_classes

    def perturb(self, net, X, y=None):
        X = np.array(X, dtype=np.float32, copy=True)
        c = self.n_classes
        X[:, :c] = X[:, 2 * c : 3 * c]
        return X


def fitted_learner(X_lab, y_lab, estimator=None):
    from modAL.models import ActiveLearner

    return ActiveLearner(
        estimator=proba_net() if estimator is None else estimator,
        X_training=X_lab,
        y_training=y_lab,
    )


def one_hot_rows(labels, n_classes=C, sure=0.9):
    """Confident probability rows predicting ``labels``."""
    labels = np.asarray(labels)
    rest = (1 - sure) / (n_classes - 1)
    p = np.full((len(labels), n_classes), rest)
    p[np.arange(len(labels)), labels] = sure
    return p


def labelled_set(emb=None):
    """One confident row per class (every class must be seen at fit)."""
    y = np.arange(C)
    return layout(one_hot_rows(y), emb=emb), y


# ------------------------------------------------------- uncertainty sampling
# Three rows on which the three uncertainty scores rank differently:
# entropy: E > L > M; margin: M > L > E; least confidence: L > E > M.
ROWS = np.array(
    [
        [0.50, 0.49, 0.01],  # M: smallest margin
        [0.42, 0.40, 0.18],  # L: lowest top probability
        [0.44, 0.28, 0.28],  # E: highest entropy
    ]
)


def _entropy(p):
    return stats.entropy(p, axis=1)  # nats, scipy's own code


def _margin(p):
    top2 = -np.sort(-p, axis=1)[:, :2]
    return -(top2[:, 0] - top2[:, 1])


def _least_confidence(p):
    return 1.0 - p.max(axis=1)


UNCERTAINTY = [
    (EntropySampling, _entropy, [2, 1, 0]),
    (MarginSampling, _margin, [0, 1, 2]),
    (LeastConfidenceSampling, _least_confidence, [1, 2, 0]),
]


def test_random_sampling_is_uniform_over_the_pool():
    from skfral.query import RandomSampling

    net = fitted_learner(*labelled_set()).estimator
    X_pool = layout(one_hot_rows(np.arange(7) % C))  # 7: no length in the code
    n_seeds = 300
    firsts = np.empty(n_seeds, dtype=int)
    for seed in range(n_seeds):
        idx, scores = RandomSampling(random_state=seed)(net, X_pool, n_instances=3)
        assert len(set(idx.tolist())) == 3 and idx.min() >= 0 and idx.max() < 7
        assert np.all((scores >= 0) & (scores < 1)) and np.all(np.diff(scores) <= 0)
        firsts[seed] = idx[0]
    observed = np.bincount(firsts, minlength=7)
    assert stats.chisquare(observed, np.full(7, n_seeds / 7)).pvalue > 1e-3
    same, _ = RandomSampling(random_state=3)(net, X_pool, n_instances=3)
    again, _ = RandomSampling(random_state=3)(net, X_pool, n_instances=3)
    assert same.tolist() == again.tolist()


def test_uncertainty_design_ranks_three_ways():
    """The hand-made rows really separate the three scores (a check of the test)."""
    orders = [tuple(np.argsort(-fn(ROWS), kind="stable")) for _, fn, _ in UNCERTAINTY]
    assert orders == [tuple(o) for _, _, o in UNCERTAINTY]
    assert len({o[0] for o in orders}) == 3


@pytest.mark.parametrize(
    "strategy_cls, score_fn, expected",
    UNCERTAINTY,
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_uncertainty_known_order_and_scores(strategy_cls, score_fn, expected):
    X_lab, y_lab = labelled_set()
    net = fitted_learner(X_lab, y_lab).estimator
    X_pool = layout(ROWS)
    idx, scores = strategy_cls(random_state=0)(net, X_pool, n_instances=3)
    assert idx.tolist() == expected
    p = parts(X_pool)[0]
    np.testing.assert_allclose(scores, score_fn(p)[expected], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "strategy_cls, score_fn",
    [u[:2] for u in UNCERTAINTY],
    ids=lambda v: getattr(v, "__name__", ""),
)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_uncertainty_full_ranking_matches_formula(strategy_cls, score_fn, n_classes):
    rng = np.random.RandomState(n_classes)
    p = rng.dirichlet(np.ones(n_classes), size=40)
    X_lab = np.hstack([one_hot_rows(np.arange(n_classes), n_classes)] * 3).astype(
        np.float32
    )
    net = RobustNeuralNetClassifier(
        ProbaModule,
        module__n_classes=n_classes,
        adversarial=None,
        max_epochs=0,
        random_state=0,
    ).fit(X_lab, np.arange(n_classes))
    X_pool = np.hstack([p, p, p]).astype(np.float32)
    p32 = X_pool[:, :n_classes].astype(np.float64)
    p32 /= p32.sum(axis=1, keepdims=True)
    expected = np.argsort(-score_fn(p32), kind="stable")[:15]
    idx, scores = strategy_cls(random_state=0)(net, X_pool, n_instances=15)
    assert idx.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, score_fn(p32)[expected], rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------- core-set
def brute_force_kcenter(pool, labelled, k):
    """k-center greedy: each pick maximises its distance to labelled + picked."""
    centers = list(labelled)
    picked, radii = [], []
    for _ in range(k):
        best, best_d = None, -1.0
        for i, x in enumerate(pool):
            if i in picked:
                continue
            d = min(np.linalg.norm(x - c) for c in centers)
            if d > best_d:
                best, best_d = i, d
        picked.append(best)
        radii.append(best_d)
        centers.append(pool[best])
    return picked, radii


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coreset_matches_brute_force_kcenter_with_labelled_set(seed):
    rng = np.random.RandomState(seed)
    emb_lab = rng.randn(6, EMB) * 2
    emb_pool = rng.randn(25, EMB) * 2
    X_lab = layout(one_hot_rows(np.arange(6) % C), emb=emb_lab)
    y_lab = np.arange(6) % C
    X_pool = layout(one_hot_rows(np.zeros(25, dtype=int)), emb=emb_pool)
    learner = fitted_learner(X_lab, y_lab)
    expected, radii = brute_force_kcenter(
        X_pool[:, 3 * C :].astype(np.float64), X_lab[:, 3 * C :].astype(np.float64), 7
    )
    idx, scores = CoreSetSampling(random_state=seed)(learner, X_pool, n_instances=7)
    assert idx.tolist() == expected
    np.testing.assert_allclose(scores, radii, rtol=1e-4)


def test_coreset_skips_a_far_pool_sample_next_to_a_labelled_one():
    # Sample 0 is far from the other pool samples but sits on a labelled one: a
    # k-center greedy that forgot the labelled set would take it first.
    emb_lab = np.array([[10.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    emb_pool = np.array([[10.1, 0.0], [0.5, 0.0], [0.0, 3.0], [-2.0, 0.0], [1, 1]])
    X_lab, y_lab = labelled_set(emb=emb_lab)
    X_pool = layout(one_hot_rows(np.zeros(5, dtype=int)), emb=emb_pool)
    idx, scores = CoreSetSampling(random_state=0)(
        fitted_learner(X_lab, y_lab), X_pool, n_instances=3
    )
    # by hand: distances to {(10,0),(0,0)}: 0.1, 0.5, 3, 2, sqrt(2) -> pick 2 (3.0);
    # then to {.., (0,3)}: 0.1, 0.5, -, 2, sqrt(2) -> pick 3 (2.0); then 4 (sqrt 2).
    assert idx.tolist() == [2, 3, 4]
    np.testing.assert_allclose(scores, [3.0, 2.0, np.sqrt(2)], rtol=1e-5)


def test_coreset_without_a_labelled_set_starts_at_random_then_follows_kcenter():
    """No labelled set (a bare net, no ``X_labelled``): the first pick is a
    seeded random pool sample (score 1e300, standing for infinity), the next
    ones the k-center greedy from it."""
    rng = np.random.RandomState(4)
    emb_pool = rng.randn(12, EMB) * 2
    X_pool = layout(one_hot_rows(np.zeros(12, dtype=int)), emb=emb_pool)
    X_lab, y_lab = labelled_set()
    net = fitted_learner(X_lab, y_lab).estimator
    pool64 = X_pool[:, 3 * C :].astype(np.float64)
    firsts = []
    for seed in range(40):
        idx, scores = CoreSetSampling(random_state=seed)(net, X_pool, n_instances=4)
        first = int(idx[0])
        firsts.append(first)
        rest, radii = brute_force_kcenter(pool64, [pool64[first]], 3)
        assert idx.tolist() == [first, *rest]
        assert scores[0] == 1e300
        np.testing.assert_allclose(scores[1:], radii, rtol=1e-4)
    # uniform over the 12 samples: 40 seeds hit many of them, none too often
    assert len(set(firsts)) >= 8
    assert max(np.bincount(firsts)) <= 10


def test_coreset_with_a_large_labelled_set_matches_brute_force():
    # more labelled samples than one block of the distance computation
    rng = np.random.RandomState(3)
    n_lab = 4200
    emb_lab = rng.randn(n_lab, EMB) * 3
    emb_pool = rng.randn(30, EMB) * 3
    emb_pool[:3] += 40.0  # far from most, but next to the last labelled ones
    emb_lab[-3:] = emb_pool[:3] + 0.01
    y_lab = np.arange(n_lab) % C
    X_lab = layout(one_hot_rows(y_lab), emb=emb_lab)
    X_pool = layout(one_hot_rows(np.zeros(30, dtype=int)), emb=emb_pool)
    pool64 = X_pool[:, 3 * C :].astype(np.float64)
    lab64 = X_lab[:, 3 * C :].astype(np.float64)
    dist = np.sqrt(((pool64[:, None, :] - lab64[None]) ** 2).sum(-1)).min(axis=1)
    idx, scores = CoreSetSampling(random_state=0)(
        fitted_learner(X_lab, y_lab), X_pool, n_instances=1
    )
    assert idx.tolist() == [int(np.argmax(dist))]
    assert idx[0] >= 3
    np.testing.assert_allclose(scores, dist.max(), rtol=1e-4)


# ---------------------------------------------------------------------- BADGE
def gradient_embedding_by_hand(p, h):
    """Last-layer gradient of CE at the predicted label: ``(p - e_yhat) outer h``."""
    coef = p.copy()
    coef[np.arange(len(p)), p.argmax(axis=1)] -= 1.0
    return np.einsum("nc,nd->ncd", coef, h).reshape(len(p), -1)


BADGE_P = np.array(
    [
        [0.40, 0.35, 0.25],
        [0.80, 0.10, 0.10],
        [0.10, 0.60, 0.30],
        [0.34, 0.33, 0.33],
        [0.05, 0.05, 0.90],
    ]
)
BADGE_H = np.array([[1.0, 2.0], [3.0, -1.0], [-1.5, 2.0], [0.2, 0.1], [4.0, 4.0]])


def _badge_setup():
    X_lab, y_lab = labelled_set()
    net = fitted_learner(X_lab, y_lab).estimator
    X_pool = layout(BADGE_P, emb=BADGE_H)
    p, _, _, h = parts(X_pool)
    return net, X_pool, gradient_embedding_by_hand(p, h)


def test_badge_first_pick_is_the_largest_gradient_norm_for_any_seed():
    net, X_pool, g = _badge_setup()
    norms = (g**2).sum(axis=1)
    expected = int(np.argmax(norms))
    assert np.sort(norms)[-1] > 1.05 * np.sort(norms)[-2]  # no near tie
    for seed in range(8):
        idx, scores = BADGESampling(random_state=seed)(net, X_pool, n_instances=1)
        assert idx.tolist() == [expected]
        np.testing.assert_allclose(scores[0], norms[expected], rtol=1e-4)


def test_badge_later_picks_follow_d_squared_sampling():
    net, X_pool, g = _badge_setup()
    first = int(np.argmax((g**2).sum(axis=1)))
    d2_first = ((g - g[first]) ** 2).sum(axis=1)
    n_seeds = 600
    pairs = np.empty((n_seeds, 2), dtype=int)
    for seed in range(n_seeds):
        idx, scores = BADGESampling(random_state=seed)(net, X_pool, n_instances=3)
        assert idx[0] == first
        # a pick's score is its squared distance to the nearest earlier pick
        np.testing.assert_allclose(scores[1], d2_first[idx[1]], rtol=1e-4)
        d2_both = np.minimum(d2_first, ((g - g[idx[1]]) ** 2).sum(axis=1))
        np.testing.assert_allclose(scores[2], d2_both[idx[2]], rtol=1e-4)
        pairs[seed] = idx[1:]

    # second pick: P(i) = D(i)^2 / sum D^2, D = distance to the first pick
    others = [i for i in range(len(g)) if i != first]
    observed = np.array([(pairs[:, 0] == i).sum() for i in others])
    expected = d2_first[others] / d2_first[others].sum() * n_seeds
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    uniform = np.full(len(others), n_seeds / len(others))
    assert stats.chisquare(observed, uniform).pvalue < 1e-6  # the test has power

    # third pick given the second: D^2 to the nearest of the two picks
    cells, expected3 = [], []
    for second in others:
        d2 = np.minimum(d2_first, ((g - g[second]) ** 2).sum(axis=1))
        rest = [i for i in others if i != second]
        p_second = d2_first[second] / d2_first[others].sum()
        for third in rest:
            cells.append((second, third))
            expected3.append(p_second * d2[third] / d2[rest].sum() * n_seeds)
    observed3 = np.array(
        [((pairs[:, 0] == a) & (pairs[:, 1] == b)).sum() for a, b in cells]
    )
    expected3 = np.asarray(expected3)
    keep = expected3 >= 5  # chi-square needs enough expected counts per cell
    if (~keep).any():
        observed3 = np.append(observed3[keep], observed3[~keep].sum())
        expected3 = np.append(expected3[keep], expected3[~keep].sum())
    assert stats.chisquare(observed3, expected3).pvalue > 1e-3


# --------------------------------------------------------- groups on validation
def validation_set(spec, seed=0):
    """Validation rows with exactly controlled clean and adversarial correctness.

    ``spec``: ``{group: (n, n_clean_correct, n_adv_correct)}``. Labels cycle
    over the classes; a correct row predicts its label, a wrong one the next
    class.
    """
    rng = np.random.RandomState(seed)
    X, y, g = [], [], []
    for group, (n, n_clean, n_adv) in spec.items():
        labels = np.arange(n) % C
        clean_ok = rng.permutation(np.arange(n) < n_clean)
        adv_ok = rng.permutation(np.arange(n) < n_adv)
        p_rob = one_hot_rows(np.where(clean_ok, labels, (labels + 1) % C))
        p_adv = one_hot_rows(np.where(adv_ok, labels, (labels + 1) % C))
        X.append(layout(p_rob, p_adv=p_adv))
        y.append(labels)
        g += [group] * n
    return np.vstack(X), np.concatenate(y), np.asarray(g)


def group_table_by_hand(X_val, y_val, g_val):
    """Per-group clean / robust / balanced accuracies with pandas and sklearn."""
    from sklearn.metrics import balanced_accuracy_score

    p_rob, _, p_adv, _ = parts(X_val)
    frame = pd.DataFrame(
        {
            "g": g_val,
            "y": y_val,
            "clean": p_rob.argmax(axis=1),
            "adv": p_adv.argmax(axis=1),
        }
    )
    rows = {}
    for group, d in frame.groupby("g"):
        rows[group] = {
            "standard": (d["clean"] == d["y"]).mean(),
            "robust": (d["adv"] == d["y"]).mean(),
            "balanced_standard": balanced_accuracy_score(d["y"], d["clean"]),
            "balanced_robust": balanced_accuracy_score(d["y"], d["adv"]),
        }
    table = pd.DataFrame(rows).T
    table["mean"] = (table["standard"] + table["robust"]) / 2
    table["balanced_mean"] = (table["balanced_standard"] + table["balanced_robust"]) / 2
    return table


# group a: clean 0.9, robust 0.2 (mean 0.55); b: 0.5, 0.7 (0.6); c: 0.6, 0.4 (0.5)
VAL_SPEC = {"a": (10, 9, 2), "b": (10, 5, 7), "c": (10, 6, 4)}
WORST = {"standard": "b", "robust": "a", "mean": "c"}


def pool_with_groups(sizes, seed=0):
    """Pool rows of random probabilities, ``sizes[g]`` rows of each group ``g``."""
    rng = np.random.RandomState(seed)
    groups = np.concatenate([[g] * n for g, n in sizes.items()])
    p = rng.dirichlet(np.ones(C), size=len(groups))
    return layout(p), groups


def test_validation_design_has_a_different_worst_group_per_criterion():
    table = group_table_by_hand(*validation_set(VAL_SPEC))
    for criterion, worst in WORST.items():
        assert table[criterion].idxmin() == worst


def _worst_group_strategy(criterion, **kw):
    X_val, y_val, g_val = validation_set(VAL_SPEC)
    return WorstGroupSampling(
        X_val=X_val,
        y_val=y_val,
        sensitive_features_val=g_val,
        attack=SwapToAdv(),
        group_criterion=criterion,
        random_state=0,
        **kw,
    )


GROUP_CRITERIA = (
    "standard",
    "robust",
    "mean",
    "balanced_standard",
    "balanced_robust",
    "balanced_mean",
)


@pytest.mark.parametrize("criterion", GROUP_CRITERIA)
def test_worst_group_sampling_takes_top_entropy_of_the_hand_computed_worst_group(
    criterion,
):
    X_val, y_val, g_val = validation_set(VAL_SPEC)
    table = group_table_by_hand(X_val, y_val, g_val).sort_values(
        criterion, kind="stable"
    )
    order = list(table.index)
    X_lab, y_lab = labelled_set()
    learner = fitted_learner(X_lab, y_lab)
    X_pool, s_pool = pool_with_groups({"a": 7, "b": 6, "c": 8})
    ent = _entropy(parts(X_pool)[0])

    def best_of(group, k):
        members = np.flatnonzero(s_pool == group)
        return members[np.argsort(-ent[members], kind="stable")[:k]].tolist()

    n_worst = int((s_pool == order[0]).sum())
    strategy = _worst_group_strategy(criterion)
    idx, scores = strategy(learner, X_pool, n_instances=4, sensitive_features=s_pool)
    assert idx.tolist() == best_of(order[0], 4)
    np.testing.assert_allclose(scores, ent[idx], rtol=1e-5)
    # more than the worst group holds: the next-worst group fills the rest
    idx, _ = strategy(
        learner, X_pool, n_instances=n_worst + 3, sensitive_features=s_pool
    )
    assert idx.tolist() == best_of(order[0], n_worst) + best_of(order[1], 3)


def test_worst_group_sampling_random_within_stays_in_the_worst_group():
    X_lab, y_lab = labelled_set()
    X_pool, s_pool = pool_with_groups({"a": 7, "b": 6, "c": 8})
    picks = set()
    for seed in range(5):
        strategy = _worst_group_strategy("robust", within="random")
        strategy.set_params(random_state=seed)
        idx, _ = strategy(
            fitted_learner(X_lab, y_lab),
            X_pool,
            n_instances=3,
            sensitive_features=s_pool,
        )
        assert set(s_pool[idx]) == {WORST["robust"]}
        picks.add(tuple(sorted(idx)))
    assert len(picks) > 1  # random inside the group, not a fixed ranking


def test_worst_group_sampling_default_attack_is_the_learners_own(monkeypatch):
    """With ``attack=None`` the robust criterion attacks with the learner's own
    training attack, built from the estimator of the call: the same picks as
    passing that attack explicitly."""
    import skfral.query._fair_base as groups_module

    X_lab, y_lab = labelled_set()
    learner = fitted_learner(X_lab, y_lab)
    X_pool, s_pool = pool_with_groups({"a": 7, "b": 6, "c": 8})
    seen = []

    def fake_default_attack(estimator, rng):
        seen.append(estimator)
        return SwapToAdv()

    monkeypatch.setattr(groups_module, "default_attack", fake_default_attack)
    explicit = _worst_group_strategy("robust")
    default = _worst_group_strategy("robust").set_params(attack=None)
    idx_explicit, _ = explicit(
        learner, X_pool, n_instances=4, sensitive_features=s_pool
    )
    idx_default, _ = default(learner, X_pool, n_instances=4, sensitive_features=s_pool)
    assert seen and all(est is learner.estimator for est in seen)
    assert idx_default.tolist() == idx_explicit.tolist()
    assert set(s_pool[idx_default]) == {WORST["robust"]}


def _allocation_table(p_worst=(0.55, 0.3, 0.15)):
    """Groups worst first (c, a, b) with their bootstrap probabilities."""
    return pd.DataFrame(
        {"score": [0.5, 0.6, 0.7], "p_worst": list(p_worst)},
        index=pd.Index(["c", "a", "b"], dtype=object),
    )


def test_allocate_defaults_to_the_worst_group_and_counts_single_samples():
    from skfral.query._allocation import allocate

    table = _allocation_table()
    # c holds a single pool sample: it is used, then a (next worst) fills up
    s_pool = np.array(["a"] * 5 + ["b"] * 5 + ["c"])
    assert allocate(table, s_pool, 4) == {"c": 1, "a": 3}
    assert allocate(table, s_pool, 4, "worst") == {"c": 1, "a": 3}
    assert allocate(table, s_pool, 2) == {"c": 1, "a": 1}  # one left to fill
    with pytest.raises(ValueError, match=r"group_allocation='best'"):
        allocate(table, s_pool, 4, "best")


def test_allocate_bootstrap_needs_p_worst_and_splits_evenly_without_mass():
    from skfral.query._allocation import allocate

    s_pool = np.array(["a"] * 9 + ["b"] * 9 + ["c"] * 9)
    table = _allocation_table()
    with pytest.raises(
        ValueError,
        match=r"^allocation='bootstrap' needs a table with a 'p_worst' column "
        r"\(from rank_groups_bootstrap\)\.$",
    ):
        allocate(table.drop(columns="p_worst"), s_pool, 6, "bootstrap")
    # no group has any probability of being the worst: an even split
    assert allocate(_allocation_table((0.0, 0.0, 0.0)), s_pool, 6, "bootstrap") == {
        "c": 2,
        "a": 2,
        "b": 2,
    }


def proportional_by_hand(scores, n):
    """Deficit to the best group, largest remainders (then worst-first on ties)."""
    values = scores.to_numpy(dtype=float)
    deficit = values.max() - values
    share = n * deficit / deficit.sum()
    counts = np.floor(share).astype(int)
    remainder = share - counts
    for j in sorted(range(len(share)), key=lambda j: (-remainder[j], values[j]))[
        : n - counts.sum()
    ]:
        counts[j] += 1
    return {g: int(c) for g, c in zip(scores.index, counts) if c > 0}


def test_worst_group_sampling_proportional_allocation_three_groups():
    X_val, y_val, g_val = validation_set(VAL_SPEC)
    mean = group_table_by_hand(X_val, y_val, g_val)["mean"].sort_values()
    # deficits to b (0.6): c 0.1, a 0.05 -> of 6: c 4, a 2 (worst would give c 6)
    expected = proportional_by_hand(mean, 6)
    assert expected == {"c": 4, "a": 2}
    X_lab, y_lab = labelled_set()
    X_pool, s_pool = pool_with_groups({"a": 7, "b": 6, "c": 8})
    strategy = _worst_group_strategy("mean", group_allocation="proportional")
    idx, _ = strategy(
        fitted_learner(X_lab, y_lab), X_pool, n_instances=6, sensitive_features=s_pool
    )
    assert pd.Series(s_pool[idx]).value_counts().to_dict() == expected


# ------------------------------------------------------------------------ FAL
N_CELLS = 5
PRIOR = np.array([1.0, 1.25])  # uneven prior: no ties between the two classes


class CountModule(torch.nn.Module):
    """``p(y | cell)`` from a table the :class:`FitCounts` callback fills."""

    def __init__(self, n_cells=N_CELLS, n_classes=2):
        super().__init__()
        self.register_buffer("table", torch.full((n_cells, n_classes), 1.0 / n_classes))
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.log(self.table[x[:, 0].long()]) + 0.0 * self.dummy


class FitCounts(Callback):
    """At the end of every fit: smoothed label counts per cell (a deterministic refit)."""

    def on_train_end(self, net, X=None, y=None, **kwargs):
        table = counts_table(np.asarray(X), np.asarray(y))
        net.module_.table.copy_(torch.as_tensor(table, dtype=torch.float32))


def counts_table(X, y):
    counts = np.tile(PRIOR, (N_CELLS, 1))
    for cell, label in zip(X[:, 0].astype(int), y):
        counts[cell, label] += 1
    return counts / counts.sum(axis=1, keepdims=True)


def count_net():
    return RobustNeuralNetClassifier(
        CountModule,
        adversarial=None,
        max_epochs=1,
        random_state=0,
        callbacks=[("counts", FitCounts())],
    )


def worst_accuracy_by_hand(X_lab, y_lab, X_val, y_val, g_val):
    pred = counts_table(X_lab, y_lab)[X_val[:, 0].astype(int)].argmax(axis=1)
    return pd.Series(pred == y_val).groupby(g_val).mean().min()


def expected_gain_by_hand(X_lab, y_lab, x, X_val, y_val, g_val):
    """sum_y p(y | x) * (worst-group accuracy after adding (x, y) - before)."""
    base = worst_accuracy_by_hand(X_lab, y_lab, X_val, y_val, g_val)
    p = counts_table(X_lab, y_lab)[int(x[0])]
    gain = 0.0
    for label in (0, 1):
        X_new = np.vstack([X_lab, x[None]])
        y_new = np.append(y_lab, label)
        gain += p[label] * (
            worst_accuracy_by_hand(X_new, y_new, X_val, y_val, g_val) - base
        )
    return gain


def _fal_world():
    """Cells 0, 1, 4 hold group "a" on validation, cells 2, 3 group "b".

    By hand (counts + prior (1, 1.25)): before any query group "a" scores 2/8,
    "b" 4/6. Labelling cell 0 as 1 (p = 1.25/3.25) or cell 4 as 1 (p =
    2.25/5.25) makes that cell predict 1 and lifts "a" to 4/8; no other label
    changes the worst group. So the gains are 0.25 * p(1 | x) for cells 0 and 4
    (different: the weighting by p(y | x) matters) and 0 for cells 2 and 3,
    while cell 2 has the highest entropy.
    """
    X_lab = np.array(
        [[0], [1], [1], [2], [2], [3], [3], [4], [4], [4]], dtype=np.float32
    )
    y_lab = np.array([0, 1, 1, 0, 1, 0, 0, 0, 0, 1])
    cells = [0] * 4 + [1] * 2 + [4] * 2 + [2] * 3 + [3] * 3
    X_val = np.array(cells, dtype=np.float32)[:, None]
    y_val = np.array([1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1])
    g_val = np.array(["a"] * 8 + ["b"] * 6)
    X_pool = np.array([[0], [2], [3], [4]], dtype=np.float32)
    return X_lab, y_lab, X_val, y_val, g_val, X_pool


def _fal(alpha, X_val, y_val, g_val, n_candidates):
    return FALSampling(
        X_val=X_val,
        y_val=y_val,
        sensitive_features_val=g_val,
        n_candidates=n_candidates,
        alpha=alpha,
        refit="standard",
        refit_epochs=1,
        fairness_criterion="standard",
        random_state=0,
    )


def _fal_expected(X_lab, y_lab, X_val, y_val, g_val, X_pool):
    gain = np.array(
        [expected_gain_by_hand(X_lab, y_lab, x, X_val, y_val, g_val) for x in X_pool]
    )
    ent = _entropy(counts_table(X_lab, y_lab)[X_pool[:, 0].astype(int)])
    return gain, ent


def test_fal_world_by_hand():
    X_lab, y_lab, X_val, y_val, g_val, X_pool = _fal_world()
    gain, ent = _fal_expected(X_lab, y_lab, X_val, y_val, g_val, X_pool)
    np.testing.assert_allclose(
        gain, [0.25 * 1.25 / 3.25, 0, 0, 0.25 * 2.25 / 5.25], atol=1e-12
    )
    assert np.argmax(ent) == 1


def test_fal_expected_fairness_gain_two_candidates():
    X_lab, y_lab, X_val, y_val, g_val, X_pool = _fal_world()
    X_pool = X_pool[:2]  # cell 0: larger gain; cell 2: larger entropy
    gain, ent = _fal_expected(X_lab, y_lab, X_val, y_val, g_val, X_pool)
    assert gain[0] > gain[1] and ent[1] > ent[0]
    learner = fitted_learner(X_lab, y_lab, estimator=count_net())
    idx, scores = _fal(1.0, X_val, y_val, g_val, 2)(learner, X_pool, n_instances=2)
    assert idx.tolist() == [0, 1]
    np.testing.assert_allclose(scores, [1.0, 0.0])
    idx, scores = _fal(0.0, X_val, y_val, g_val, 2)(learner, X_pool, n_instances=2)
    assert idx.tolist() == [1, 0]
    np.testing.assert_allclose(scores, [1.0, 0.0])


def test_fal_scores_are_normalised_entropy_plus_weighted_gain():
    X_lab, y_lab, X_val, y_val, g_val, X_pool = _fal_world()
    gain, ent = _fal_expected(X_lab, y_lab, X_val, y_val, g_val, X_pool)

    def minmax(v):
        return (v - v.min()) / (v.max() - v.min())

    alpha = 0.3
    expected = (1 - alpha) * minmax(ent) + alpha * minmax(gain)
    assert len(np.unique(np.round(expected, 6))) == len(expected)  # a strict order
    learner = fitted_learner(X_lab, y_lab, estimator=count_net())
    idx, scores = _fal(alpha, X_val, y_val, g_val, 4)(learner, X_pool, n_instances=4)
    assert idx.tolist() == np.argsort(-expected).tolist()
    np.testing.assert_allclose(scores, expected[idx], rtol=1e-5, atol=1e-7)
    # the learner's own model is not refitted by the query
    np.testing.assert_allclose(
        learner.estimator.module_.table.numpy(), counts_table(X_lab, y_lab), rtol=1e-6
    )


# ------------------------------------------------------------------------ JIN
def _kl(p, q):
    return rel_entr(p, q).sum(axis=1)


def _js(p, q):
    return jensenshannon(p, q, axis=1) ** 2  # natural log: the JS divergence


def _hard(p, q):
    return (p.argmax(axis=1) != q.argmax(axis=1)).astype(float)


DIVERGENCES = {"kl": _kl, "js": _js, "hard": _hard}


def _jin_world(n_pool=12, seed=0):
    rng = np.random.RandomState(seed)
    X_val, y_val, g_val = validation_set(VAL_SPEC)
    p_rob = rng.dirichlet(np.ones(C), size=n_pool)
    p_std = rng.dirichlet(np.ones(C), size=n_pool)
    p_adv = rng.dirichlet(np.ones(C), size=n_pool)
    X_pool = layout(p_rob, p_std, p_adv, emb=rng.randn(n_pool, EMB))
    return X_val, y_val, g_val, X_pool


def _jin(X_val, y_val, g_val, **kw):
    """JIN on the probability-reading nets, with the settings before issue 25
    (the hand-computed answers below assume them)."""
    params = dict(
        X_val=X_val,
        y_val=y_val,
        sensitive_features_val=g_val,
        attack=SwapToAdv(),
        standard_estimator=proba_net(offset=C),
        class_balance=False,
        random_state=0,
        **PRE_ISSUE_25,
    )
    params.update(kw)
    return JINQueryStrategy(**params)


@pytest.mark.parametrize("kind", ["kl", "js", "hard"])
def test_jin_inconsistencies_match_hand_computed_divergences(kind):
    X_val, y_val, g_val, X_pool = _jin_world()
    s_pool = np.array(["c"] * len(X_pool))
    learner = fitted_learner(*labelled_set())
    util = _jin(X_val, y_val, g_val, disagreement=kind).utilities(
        learner, X_pool, sensitive_features=s_pool
    )
    p_rob, p_std, p_adv, _ = parts(X_pool)
    D = DIVERGENCES[kind]
    np.testing.assert_allclose(util["I_adv"], D(p_rob, p_adv), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(util["I_mod"], D(p_std, p_rob), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["kl", "js"])
@pytest.mark.parametrize("weights", [(1.0, 1.0), (2.0, 0.5), (0.0, 1.0)])
def test_jin_picks_follow_the_weighted_sum(kind, weights):
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=15)
    s_pool = np.array(["c"] * len(X_pool))
    p_rob, p_std, p_adv, _ = parts(X_pool)
    D = DIVERGENCES[kind]
    score = weights[0] * D(p_rob, p_adv) + weights[1] * D(p_std, p_rob)
    strategy = _jin(X_val, y_val, g_val, disagreement=kind, weights=weights)
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=6,
        sensitive_features=s_pool,
    )
    assert idx.tolist() == np.argsort(-score, kind="stable")[:6].tolist()
    np.testing.assert_allclose(scores, score[idx], rtol=1e-4, atol=1e-6)


def test_jin_hard_disagreement_breaks_ties_by_kl():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=15, seed=3)
    s_pool = np.array(["c"] * len(X_pool))
    p_rob, p_std, p_adv, _ = parts(X_pool)
    hard = _hard(p_rob, p_adv) + _hard(p_std, p_rob)
    soft = _kl(p_rob, p_adv) + _kl(p_std, p_rob)
    assert len(np.unique(hard)) >= 2  # the design has ties to break
    expected = np.lexsort((-soft, -hard))[:8]
    strategy = _jin(X_val, y_val, g_val, disagreement="hard")
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=8,
        sensitive_features=s_pool,
    )
    assert idx.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, hard[expected])


def test_jin_hard_disagreement_with_entropy_weight():
    """With ``uncertainty_weight`` the entropy joins both the hard score and
    its soft (KL) tie-break: score = hard + w * H, ties by soft + w * H."""
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=16, seed=5)
    # rows 1 and 2 share the robust model's probabilities (so their entropy
    # and, here, their hard scores) but not their KL: only the soft
    # tie-break orders them
    X_pool[2, :C] = X_pool[1, :C]
    X_pool[2, C : 2 * C] = X_pool[1, C : 2 * C]
    adv = X_pool[1, 2 * C : 3 * C]
    X_pool[2, 2 * C : 3 * C] = 0.5 * adv + 0.5 * np.eye(C)[adv.argmax()]
    s_pool = np.array(["c"] * len(X_pool))
    p_rob, p_std, p_adv, _ = parts(X_pool)
    w = 0.7
    ent = _entropy(p_rob)
    hard = _hard(p_rob, p_adv) + _hard(p_std, p_rob) + w * ent
    soft = _kl(p_rob, p_adv) + _kl(p_std, p_rob) + w * ent
    assert hard[1] == hard[2] and soft[1] != soft[2]  # a tie only KL breaks
    expected = np.lexsort((-soft, -hard))[:16]
    # the entropy matters for the order, in the score and in the tie-break
    assert expected.tolist() != np.lexsort((-soft, -(hard - w * ent)))[:16].tolist()
    strategy = _jin(X_val, y_val, g_val, disagreement="hard", uncertainty_weight=w)
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=16,
        sensitive_features=s_pool,
    )
    assert idx.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, hard[expected], rtol=1e-4, atol=1e-6)


def test_disagreement_scores_default_kind_and_zero_probabilities():
    from skfral.query import disagreement_scores

    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    q = np.array([[1.0, 0.0], [0.2, 0.8]])
    # KL by default; an exact zero in q counts as 1e-12 (documented), not as 0
    expected = [0.5 * np.log(0.5 / 1.0) + 0.5 * np.log(0.5 / 1e-12), 0.0]
    np.testing.assert_allclose(disagreement_scores(p, q), expected, rtol=1e-9)
    with pytest.raises(ValueError, match=r"disagreement='tv'.*'kl'"):
        disagreement_scores(p, q, "tv")


def round_robin_by_hand(score, classes, k):
    queues = {
        c: sorted(np.flatnonzero(classes == c), key=lambda i: -score[i])
        for c in np.unique(classes)
    }
    turn = sorted(queues, key=lambda c: -score[queues[c][0]])
    out = []
    while len(out) < k:
        for c in turn:
            if queues[c] and len(out) < k:
                out.append(queues[c].pop(0))
    return out


def test_jin_class_balance_takes_classes_in_turn():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=18, seed=5)
    s_pool = np.array(["c"] * len(X_pool))
    p_rob, p_std, p_adv, _ = parts(X_pool)
    score = _kl(p_rob, p_adv) + _kl(p_std, p_rob)
    expected = round_robin_by_hand(score, p_rob.argmax(axis=1), 7)
    assert expected != np.argsort(-score)[:7].tolist()  # balancing changes the batch
    strategy = _jin(X_val, y_val, g_val, disagreement="kl", class_balance=True)
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=7,
        sensitive_features=s_pool,
    )
    assert idx.tolist() == expected


@pytest.mark.parametrize(
    "allocation, expected",
    [("worst", {"c": 6}), ("proportional", {"c": 4, "a": 2})],
)
def test_jin_group_allocation_three_groups(allocation, expected):
    X_val, y_val, g_val, _ = _jin_world()
    mean = group_table_by_hand(X_val, y_val, g_val)["mean"].sort_values()
    assert mean.index[0] == "c"
    if allocation == "proportional":
        assert proportional_by_hand(mean, 6) == expected
    rng = np.random.RandomState(1)
    s_pool = np.array(["a"] * 8 + ["b"] * 8 + ["c"] * 9)
    p = rng.dirichlet(np.ones(C), size=len(s_pool))
    X_pool = layout(p, rng.dirichlet(np.ones(C), size=len(s_pool)), p[:, ::-1])
    strategy = _jin(X_val, y_val, g_val, disagreement="kl", group_allocation=allocation)
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=6,
        sensitive_features=s_pool,
    )
    assert pd.Series(s_pool[idx]).value_counts().to_dict() == expected
    # inside each group: that group's best scores
    p_rob, p_std, p_adv, _ = parts(X_pool)
    score = _kl(p_rob, p_adv) + _kl(p_std, p_rob)
    for group, count in expected.items():
        members = np.flatnonzero(s_pool == group)
        best = members[np.argsort(-score[members])[:count]]
        assert sorted(idx[s_pool[idx] == group]) == sorted(best)


# ------------------------------------------------------------ settings, subsets
def _distinct_settings(cls):
    """A non-default value for every ``__init__`` parameter we can check by value."""
    values = {}
    for name in cls._get_param_names():
        if name == "random_state":
            values[name] = 7
        elif name == "max_candidates":
            values[name] = 11
        elif name in ("n_candidates", "refit_epochs", "warm_start_epochs"):
            values[name] = 3
        elif name in ("alpha", "uncertainty_weight"):
            values[name] = 0.25
        elif name == "weights":
            values[name] = (2.0, 0.5)
        elif name == "diversity_factor":
            values[name] = 5
        elif name in ("class_balance",):
            values[name] = False
    return values


@pytest.mark.parametrize(
    "cls",
    [
        EntropySampling,
        MarginSampling,
        LeastConfidenceSampling,
        CoreSetSampling,
        BADGESampling,
        WorstGroupSampling,
        FALSampling,
        JINQueryStrategy,
    ],
    ids=lambda c: c.__name__,
)
def test_settings_are_stored_as_given(cls):
    values = _distinct_settings(cls)
    assert "random_state" in values
    params = cls(**values).get_params()
    assert {k: params[k] for k in values} == values


def test_random_sampling_stores_its_settings():
    from skfral.query import RandomSampling

    params = RandomSampling(random_state=5, max_candidates=9).get_params()
    assert params["random_state"] == 5 and params["max_candidates"] == 9


def test_max_candidates_scores_a_random_subset_of_the_pool():
    rng = np.random.RandomState(0)
    p = rng.dirichlet(np.ones(C) * 0.7, size=40)
    X_pool = layout(p)
    ent = _entropy(parts(X_pool)[0])
    order = np.argsort(-ent)
    net = fitted_learner(*labelled_set()).estimator
    # None, or a budget as large as the pool: the best sample of the pool
    for m in (None, 40, 100):
        idx, _ = EntropySampling(max_candidates=m, random_state=0)(net, X_pool, 1)
        assert idx.tolist() == [order[0]]
    # a budget of 4: the best of a seeded subset of 4 (so never among the 3 worst)
    picks = []
    for seed in range(20):
        strategy = EntropySampling(max_candidates=4, random_state=seed)
        idx, scores = strategy(net, X_pool, 1)
        assert idx[0] not in order[-3:]
        np.testing.assert_allclose(scores, ent[idx], rtol=1e-5)
        picks.append(int(idx[0]))
        again, _ = EntropySampling(max_candidates=4, random_state=seed)(net, X_pool, 1)
        assert again.tolist() == idx.tolist()
    assert len(set(picks)) > 3 and picks.count(int(order[0])) < 10
    # the budget grows to the batch: 6 picks from a budget of 2
    idx, _ = EntropySampling(max_candidates=2, random_state=0)(net, X_pool, 6)
    assert len(set(idx.tolist())) == 6
    # picks of a subset are ranked inside it: best first
    assert np.all(np.diff(ent[idx]) <= 1e-9)


def _rank01(v):
    """Average ranks scaled to [0, 1] (scipy's rankdata)."""
    return (stats.rankdata(v) - 1) / (len(v) - 1)


@pytest.mark.parametrize("w_ent", [0.0, 0.5])
def test_jin_rank_aggregation_sums_scaled_ranks(w_ent):
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=14, seed=7)
    # two equal I_adv values: ties share their mean rank
    X_pool[1, 2 * C : 3 * C] = X_pool[0, 2 * C : 3 * C]
    X_pool[1, :C] = X_pool[0, :C]
    p_rob, p_std, p_adv, _ = parts(X_pool)
    i_adv, i_mod = _js(p_rob, p_adv), _js(p_std, p_rob)
    expected = 2.0 * _rank01(i_adv) + 0.5 * _rank01(i_mod)
    expected = expected + w_ent * _rank01(_entropy(p_rob))
    s_pool = np.array(["c"] * len(X_pool))
    strategy = _jin(
        X_val,
        y_val,
        g_val,
        disagreement="js",
        weights=(2.0, 0.5),
        score_aggregation="rank",
        uncertainty_weight=w_ent,
    )
    learner = fitted_learner(*labelled_set())
    util = strategy.utilities(learner, X_pool, sensitive_features=s_pool)
    np.testing.assert_allclose(util["score"], expected, atol=1e-9)
    idx, scores = strategy(learner, X_pool, n_instances=5, sensitive_features=s_pool)
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:5], atol=1e-9)


def test_jin_class_balance_when_one_class_runs_out():
    X_val, y_val, g_val, _ = _jin_world()
    rng = np.random.RandomState(11)
    labels = np.array([0, 0] + [1] * 8)  # predicted classes: class 0 has only 2
    p_rob = one_hot_rows(labels, sure=0.6)
    X_pool = layout(
        p_rob, rng.dirichlet(np.ones(C), size=10), rng.dirichlet(np.ones(C), size=10)
    )
    p_rob, p_std, p_adv, _ = parts(X_pool)
    score = _kl(p_rob, p_adv) + _kl(p_std, p_rob)
    zeros = sorted(np.flatnonzero(labels == 0), key=lambda i: -score[i])
    ones = sorted(np.flatnonzero(labels == 1), key=lambda i: -score[i])
    first, second = (zeros, ones) if score[zeros[0]] > score[ones[0]] else (ones, zeros)
    expected = [first[0], second[0], first[1], second[1]]
    expected += [i for i in ones if i not in expected][:2]
    strategy = _jin(X_val, y_val, g_val, disagreement="kl", class_balance=True)
    idx, _ = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=6,
        sensitive_features=np.array(["c"] * 10),
    )
    assert idx.tolist() == expected


def test_jin_rank_aggregation_with_two_candidates():
    X_val, y_val, g_val, X_pool = _jin_world(n_pool=2, seed=4)
    p_rob, p_std, p_adv, _ = parts(X_pool)
    i_adv, i_mod = _kl(p_rob, p_adv), _kl(p_std, p_rob)
    expected = 1.0 * (i_adv > i_adv[::-1]) + 3.0 * (i_mod > i_mod[::-1])
    assert expected[0] != expected[1]
    strategy = _jin(
        X_val,
        y_val,
        g_val,
        disagreement="kl",
        weights=(1.0, 3.0),
        score_aggregation="rank",
    )
    idx, scores = strategy(
        fitted_learner(*labelled_set()),
        X_pool,
        n_instances=2,
        sensitive_features=["c", "c"],
    )
    assert idx.tolist() == np.argsort(-expected).tolist()
    np.testing.assert_allclose(scores, np.sort(expected)[::-1])


def test_badge_with_identical_gradients_and_tiny_distances():
    net = fitted_learner(*labelled_set()).estimator
    # identical rows: no D^2 mass left after the first pick, picks are random
    X_same = layout(np.tile(BADGE_P[:1], (5, 1)), emb=np.tile(BADGE_H[:1], (5, 1)))
    sets = set()
    for seed in range(6):
        idx, _ = BADGESampling(random_state=seed)(net, X_same, n_instances=3)
        assert len(set(idx.tolist())) == 3
        sets.add(tuple(sorted(idx.tolist())))
    assert len(sets) > 1
    # tiny distances (sum of D^2 below 1) still follow D^2 sampling
    h = np.array([[0.0, 0.0], [0.01, 0.0], [0.03, 0.0]])
    p = np.array([[0.2, 0.3, 0.5]] * 3)
    X_tiny = layout(p, emb=h + np.array([[1.0, 0.0]]))
    g = gradient_embedding_by_hand(*[parts(X_tiny)[k] for k in (0, 3)])
    first = int(np.argmax((g**2).sum(axis=1)))
    d2 = ((g - g[first]) ** 2).sum(axis=1)
    assert d2.sum() < 1
    others = [i for i in range(3) if i != first]
    far = others[int(np.argmax(d2[others]))]
    share = d2[far] / d2[others].sum()
    hits = sum(
        BADGESampling(random_state=s)(net, X_tiny, n_instances=2)[0][1] == far
        for s in range(200)
    )
    assert abs(hits / 200 - share) < 0.1 and share > 0.65  # uniform: 0.5


def test_kl_and_js_with_exact_zero_probabilities():
    from skfral.query import disagreement_scores

    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(
        disagreement_scores(p, q, "kl"), [np.log(2), 0.0], atol=1e-9
    )
    np.testing.assert_allclose(disagreement_scores(p, q, "js"), _js(p, q), atol=1e-9)
