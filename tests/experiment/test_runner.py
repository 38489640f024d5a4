"""run_fral through the Python API: table, pairing, variants, bad input, out_dir."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from skfral.datasets import SmallGroupWarning, make_fral_classification
from skfral.experiment import (
    DATASETS,
    RESULT_COLUMNS,
    TIMING_COLUMNS,
    derive_seed,
    load_results,
    run_fral,
)

from ..small_run import small_run_settings

TINY = small_run_settings(
    estimator_params={"max_epochs": 2, "attack_n_steps": 2}, eval_attack=3
)


@pytest.fixture(scope="module")
def data():
    return {"toy": make_fral_classification(n_samples=300, random_state=0)}


@pytest.fixture(scope="module")
def table(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    df = run_fral(
        data, ["jin", "random"], seeds=2, n_rounds=2, budget=10, out_dir=out, **TINY
    )
    return df, out


@pytest.mark.slow
def test_end_to_end_table(table):
    df, out = table
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert len(df) == 2 * 2 * 3  # strategies x seeds x (round 0 + 2 rounds)
    assert df[["strategy", "seed", "round"]].drop_duplicates().shape[0] == len(df)
    assert df["n_labels"].tolist() == [20, 30, 40] * 4
    assert df["n_queried"].tolist() == [0, 10, 20] * 4
    assert df["n_pool"].tolist() == [160, 150, 140] * 4
    assert (df["n_test"] == 60).all()
    acc = df[
        [
            "worst_group_standard_accuracy",
            "worst_group_robust_accuracy",
            "worst_group_robust_balanced_accuracy",
            "robust_accuracy",
        ]
    ]
    assert ((acc >= 0) & (acc <= 1)).all().all()
    assert (df["worst_group_robust_accuracy"] <= df["robust_accuracy"] + 1e-12).all()
    assert df.loc[df["round"] == 0, "query_seconds"].isna().all()
    assert (df.loc[df["round"] > 0, "query_seconds"] >= 0).all()
    assert (df["train_seconds"] > 0).all()
    # results.csv holds the same table.
    on_disk = pd.read_csv(out / "results.csv")
    assert on_disk.shape == df.shape
    np.testing.assert_allclose(
        on_disk["worst_group_robust_accuracy"], df["worst_group_robust_accuracy"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["seeds"] == [0, 1]
    assert len(manifest["config_hash"]) == 16
    pd.testing.assert_frame_equal(load_results(out), on_disk)


def test_paired_seeds_give_identical_round_zero(table):
    df, _ = table
    cols = [
        c for c in df.columns if c not in TIMING_COLUMNS + ("strategy", "base_strategy")
    ]
    zero = df[df["round"] == 0]
    jin = zero[zero["strategy"] == "jin"][cols].reset_index(drop=True)
    rnd = zero[zero["strategy"] == "random"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(jin, rnd)
    # different seeds, different splits or models
    assert not zero.iloc[0][cols].equals(zero.iloc[1][cols])


def test_rerun_skips_finished_work(table, data):
    df, out = table
    again = run_fral(
        data, ["jin", "random"], seeds=2, n_rounds=2, budget=10, out_dir=out, **TINY
    )
    pd.testing.assert_frame_equal(again, df)  # timings too: read back from disk


@pytest.mark.slow
def test_different_config_is_refused_then_overwritten(data, tmp_path):
    kw = dict(seeds=1, n_rounds=1, budget=5, out_dir=tmp_path, **TINY)
    run_fral(data, ["random"], **kw)
    with pytest.raises(
        ValueError,
        match=r"different configuration \(differs in: budget\).*"
        r"overwrite=True",
    ):
        run_fral(data, ["random"], **{**kw, "budget": 6})
    df = run_fral(data, ["random"], **{**kw, "budget": 6, "overwrite": True})
    assert df["n_labels"].tolist() == [20, 26]
    assert json.loads((tmp_path / "manifest.json").read_text())["config"]["budget"] == 6


@pytest.mark.slow
def test_strategy_variants_and_seed_list(data):
    df = run_fral(
        data,
        {"jin_js": ("jin", {"disagreement": "js"}), "ent": "entropy"},
        seeds=[3],
        n_rounds=1,
        budget=5,
        **TINY,
    )
    assert df["strategy"].tolist() == ["jin_js", "jin_js", "ent", "ent"]
    assert df["base_strategy"].tolist() == ["jin", "jin", "entropy", "entropy"]
    assert (df["seed"] == 3).all()


def test_registry_names():
    assert list(DATASETS) == [
        "synthetic",
        "adult",
        "adult_race",
        "german",
        "german_age",
        "digits",
    ]


def test_derive_seed_is_deterministic_and_separates_streams():
    assert derive_seed(1, 2, "model") == derive_seed(1, 2, "model")
    seeds = {derive_seed(1, 2, p) for p in ("split", "model", "query", "eval")}
    assert len(seeds) == 4
    assert derive_seed(0, 1, "model") != derive_seed(1, 0, "model")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(datasets=["adlt"]),
            ValueError,
            r"Unknown data set 'adlt' \(did you mean "
            r"'adult'\?\): expected one of synthetic, adult, adult_race",
        ),
        (
            dict(strategies=["jinn"]),
            ValueError,
            r"Unknown strategy 'jinn' \(did you mean "
            r"'jin'\?\): expected one of jin, random",
        ),
        (
            dict(budget=100),
            ValueError,
            r"n_rounds \* budget = 2 \* 100 = 200 labels exceed "
            r"the pool of data set 'toy' \(160 samples\)",
        ),
        (
            dict(n_rounds=0),
            ValueError,
            r"n_rounds=0 is invalid: expected an integer >= 1",
        ),
        (dict(seeds=0), ValueError, r"seeds=0 is invalid: expected an integer >= 1"),
        (dict(seeds=[]), ValueError, r"seeds=\[\] is empty"),
        (dict(budget=0), ValueError, r"budget=0 is invalid"),
        (dict(strategies={"j": ("jin", {"bogus": 1})}), TypeError, r"bogus"),
        (
            dict(strategies={"j": ("jin", {"random_state": 1})}),
            ValueError,
            r"the runner sets these itself",
        ),
        (dict(eval_attack={"steps": 3}), ValueError, r"unknown key\(s\) \['steps'\]"),
        (dict(eval_attack={"eps": -1.0}), ValueError, r"eps=-1"),
        (dict(estimator_params={"lr": float("nan")}), ValueError, r"lr=nan"),
        (
            dict(datasets={"bad": (np.zeros((5, 2)), np.zeros(4), np.zeros(5))}),
            ValueError,
            r"Inconsistent lengths",
        ),
    ],
)
def test_bad_input_is_refused_before_training(data, kwargs, error, match, monkeypatch):
    from skfral.experiment import _cell

    def no_training(*args, **kw):  # pragma: no cover - must not be reached
        raise AssertionError("training started")

    monkeypatch.setattr(_cell, "run_cell", no_training)
    args = dict(
        datasets=data, strategies=["random"], seeds=1, n_rounds=2, budget=10, **TINY
    )
    args.update(kwargs)
    datasets, strategies = args.pop("datasets"), args.pop("strategies")
    with pytest.raises(error, match=match):
        run_fral(datasets, strategies, **args)


def test_weak_eval_attack_warns(data, monkeypatch):
    from skfral.experiment import _cell

    monkeypatch.setattr(_cell, "run_cell_keyed", lambda cell, s: (cell.order, []))
    kw = {**TINY, "estimator_params": {"attack_n_steps": 5}, "eval_attack": 2}
    with pytest.warns(
        UserWarning,
        match=r"n_steps=2, fewer than the training attack's "
        r"attack_n_steps=5",
    ):
        run_fral(data, ["random"], seeds=1, n_rounds=1, budget=5, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SmallGroupWarning)  # toy data: small groups
        run_fral(
            data,
            ["random"],
            seeds=1,
            n_rounds=1,
            budget=5,
            **{**kw, "eval_attack": None},
        )


@pytest.mark.slow
def test_estimator_callable_and_template(data):
    from skfral.nn import MLP, RobustNeuralNetClassifier

    calls = []

    def factory(n_features, n_classes, random_state):
        calls.append((n_features, n_classes))
        return RobustNeuralNetClassifier(
            MLP,
            module__n_features=n_features,
            module__n_classes=n_classes,
            module__hidden_sizes=(8,),
            max_epochs=2,
            attack_n_steps=2,
        )

    kw = {**TINY, "estimator_params": None}
    a = run_fral(
        data, ["random"], seeds=1, n_rounds=1, budget=5, estimator=factory, **kw
    )
    assert calls and calls[0] == (10, 2)
    template = factory(10, 2, None)
    b = run_fral(
        data, ["random"], seeds=1, n_rounds=1, budget=5, estimator=template, **kw
    )
    cols = [c for c in a.columns if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(a[cols], b[cols])
