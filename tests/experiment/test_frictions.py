"""Frictions a first user met (issue 24, item 7): --quiet, file modes, FGSM batches."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from skfral.datasets import make_fral_classification
from skfral.experiment import TIMING_COLUMNS, run_fral
from skfral.experiment._cli import main
from skfral.experiment._store import atomic_write

TINY = dict(
    seeds=1,
    n_rounds=1,
    budget=5,
    initial_size=20,
    val_size=60,
    test_size=60,
    estimator_params={"max_epochs": 1, "attack_n_steps": 1},
    torch_threads=1,
    progress=False,
)
FLAGS = [
    "--datasets", "synthetic", "--strategies", "random", "--seeds", "1",
    "--rounds", "1", "--budget", "5", "--initial-size", "20", "--val-size", "60",
    "--test-size", "60", "--pool-size", "100", "--max-epochs", "1",
    "--attack-steps", "1", "--eval-steps", "1", "--torch-threads", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return {"toy": make_fral_classification(n_samples=200, random_state=0)}


# ------------------------------------------------------------------ --quiet
@pytest.mark.parametrize("out", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_run_quiet_hides_the_bars_but_prints_the_table(tmp_path, capfd, out):
    argv = ["run", *FLAGS, "--quiet"] + (["--out", str(tmp_path / "r")] if out else [])
    assert main(argv) == 0
    printed = capfd.readouterr()
    assert "| strategy |" in printed.out, "the final table was not printed"
    assert "random" in printed.out
    assert "FRAL cells" not in printed.err, "a progress bar was shown"
    assert "it/s" not in printed.err and "round/s" not in printed.err


@pytest.mark.slow
def test_demo_quiet_hides_the_bars_but_prints_the_table(
    tmp_path, capfd, monkeypatch, data
):
    from skfral.experiment import _runner

    table = run_fral(data, ["random"], **TINY)
    seen = {}

    def fake_run_fral(**kwargs):  # the demo's grid takes minutes: its table only
        seen.update(kwargs)
        return table

    monkeypatch.setattr(_runner, "run_fral", fake_run_fral)
    assert main(["demo", "--quiet", "--out", str(tmp_path / "demo")]) == 0
    assert seen["progress"] is False
    printed = capfd.readouterr()
    assert "| strategy |" in printed.out, "the final table was not printed"


@pytest.mark.slow
def test_report_quiet_still_prints_nothing(tmp_path, capfd, data):
    run_fral(data, ["random"], out_dir=tmp_path / "r", **TINY)
    capfd.readouterr()
    assert main(["report", str(tmp_path / "r"), "--quiet"]) == 0
    assert capfd.readouterr().out == ""


# -------------------------------------------------------------------- umask
@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_atomic_write_follows_the_umask(tmp_path, umask, mask):
    umask(mask)
    for mode, payload in (("w", "text"), ("wb", b"bytes")):
        path = tmp_path / f"file_{mode}"
        atomic_write(path, payload, mode=mode)
        # what a plain open() creates, computed by the system itself
        plain = tmp_path / f"plain_{mode}"
        with open(plain, mode) as fh:
            fh.write(payload)
        expected = stat.S_IMODE(plain.stat().st_mode)
        assert expected == 0o666 & ~mask
        got = stat.S_IMODE(path.stat().st_mode)
        assert got == expected, f"umask {mask:o}: mode {got:o}, expected {expected:o}"


def test_run_folder_files_follow_the_umask(tmp_path, umask, data):
    umask(0o027)
    out = tmp_path / "r"
    run_fral(data, ["random"], out_dir=out, **TINY)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"manifest.json", "results.csv", "round_001.json", "state_001.pt"} <= names
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o640}, modes


# --------------------------------------------------- FGSM over many batches
def test_fgsm_eval_attack_over_several_batches(data):
    # FGSM has random_state as an attribute, not a parameter: with more than one
    # evaluation batch, seeding the later batches called
    # set_params(random_state=...) and failed. FGSM is deterministic, so the
    # table must equal the one-batch evaluation.
    from skfral.nn import FGSM

    kw = {k: v for k, v in TINY.items() if k != "eval_attack"}
    batched = run_fral(data, ["random"], eval_attack=FGSM(eps=0.1, batch_size=16), **kw)
    whole = run_fral(data, ["random"], eval_attack=FGSM(eps=0.1, batch_size=512), **kw)
    assert (batched["n_test"] > 16).all()  # several batches were evaluated
    cols = [c for c in batched.columns if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(batched[cols], whole[cols])


def test_streamed_fgsm_predictions_equal_one_perturb_call():
    from skfral.metrics import fairness_report
    from skfral.nn import FGSM, MLP, RobustNeuralNetClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(50, 3).astype("float32")
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype("int64")
    s = np.where(X[:, 2] > 0, "a", "b")
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=3, adversarial=None, max_epochs=3, random_state=0
    ).fit(X, y)
    report = fairness_report(
        net, X, y, sensitive_features=s, attack=FGSM(eps=0.3, batch_size=7)
    )
    # by hand: one perturb call over every row, then accuracy per group
    correct = net.predict(FGSM(eps=0.3).perturb(net, X, y)) == y
    by_hand = [correct[s == g].mean() for g in ("a", "b")]
    robust = report.by_group["robust"]
    np.testing.assert_allclose([robust["a"], robust["b"]], by_hand)
    assert np.isclose(report.worst_group_robust_accuracy, min(by_hand))
