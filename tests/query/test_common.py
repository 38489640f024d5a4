"""One contract for every query strategy (imblearn / scikit-activeml style).

A strategy gets all of these checks by being listed in ``skfral.query.STRATEGIES``.
"""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from modAL.models import ActiveLearner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfral.query import BaseQueryStrategy
from skfral.utils.discovery import all_strategies

from .query_helpers import make_net

STRATEGIES = all_strategies()
IDS = [name for name, _ in STRATEGIES]


def build(cls, data, **extra):
    params = {"random_state": 0}
    if cls.requires_validation:
        params.update(
            X_val=data["X_val"],
            y_val=data["y_val"],
            sensitive_features_val=data["s_val"],
        )
    if "n_candidates" in cls._get_param_names():
        params.update(n_candidates=4, refit_epochs=1)
    params.update(extra)
    return cls(**params)


def state(learner):
    return (
        {k: v.clone() for k, v in learner.estimator.module_.state_dict().items()},
        np.array(learner.X_training, copy=True),
        np.array(learner.y_training, copy=True),
    )


def same_state(a, b):
    return (
        all(torch.equal(a[0][k], b[0][k]) for k in a[0])
        and np.array_equal(a[1], b[1])
        and np.array_equal(a[2], b[2])
    )


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
@pytest.mark.parametrize("kind", ["numpy", "list", "dataframe"])
def test_picks_are_valid_and_nothing_is_mutated(name, cls, kind, learner, fral_data):
    X_pool = fral_data["X_pool"]
    pool = {
        "numpy": X_pool,
        "list": X_pool.tolist(),
        "dataframe": pd.DataFrame(X_pool),
    }[kind]
    pool_copy = copy.deepcopy(pool)
    s_pool = fral_data["s_pool"].copy()
    before = state(learner)
    strategy = build(cls, fral_data)
    params_before = copy.deepcopy(strategy.get_params())
    idx, scores = strategy(learner, pool, n_instances=7, sensitive_features=s_pool)
    assert idx.shape == (7,) and scores.shape == (7,)
    assert np.issubdtype(idx.dtype, np.integer)
    assert len(np.unique(idx)) == 7
    assert idx.min() >= 0 and idx.max() < len(X_pool)
    assert np.isfinite(scores).all()
    assert same_state(before, state(learner))
    if kind == "dataframe":
        pd.testing.assert_frame_equal(pool, pool_copy)
    else:
        assert np.array_equal(np.asarray(pool), np.asarray(pool_copy))
    assert np.array_equal(s_pool, fral_data["s_pool"])
    after = strategy.get_params()
    for key, value in params_before.items():
        assert (
            np.array_equal(
                np.asarray(value, dtype=object), np.asarray(after[key], dtype=object)
            )
            if isinstance(value, np.ndarray)
            else value == after[key] or value is after[key]
        )


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_same_random_state_same_picks_and_clone(name, cls, learner, fral_data):
    strategy = build(cls, fral_data)
    twin = clone(strategy)
    assert type(twin) is cls
    for key, value in strategy.get_params(deep=False).items():
        other = twin.get_params(deep=False)[key]
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, other) and value is not other
        else:
            assert value == other
    kwargs = dict(n_instances=5, sensitive_features=fral_data["s_pool"])
    idx1, s1 = strategy(copy.deepcopy(learner), fral_data["X_pool"], **kwargs)
    idx2, s2 = twin(copy.deepcopy(learner), fral_data["X_pool"], **kwargs)
    np.testing.assert_array_equal(idx1, idx2)
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_three_rounds_inside_modal(name, cls, fral_data):
    X_pool, y_pool, s_pool = (
        fral_data["X_pool"],
        fral_data["y_pool"],
        fral_data["s_pool"],
    )
    learner = ActiveLearner(
        estimator=make_net(),
        query_strategy=build(cls, fral_data),
        X_training=fral_data["X_lab"],
        y_training=fral_data["y_lab"],
    )
    remaining = np.arange(len(X_pool))
    for _ in range(3):
        idx, rows = learner.query(
            X_pool[remaining], n_instances=4, sensitive_features=s_pool[remaining]
        )
        assert len(np.unique(idx)) == 4
        np.testing.assert_array_equal(rows, X_pool[remaining][idx])
        learner.teach(X_pool[remaining][idx], y_pool[remaining][idx])
        remaining = np.delete(remaining, idx)
    assert len(learner.X_training) == len(fral_data["X_lab"]) + 12


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_pipeline_estimator(name, cls, fral_data):
    pipe = make_pipeline(StandardScaler(), make_net())
    learner = ActiveLearner(
        estimator=pipe, X_training=fral_data["X_lab"], y_training=fral_data["y_lab"]
    )
    idx, scores = build(cls, fral_data)(
        learner,
        fral_data["X_pool"],
        n_instances=5,
        sensitive_features=fral_data["s_pool"],
    )
    assert len(np.unique(idx)) == 5 and np.isfinite(scores).all()


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_clear_errors(name, cls, learner, fral_data):
    strategy = build(cls, fral_data)
    X_pool, s_pool = fral_data["X_pool"], fral_data["s_pool"]
    with pytest.raises(
        ValueError, match=r"n_instances=1000 is larger than the pool \(150 samples\)"
    ):
        strategy(learner, X_pool, n_instances=1000, sensitive_features=s_pool)
    with pytest.raises(ValueError, match="n_instances=0"):
        strategy(learner, X_pool, n_instances=0, sensitive_features=s_pool)
    with pytest.raises(TypeError, match="n_instances"):
        strategy(learner, X_pool, n_instances=2.5, sensitive_features=s_pool)
    with pytest.raises(ValueError, match="X_pool is empty"):
        strategy(learner, X_pool[:0], n_instances=1, sensitive_features=s_pool[:0])
    unfitted = ActiveLearner(estimator=make_net())
    with pytest.raises(NotFittedError):
        strategy(unfitted, X_pool, n_instances=2, sensitive_features=s_pool)
    with pytest.raises(
        ValueError, match="sensitive_features has 149 entries but there are 150"
    ):
        strategy(learner, X_pool, n_instances=2, sensitive_features=s_pool[:-1])
    if cls.requires_sensitive_features:
        with pytest.raises(ValueError, match="sensitive_features is required"):
            strategy(learner, X_pool, n_instances=2)
    bad = X_pool.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X_pool contains NaN"):
        strategy(learner, bad, n_instances=2, sensitive_features=s_pool)
    with pytest.raises(TypeError, match="unexpected keyword"):
        strategy(
            learner, X_pool, n_instances=2, sensitive_features=s_pool, n_instance=3
        )


GROUP_AWARE = [(n, c) for n, c in STRATEGIES if c.requires_sensitive_features]


@pytest.mark.parametrize("name, cls", GROUP_AWARE, ids=[n for n, _ in GROUP_AWARE])
def test_pool_group_absent_from_validation(name, cls, learner, fral_data):
    strategy = build(cls, fral_data)
    s_pool = fral_data["s_pool"].copy()
    s_pool[:3] = 7
    with pytest.raises(ValueError, match=r"group\(s\) \[7\] that are absent"):
        strategy(learner, fral_data["X_pool"], n_instances=2, sensitive_features=s_pool)


def test_discovery_lists_every_short_name():
    from skfral.query import STRATEGIES as registry

    assert [n for n, _ in STRATEGIES] == sorted(registry)
    assert len(STRATEGIES) == 9


# ------------------------------------------------------------ max_candidates
class _RowRecorder:
    """Forward pre-hook recording every input row (picklable: nets get deep-copied)."""

    seen = []

    def __call__(self, module, inputs):
        x = inputs[0]
        type(self).seen.append(x.detach().cpu().numpy().reshape(len(x), -1).copy())


def _record_rows(module, seen):
    """Record every input row the module's forward pass sees (numpy, flattened)."""
    _RowRecorder.seen = seen
    module.register_forward_pre_hook(_RowRecorder())


def _pool_rows_seen(seen, X_pool):
    if not seen:
        return set()
    rows = {r.tobytes() for r in np.concatenate(seen).astype(np.float32)}
    return {i for i, r in enumerate(X_pool.astype(np.float32)) if r.tobytes() in rows}


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_max_candidates_scores_a_seeded_subset(name, cls, learner, fral_data):
    X_pool, s_pool = fral_data["X_pool"], fral_data["s_pool"]
    seen = []
    _record_rows(learner.estimator.module_, seen)
    # one allocated group, so that "inside the allocated group" is one group
    alloc = {"group_allocation": "worst"} if cls.requires_sensitive_features else {}
    strategy = build(cls, fral_data, max_candidates=12, **alloc)
    idx, scores = strategy(learner, X_pool, n_instances=4, sensitive_features=s_pool)
    # indices refer to the full pool
    assert len(np.unique(idx)) == 4 and 0 <= idx.min() and idx.max() < len(X_pool)
    assert np.isfinite(scores).all()
    scored = _pool_rows_seen(seen, X_pool)
    # the robust net looked at no more than 12 pool samples (not the 150)
    assert len(scored) <= 12
    if scored:
        assert set(idx.tolist()) <= scored
    if cls.requires_sensitive_features:  # drawn inside the allocated (worst) group
        assert len(set(s_pool[sorted(scored)].tolist())) == 1
        assert set(s_pool[idx].tolist()) == set(s_pool[sorted(scored)].tolist())
    # same seed, same subset and picks; the full-pool query is unchanged by it
    again, _ = build(cls, fral_data, max_candidates=12, **alloc)(
        learner, X_pool, n_instances=4, sensitive_features=s_pool
    )
    np.testing.assert_array_equal(idx, again)


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_max_candidates_below_the_batch_still_gives_the_batch(
    name, cls, learner, fral_data
):
    strategy = build(cls, fral_data, max_candidates=2)
    idx, _ = strategy(
        learner,
        fral_data["X_pool"],
        n_instances=5,
        sensitive_features=fral_data["s_pool"],
    )
    assert len(np.unique(idx)) == 5


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10"])
def test_max_candidates_bad_values(bad, learner, fral_data):
    strategy = build(STRATEGIES[0][1], fral_data, max_candidates=bad)
    with pytest.raises((ValueError, TypeError), match=rf"max_candidates={bad!r}"):
        strategy(learner, fral_data["X_pool"], n_instances=2)


# ------------------------------------------- a plain estimator, no framework
@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_plain_fitted_estimator_with_labelled_set(name, cls, learner, fral_data):
    """strategy(estimator, X_pool, n, X_labelled=..., y_labelled=...) == the modAL call."""
    kwargs = dict(n_instances=5, sensitive_features=fral_data["s_pool"])
    net = copy.deepcopy(learner.estimator)
    idx_plain, s_plain = build(cls, fral_data)(
        net,
        fral_data["X_pool"],
        X_labelled=fral_data["X_lab"],
        y_labelled=fral_data["y_lab"],
        **kwargs,
    )
    idx_modal, s_modal = build(cls, fral_data)(learner, fral_data["X_pool"], **kwargs)
    np.testing.assert_array_equal(idx_plain, idx_modal)
    np.testing.assert_allclose(s_plain, s_modal, rtol=1e-5, atol=1e-7)
    if cls.requires_labelled:
        with pytest.raises(ValueError, match="needs the labelled set: pass X_labelled"):
            build(cls, fral_data)(net, fral_data["X_pool"], **kwargs)
    with pytest.raises(ValueError, match="X_labelled was given without y_labelled"):
        build(cls, fral_data)(
            net, fral_data["X_pool"], X_labelled=fral_data["X_lab"], **kwargs
        )


# ------------------------------------------------------------ resumable state
@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_state_dict_round_trip_continues_the_run(name, cls, fral_data):
    """state_dict -> a fresh strategy's load_state_dict -> the same next query."""
    import io

    from skfral.nn._checkpoint import load_checkpoint, save_checkpoint

    X_pool, y_pool, s_pool = (fral_data[k] for k in ("X_pool", "y_pool", "s_pool"))
    learner = ActiveLearner(
        estimator=make_net(),
        X_training=fral_data["X_lab"],
        y_training=fral_data["y_lab"],
    )
    strategy = build(cls, fral_data)
    idx, _ = strategy(learner, X_pool, n_instances=4, sensitive_features=s_pool)
    learner.teach(X_pool[idx], y_pool[idx])
    rest = np.delete(np.arange(len(X_pool)), idx)
    buffer = io.BytesIO()
    save_checkpoint(strategy.state_dict(), buffer)  # safe for weights_only loading
    buffer.seek(0)
    state = load_checkpoint(buffer)
    assert isinstance(state, dict)
    resumed = clone(strategy).load_state_dict(state, estimator=learner.estimator)
    assert isinstance(resumed, cls)
    kwargs = dict(n_instances=4, sensitive_features=s_pool[rest])
    idx_resumed, s_resumed = resumed(learner, X_pool[rest], **kwargs)
    idx_straight, s_straight = strategy(learner, X_pool[rest], **kwargs)
    np.testing.assert_array_equal(idx_resumed, idx_straight)
    np.testing.assert_allclose(s_resumed, s_straight, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, cls", STRATEGIES, ids=IDS)
def test_stateless_strategies_refuse_a_foreign_state(name, cls, fral_data):
    strategy = build(cls, fral_data)
    assert strategy.load_state_dict({}) is strategy
    if cls.state_dict is BaseQueryStrategy.state_dict:
        assert strategy.state_dict() == {}
        with pytest.raises(ValueError, match=r"keeps no state.*\['n_fits'\]"):
            strategy.load_state_dict({"n_fits": 1})


# ------------------------------------------------------------- last_query_
# FAL refits a model per candidate and label (about 5 s here): slow.
LAST_QUERY_CASES = [
    pytest.param(n, c, marks=pytest.mark.slow) if n == "fal" else (n, c)
    for n, c in STRATEGIES
]


@pytest.mark.parametrize("name, cls", LAST_QUERY_CASES, ids=IDS)
@pytest.mark.parametrize("max_candidates", [None, 40])
def test_last_query_says_why_each_sample_was_picked(
    name, cls, max_candidates, learner, fral_data
):
    X_pool, s_pool = fral_data["X_pool"], fral_data["s_pool"]
    strategy = build(cls, fral_data, max_candidates=max_candidates)
    assert not hasattr(strategy, "last_query_"), "set before any query"
    idx, scores = strategy(learner, X_pool, n_instances=6, sensitive_features=s_pool)
    record = strategy.last_query_
    assert isinstance(record, pd.DataFrame)
    columns = list(record.columns)
    assert columns[:3] == ["position", "group", "score"], columns
    assert columns[-1] == "n_scored", columns
    assert len(record) == 6, "one row per pick"
    np.testing.assert_array_equal(record["position"], idx, "positions != indices")
    np.testing.assert_array_equal(record["group"], s_pool[idx], "group column")
    np.testing.assert_allclose(record["score"], scores, err_msg="score column")
    n_scored = record["n_scored"].to_numpy()
    assert ((n_scored >= 1) & (n_scored <= len(X_pool))).all(), n_scored
    if max_candidates is not None and name != "fal":  # FAL refits n_candidates
        assert (n_scored <= max_candidates).all(), n_scored
    # a pick's group scored at least as many candidates as it got picks
    picks = record.groupby("group")["position"].transform("size").to_numpy()
    assert (n_scored >= picks).all(), (n_scored, picks)
    # every score part is named in the strategy's docstring
    assert "last_query_ : pandas.DataFrame" in cls.__doc__
    for part in columns[3:-1]:
        assert f"``{part}``" in cls.__doc__, f"{part} is not documented"
    # a failing call leaves no stale record behind
    with pytest.raises(ValueError, match="larger than the pool"):
        strategy(learner, X_pool, n_instances=1000, sensitive_features=s_pool)
    assert not hasattr(strategy, "last_query_"), "stale last_query_ after a failure"
    if not cls.requires_sensitive_features:
        idx, _ = strategy(learner, X_pool, n_instances=2)
        assert strategy.last_query_["group"].isna().all()
        np.testing.assert_array_equal(strategy.last_query_["position"], idx)
