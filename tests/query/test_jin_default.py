"""JIN's default since issue 25: the preset ``jin_auto``.

The default is ``group_allocation="auto"`` with ``shrinkage_prior=25``,
``min_val_count=10`` and ``max_group_share=0.2``; the earlier default stays
reachable as the preset ``jin_bootstrap`` with the three earlier values. The
behavioural test builds validation rows whose correctness the test controls
(the probability-reading nets of ``test_known_answers``) and derives the
expected batches by hand.
"""

import inspect

import numpy as np
import pytest

from skfral.query import JIN_PRESETS, JINQueryStrategy, get_strategy

from .query_helpers import PRE_ISSUE_25
from .test_jin_allocation import pool, query_counts, validation
from .test_known_answers import C, SwapToAdv, proba_net


def test_the_default_is_the_jin_auto_preset():
    assert JINQueryStrategy().get_params() == get_strategy("jin_auto").get_params()
    signature = inspect.signature(JINQueryStrategy).parameters
    defaults = {name: signature[name].default for name in PRE_ISSUE_25}
    assert defaults == {
        "group_allocation": "auto",
        "shrinkage_prior": 25.0,
        "min_val_count": 10,
        "max_group_share": 0.2,
    }
    assert {k: JIN_PRESETS["jin_auto"][k] for k in defaults} == defaults


def test_the_earlier_default_by_name():
    old = get_strategy("jin_bootstrap").get_params()
    assert old["group_allocation"] == "bootstrap"
    assert old["shrinkage_prior"] == 0.0
    assert old["min_val_count"] == 1
    assert old["max_group_share"] is None
    # the preset's other settings are today's defaults too: it is the earlier
    # default exactly, as the tests pinned to it (PRE_ISSUE_25) build it
    assert old == JINQueryStrategy(**PRE_ISSUE_25).get_params()
    spelled_out = get_strategy(
        "jin_bootstrap", shrinkage_prior=0.0, min_val_count=1, max_group_share=None
    )
    assert spelled_out.get_params() == old
    # the paper's reading has none of issue 25's parts either
    paper = get_strategy("jin_paper").get_params()
    assert (paper["shrinkage_prior"], paper["min_val_count"]) == (0.0, 1)
    assert paper["max_group_share"] is None


# -------------------------------------------------------------- behaviour
# Validation: a right on all 40 rows; b wrong on all 9 (fewer than
# min_val_count=10); c right on 30 of 40 (clean and adversarial alike).
SPEC = {"a": (40, 40, 40), "b": (9, 0, 0), "c": (40, 30, 30)}


def _validation_with_group_features():
    """SPEC's rows, whose two embedding features say "b" and "c": every group
    is told from the rest by a perfect separator (cross-validated AUC 1 >=
    the gate's 0.85), so "auto" targets ("bootstrap") whatever group is worst."""
    X, y, g = validation(SPEC)
    X[:, 3 * C :] = np.c_[g == "b", g == "c"].astype(np.float32)
    return X, y, g


def _default_jin(X_val, y_val, g_val, **kw):
    """The defaults, on the probability-reading nets (only the fakes given)."""
    return JINQueryStrategy(
        X_val=X_val,
        y_val=y_val,
        sensitive_features_val=g_val,
        attack=SwapToAdv(),
        standard_estimator=proba_net(offset=C),
        random_state=0,
        **kw,
    )


def test_the_design_by_hand():
    # the shrunk scores with prior 25 toward the overall score 70/89 (the same
    # clean and adversarial): b (raw 0, 9 rows) is below c (raw 0.75, 40 rows)
    # by more than 6 bootstrap sds of c's shrunk score, and b's raw score is 0
    # in every resample: ranked, b is the worst with p_worst ~ 1
    overall = (40 + 0 + 30) / 89
    b = (9 * 0.0 + 25 * overall) / (9 + 25)
    c = (40 * 0.75 + 25 * overall) / (40 + 25)
    a = (40 * 1.0 + 25 * overall) / (40 + 25)
    sd_c = 40 / 65 * np.sqrt(0.75 * 0.25 / 40 / 2)  # mean of two proportions
    assert b < c < a
    assert (c - b) / sd_c > 6
    # unranked b (9 < 10): c is the worst of a and c with p_worst ~ 1 (a is
    # right on every resampled row; c would need all 80 of its outcomes right)
    assert 0.75**80 < 1e-9


@pytest.mark.parametrize(
    "settings, expected",
    [
        # the default: b has 9 validation rows (< 10), so it is not ranked and
        # gets no pick; c, the worst ranked group, up to its cap
        # ceil(0.2 * 20) = 4, and the other 2 go to the next group, a
        ({}, {"c": 4, "a": 2}),
        # every group ranked: b is the worst; its cap 4, then c (next worst)
        (dict(min_val_count=1), {"b": 4, "c": 2}),
        # no cap: the whole batch from the worst ranked group
        (dict(max_group_share=None), {"c": 6}),
        (dict(min_val_count=1, max_group_share=None), {"b": 6}),
    ],
)
def test_the_default_never_targets_a_group_with_few_validation_rows(settings, expected):
    X_val, y_val, g_val = _validation_with_group_features()
    X_pool, s_pool = pool({"a": 20, "b": 20, "c": 20})
    strategy = _default_jin(X_val, y_val, g_val, **settings)
    counts, idx = query_counts(strategy, X_pool, s_pool, 6)
    assert strategy.group_allocation_ == "bootstrap"  # the gate, as designed
    assert counts == expected
    lq = strategy.last_query_
    # what last_query_ says of the picked groups, by hand from SPEC
    val_count = {"a": 40, "b": 9, "c": 40}
    assert lq["group_val_count"].tolist() == [val_count[g] for g in lq["group"]]
    min_count = settings.get("min_val_count", 10)
    assert lq["group_ranked"].tolist() == [
        val_count[g] >= min_count for g in lq["group"]
    ]
    worst = "b" if min_count == 1 else "c"
    is_worst = (lq["group"] == worst).to_numpy()
    p_worst = lq["p_worst"].to_numpy()
    assert (p_worst[is_worst] > 0.99).all() and (p_worst[~is_worst] < 0.01).all()
