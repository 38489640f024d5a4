"""The reason line of a JIN pick states what JIN used: its ``last_query_``.

The nets read their class probabilities straight from the input (a row is
``[p_rob | p_std | p_adv]``; the attack swaps ``p_rob`` for ``p_adv``), so
every validation accuracy, the overall score and the shrunk group scores are
known by hand.
"""

import types

import numpy as np
import pandas as pd
import pytest
import torch

import skfral  # noqa: F401  (applies the modAL shim)
from skfral.experiment import _label_pick
from skfral.experiment._label_pick import _jin_picks, _reasons_jin, _run_strategy
from skfral.nn import RobustNeuralNetClassifier
from skfral.query import JINQueryStrategy

C = 2


class ProbaModule(torch.nn.Module):
    """``log p`` with ``p`` read from the input, columns ``offset:offset+C``."""

    def __init__(self, offset=0):
        super().__init__()
        self.offset = offset
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        p = x[:, self.offset : self.offset + C].clamp_min(1e-12)
        return torch.log(p) + 0.0 * self.dummy


def proba_net(offset=0):
    return RobustNeuralNetClassifier(
        ProbaModule,
        module__offset=offset,
        adversarial=None,
        max_epochs=0,
        random_state=0,
    )


class SwapToAdv:
    """The robust net's probabilities become ``p_adv``."""

    def perturb(self, net, X, y=None):
        X = np.array(X, dtype=np.float32, copy=True)
        X[:, :C] = X[:, 2 * C : 3 * C]
        return X


def rows_predicting(labels, sure=0.9):
    p = np.full((len(labels), C), 1 - sure)
    p[np.arange(len(labels)), labels] = sure
    return p


# group: (validation rows, clean correct, attacked correct). The mean criterion
# (mean of clean and robust accuracy): a 0.85, b 0.10, c 0.75, d 0.00. d has
# the lowest raw score but 5 < min_val_count=10 rows: it is not ranked.
SPEC = {"a": (20, 18, 16), "b": (20, 2, 2), "c": (12, 10, 8), "d": (5, 0, 0)}
PRIOR = 25.0
# overall: (30 clean + 26 attacked correct) / (2 * 57 rows)
OVERALL = (30 + 26) / 114
RAW = {g: (k + m) / (2 * n) for g, (n, k, m) in SPEC.items()}
SHRUNK = {
    g: (n * RAW[g] + PRIOR * OVERALL) / (n + PRIOR) for g, (n, _, _) in SPEC.items()
}
RANK = {"b": 0, "c": 1, "a": 2}  # by shrunk score: b 0.32, c 0.58, a 0.65
POOL_PER_GROUP = 10  # max_group_share=0.2: 2 picks per group at most


def world(seed=0):
    """A ``data`` object as ``_run_strategy`` reads it: fit, validation, pool rows."""
    rng = np.random.RandomState(seed)
    X, y, g = [], [], []
    for group, (n, n_clean, n_adv) in SPEC.items():  # validation rows
        labels = np.arange(n) % C
        clean_ok = rng.permutation(np.arange(n) < n_clean)
        adv_ok = rng.permutation(np.arange(n) < n_adv)
        p_rob = rows_predicting(np.where(clean_ok, labels, 1 - labels))
        p_adv = rows_predicting(np.where(adv_ok, labels, 1 - labels))
        X.append(np.hstack([p_rob, p_rob, p_adv]))
        y.append(labels)
        g += [group] * n
    n_val = len(g)
    fit = rows_predicting(np.arange(4) % C)  # every class seen at fit
    X.append(np.hstack([fit, fit, fit]))
    y.append(np.arange(4) % C)
    g += ["a", "b", "c", "d"]
    n_pool = POOL_PER_GROUP * len(SPEC)
    X.append(rng.dirichlet(np.ones(C), size=(n_pool, 3)).reshape(n_pool, 3 * C))
    y.append(np.zeros(n_pool, dtype=int))
    g += [grp for grp in SPEC for _ in range(POOL_PER_GROUP)]
    n = len(g)
    labelled = np.arange(n) < n_val + 4
    data = types.SimpleNamespace(
        X=np.vstack(X).astype(np.float32),
        y=pd.Series(np.concatenate(y)),
        groups=np.asarray(g, dtype=object),
        labelled=labelled,
    )
    return data, np.arange(n_val + 4)[n_val:], np.arange(n_val)


def run(monkeypatch, budget=8, **params):
    """``_run_strategy("jin", ...)``; also returns the strategy it built."""
    built = []

    def get_strategy(name, **kw):
        built.append(_label_pick.STRATEGIES[name](**kw))
        return built[-1]

    def no_second_pass(*a, **k):
        raise AssertionError("the reasons must not score the pool again")

    monkeypatch.setattr(_label_pick, "get_strategy", get_strategy)
    monkeypatch.setattr(JINQueryStrategy, "utilities", no_second_pass)
    data, fit_rows, val_rows = world()
    params = {
        "attack": SwapToAdv(),
        "standard_estimator": proba_net(offset=C),
        "n_boot": 200,
        **params,
    }
    out = _run_strategy("jin", params, data, proba_net(), fit_rows, val_rows, budget, 0)
    return data, built[0], out


def frame_for(data, strategy, rows):
    """``last_query_`` rows of the picked data rows, found by position."""
    pool = np.flatnonzero(~data.labelled)
    frame = strategy.last_query_.set_index("position")
    return frame.loc[np.searchsorted(pool, rows)]


def test_reasons_follow_last_query_row_by_row(monkeypatch):
    data, strategy, (rows, scores, parts, reasons) = run(
        monkeypatch, group_allocation="bootstrap"
    )
    frame = frame_for(data, strategy, rows)
    # the hand-computed ranking is the one JIN used
    np.testing.assert_allclose(frame["raw_group_score"], frame["group"].map(RAW))
    np.testing.assert_allclose(frame["group_score"], frame["group"].map(SHRUNK))
    # caps of 2: b (targeted), then c, a, and d filled in: every group picked
    assert sorted(pd.Series(data.groups[rows]).value_counts().items()) == [
        ("a", 2),
        ("b", 2),
        ("c", 2),
        ("d", 2),
    ]
    for reason, (_, row), g in zip(reasons, frame.iterrows(), data.groups[rows]):
        assert row["group"] == g
        tail = (
            f"adversarial inconsistency {row['adversarial_inconsistency']:.2f}, "
            f"model inconsistency {row['model_inconsistency']:.2f}"
        )
        assert reason.endswith(tail), reason
        filled = (
            "filled in (bootstrap: the targeted groups could not take the whole "
            "batch; group cap 2); "
        )
        if g == "d":
            assert not row["group_ranked"]
            assert reason.startswith(
                f"group d is not ranked (5 validation rows, fewer than "
                f"min_val_count=10); {filled}"
            ), reason
            assert "worst on" not in reason and "p=" not in reason
            continue
        place = "is worst" if g == "b" else f"ranks {RANK[g] + 1} (1 = worst)"
        how = "targeted (bootstrap; group cap 2); " if g == "b" else filled
        assert row["group_ranked"] and row["group_rank"] == RANK[g]
        assert reason.startswith(
            f"group {g} {place} on validation (mean accuracy {SHRUNK[g]:.2f} shrunk "
            f"toward the overall score; {RAW[g]:.2f} on its {SPEC[g][0]} rows; "
            f"p={row['p_worst']:.2f} of being worst); {how}"
        ), reason
    # b is 0.10 on 20 rows: no resample of a or c comes near it
    assert {g: f"{p:.2f}" for g, p in zip(frame["group"], frame["p_worst"])} == {
        "a": "0.00",
        "b": "1.00",
        "c": "0.00",
        "d": "0.00",
    }
    np.testing.assert_allclose(
        parts["adversarial_inconsistency"], frame["adversarial_inconsistency"]
    )
    np.testing.assert_allclose(
        parts["model_inconsistency"], frame["model_inconsistency"]
    )


def test_picks_are_the_strategy_calls_own(monkeypatch):
    data, strategy, (rows, scores, _, _) = run(monkeypatch)
    pool = np.flatnonzero(~data.labelled)
    again = JINQueryStrategy(**strategy.get_params(deep=False))
    y = data.y.to_numpy(dtype=object)
    fit_rows = np.flatnonzero(data.labelled)[-4:]
    est = proba_net().fit(data.X[fit_rows], y[fit_rows])
    idx, sc = again(
        est,
        data.X[pool],
        len(rows),
        sensitive_features=data.groups[pool],
        X_labelled=data.X[fit_rows],
        y_labelled=y[fit_rows],
    )
    assert pool[idx].tolist() == rows.tolist()
    np.testing.assert_allclose(sc, scores)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"group_allocation": "soft"}, "soft preference (p="),
        ({"group_allocation": "auto"}, "; auto: targeting AUC "),
        ({"group_allocation": "worst"}, "targeted (worst; group cap 2)"),
        ({"group_allocation": "none"}, "not targeted (every pool row competes)"),
        (  # before issue 25: no shrinkage, no minimum, no cap, no p_worst
            {
                "group_allocation": "worst",
                "shrinkage_prior": 0.0,
                "min_val_count": 1,
                "max_group_share": None,
            },
            "group d is worst on validation (mean accuracy 0.00); targeted (worst)",
        ),
    ],
)
def test_every_allocation_has_a_reason(monkeypatch, params, expected):
    data, strategy, (rows, _, _, reasons) = run(monkeypatch, **params)
    assert len(reasons) == len(rows) == 8
    assert any(expected in r for r in reasons), reasons
    frame = frame_for(data, strategy, rows)
    for reason, (_, row) in zip(reasons, frame.iterrows()):
        assert reason.startswith(f"group {row['group']} ")
        if "group_ranked" in row and not row["group_ranked"]:
            assert "is not ranked" in reason and "worst on" not in reason
        elif "group_rank" in row and row["group_rank"] == 0:
            assert " is worst on validation " in reason
        if params["group_allocation"] == "none":
            assert "groups not ranked: group_allocation='none'" in reason
    if params.get("min_val_count", 10) == 10:
        assert not any(r.startswith("group d is worst") for r in reasons)


def test_soft_reasons_state_the_preference(monkeypatch):
    data, strategy, (rows, _, _, reasons) = run(monkeypatch, group_allocation="soft")
    frame = frame_for(data, strategy, rows)
    for reason, (_, row) in zip(reasons, frame.iterrows()):
        assert (
            f"soft preference (p={row['p_worst']:.2f} of being worst, "
            f"+{row['preference']:.2f} on rank score {row['rank_score']:.2f}; "
            "group cap 2); "
        ) in reason, reason
        assert reason.endswith(f", entropy {row['entropy']:.2f}")
        assert "p=" not in reason.split("soft preference")[0]


def test_rows_are_matched_by_position_not_order(monkeypatch):
    data, strategy, (rows, _, _, reasons) = run(monkeypatch)
    pool = np.flatnonzero(~data.labelled)
    idx = np.searchsorted(pool, rows)
    strategy.last_query_ = strategy.last_query_.iloc[::-1].reset_index(drop=True)
    assert _reasons_jin(strategy, _jin_picks(strategy, idx)) == reasons
    with pytest.raises(RuntimeError, match="does not describe picks"):
        _jin_picks(strategy, np.append(idx, len(pool) + 5))
