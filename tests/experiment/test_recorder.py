"""FRALRecorder: a plain loop's rounds as run_fral's table (issue 16 item 2)."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from skfral.experiment import (
    RESULT_COLUMNS,
    FRALRecorder,
    derive_seed,
    plot_learning_curves,
    summarize,
    write_report,
)
from skfral.metrics import fairness_report
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(160, 4).astype("float32")
    y = (X[:, 0] + 0.3 * X[:, 2] > 0).astype(int)
    s = np.where(X[:, 1] > 0.3, "a", "b")
    return X, y, s


def _net(seed=0):
    return RobustNeuralNetClassifier(
        MLP,
        module__n_features=4,
        max_epochs=3,
        attack_n_steps=2,
        random_state=seed,
    )


def test_row_has_run_fral_columns_and_hand_computed_accuracies(data):
    X, y, s = data
    X_test, y_test, s_test = X[100:], y[100:], s[100:]
    net = _net().fit(X[:40], y[:40])
    attack = PGD(eps=0.1, n_steps=3)
    recorder = FRALRecorder(strategy="entropy", seed=4, dataset="toy")
    row = recorder.record(
        net,
        X_test,
        y_test,
        sensitive_features=s_test,
        n_labels=40,
        attack=attack,
        train_seconds=0.5,
    )
    assert list(row) == list(RESULT_COLUMNS)
    pred = net.predict(X_test)
    by_group = {g: np.mean(pred[s_test == g] == y_test[s_test == g]) for g in "ab"}
    assert row["worst_group_standard_accuracy"] == pytest.approx(min(by_group.values()))
    assert row["standard_accuracy"] == pytest.approx(np.mean(pred == y_test))
    assert row["worst_group_standard"] == min(by_group, key=by_group.get)
    assert row["n_test"] == 60 and row["n_groups"] == 2
    # the attack is seeded as run_fral seeds it: derive_seed(seed, round, "eval")
    seeded = PGD(eps=0.1, n_steps=3, random_state=derive_seed(4, 0, "eval"))
    report = fairness_report(
        net, X_test, y_test, sensitive_features=s_test, attack=seeded
    )
    assert row["worst_group_robust_accuracy"] == report["worst_group_robust_accuracy"]
    assert (row["dataset"], row["strategy"], row["base_strategy"]) == (
        "toy",
        "entropy",
        "entropy",
    )
    assert (row["seed"], row["round"], row["n_labels"], row["n_queried"]) == (
        4,
        0,
        40,
        0,
    )
    assert np.isnan(row["query_seconds"]) and row["train_seconds"] == 0.5
    assert row["eval_seconds"] >= 0
    assert np.isnan(row["val_worst_group_robust_accuracy"])  # no validation set
    assert attack.random_state is None  # the user's attack is not modified


def test_rounds_validation_and_frame(data):
    X, y, s = data
    net = _net().fit(X[:40], y[:40])
    recorder = FRALRecorder("jin", seed=1, base_strategy="jin")
    kw = dict(sensitive_features=s[100:], attack=PGD(eps=0.1, n_steps=2))
    recorder.record(net, X[100:], y[100:], n_labels=40, **kw)
    recorder.record(
        net,
        X[100:],
        y[100:],
        n_labels=60,
        X_val=X[60:100],
        y_val=y[60:100],
        sensitive_features_val=s[60:100],
        **kw,
    )
    df = recorder.to_frame()
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert df["round"].tolist() == [0, 1]
    assert df["n_queried"].tolist() == [0, 20]
    assert np.isnan(df.loc[0, "val_worst_group_standard_accuracy"])
    pred = net.predict(X[60:100])
    accs = [np.mean(pred[s[60:100] == g] == y[60:100][s[60:100] == g]) for g in "ab"]
    assert df.loc[1, "val_worst_group_standard_accuracy"] == pytest.approx(min(accs))
    assert len(recorder) == 2 and "2 round(s)" in repr(recorder)
    with pytest.raises(ValueError, match="round=1 is invalid: round 1 is already"):
        recorder.record(net, X[100:], y[100:], n_labels=80, round=1, **kw)
    with pytest.raises(ValueError, match="X_val, y_val and sensitive_features_val go"):
        recorder.record(net, X[100:], y[100:], n_labels=80, X_val=X[:5], **kw)
    with pytest.raises(TypeError, match="n_labels=2.5 has type float"):
        recorder.record(net, X[100:], y[100:], n_labels=2.5, **kw)
    with pytest.raises(ValueError, match="query_seconds=-1.0 is invalid"):
        recorder.record(net, X[100:], y[100:], n_labels=80, query_seconds=-1, **kw)
    with pytest.raises(TypeError, match="attack='pgd' has type str"):
        recorder.record(
            net, X[100:], y[100:], sensitive_features=s[100:], n_labels=80, attack="pgd"
        )
    assert len(recorder) == 2  # failed calls store nothing
    assert FRALRecorder("x").to_frame().columns.tolist() == list(RESULT_COLUMNS)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"strategy": ""}, TypeError, "strategy='' has type str: expected a non-empty"),
        ({"strategy": 3}, TypeError, "strategy=3 has type int"),
        ({"strategy": "a", "seed": -1}, ValueError, "seed=-1 is invalid"),
        ({"strategy": "a", "dataset": None}, TypeError, "dataset=None"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        FRALRecorder(**kwargs)


def test_default_attack_is_pgd20_from_the_net(data):
    X, y, s = data
    net = _net().fit(X[:40], y[:40])
    recorder = FRALRecorder("random")
    row = recorder.record(
        net, X[100:], y[100:], sensitive_features=s[100:], n_labels=40
    )
    attack = PGD(eps=net.attack_eps, n_steps=20, random_state=derive_seed(0, 0, "eval"))
    report = fairness_report(
        net, X[100:], y[100:], sensitive_features=s[100:], attack=attack
    )
    assert row["worst_group_robust_accuracy"] == report["worst_group_robust_accuracy"]


@pytest.mark.slow
def test_recorded_loop_feeds_summaries_curves_and_report(data, tmp_path):
    X, y, s = data
    frames = []
    for strategy in ("random", "jin"):
        for seed in (0, 1):
            recorder = FRALRecorder(strategy, seed=seed)
            net = _net(seed)
            for n in (30, 40):
                net.fit(X[:n], y[:n])
                recorder.record(
                    net,
                    X[100:],
                    y[100:],
                    sensitive_features=s[100:],
                    n_labels=n,
                    attack=PGD(eps=0.1, n_steps=2),
                )
            frames.append(recorder.to_frame())
    df = pd.concat(frames, ignore_index=True)
    summary = summarize(df, n_boot=100)
    assert summary["strategy"].tolist() == ["random", "jin"]
    assert summary["n_seeds"].tolist() == [2, 2]
    axes = plot_learning_curves(df, Figure().subplots(1, 2))
    np.testing.assert_allclose(axes[0].get_lines()[0].get_xdata(), [30, 40])
    _, text, files = write_report(df, tmp_path, n_boot=100)
    assert "## data" in text and len(files) == 4


def test_floor_columns_from_the_labelled_labels(data):
    # issue 24: a recorded loop gets the majority floor when it says what the
    # model was fitted on; computed here by hand from the labels.
    X, y, s = data
    X_test, y_test, s_test = X[100:], y[100:], s[100:]
    net = _net().fit(X[:40], y[:40])
    recorder = FRALRecorder(strategy="random")
    row = recorder.record(
        net,
        X_test,
        y_test,
        sensitive_features=s_test,
        n_labels=40,
        y_labelled=y[:40],
        attack=PGD(eps=0.1, n_steps=2),
    )
    counts = np.bincount(y[:40], minlength=2)
    majority = int(np.argmax(counts))  # ties: the smallest label
    by_group = [np.mean(y_test[s_test == g] == majority) for g in "ab"]
    assert row["floor_accuracy"] == pytest.approx(np.mean(y_test == majority))
    assert row["floor_worst_group_accuracy"] == pytest.approx(min(by_group))
    assert row["floor_balanced_accuracy"] == pytest.approx(0.5)
    # without y_labelled the floor stays unknown (NaN), never guessed
    row = recorder.record(
        net,
        X_test,
        y_test,
        sensitive_features=s_test,
        n_labels=40,
        attack=PGD(eps=0.1, n_steps=2),
    )
    assert np.isnan(row["floor_worst_group_accuracy"])


@pytest.mark.parametrize("y_labelled", [np.zeros(39, int), np.zeros((40, 1), int)])
def test_y_labelled_must_match_n_labels(data, y_labelled):
    X, y, s = data
    net = _net().fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="y_labelled has shape .*n_labels=40"):
        FRALRecorder(strategy="random").record(
            net,
            X[100:],
            y[100:],
            sensitive_features=s[100:],
            n_labels=40,
            y_labelled=y_labelled,
        )
