"""Faults: a killed ``skfral run``, a lost dask worker, and run-to-run determinism.

``tests/experiment/test_resume.py`` already kills a run with SIGKILL *between*
rounds (after the first round is on disk). Here the kill lands *inside* a
checkpoint write, at a round drawn with a fixed seed: the process SIGKILLs
itself after writing half of ``state_<r>.pt``. Nothing may be truncated, and
the rerun must give the uninterrupted table.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from modAL.models import ActiveLearner

import skfral  # noqa: F401  (modAL shim)
from skfral.datasets import make_fral_classification
from skfral.experiment import TIMING_COLUMNS, run_fral
from skfral.experiment._cli import main
from skfral.nn import MLP, RobustNeuralNetClassifier
from skfral.nn._checkpoint import load_checkpoint
from skfral.query import STRATEGIES, get_strategy

from ..small_run import small_run_settings

ROOT = Path(__file__).resolve().parents[2]
N_ROUNDS = 4
KILL_ROUND = random.Random(9).randint(1, N_ROUNDS - 1)  # seeded; rounds follow it
CLI_FLAGS = [
    "run",
    "--datasets",
    "synthetic",
    "--strategies",
    "jin,random",
    "--seeds",
    "1",
    "--rounds",
    str(N_ROUNDS),
    "--budget",
    "5",
    "--initial-size",
    "20",
    "--val-size",
    "60",
    "--test-size",
    "60",
    "--pool-size",
    "100",
    "--max-epochs",
    "1",
    "--attack-steps",
    "1",
    "--eval-steps",
    "1",
    "--torch-threads",
    "1",
    "--warm-start",
    "--quiet",
]

KILLER = textwrap.dedent(
    """
    import io, os, signal, sys
    from skfral.experiment import _store
    from skfral.experiment._cli import main

    kill_round = int(sys.argv[1])
    current = {}
    write_round = _store.CellStore.write_round
    save = _store.save_checkpoint

    def tracking_write_round(self, r, *args, **kwargs):
        current["round"] = r
        return write_round(self, r, *args, **kwargs)

    def half_save_then_die(obj, fh):
        if current.get("round") != kill_round:
            return save(obj, fh)
        buf = io.BytesIO()
        save(obj, buf)
        data = buf.getvalue()
        fh.write(data[: len(data) // 2])  # a torn write ...
        fh.flush()
        os.fsync(fh.fileno())
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the machine dies

    _store.CellStore.write_round = tracking_write_round
    _store.save_checkpoint = half_save_then_die
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _without_timings(df):
    return df.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


def _check_no_file_is_truncated(out):
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for path in out.rglob("state_*.pt"):
        assert load_checkpoint(path)["robust"]["module"]
    for path in out.rglob("*.csv"):
        pd.read_csv(path)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    assert main([*CLI_FLAGS, "--out", str(out)]) == 0
    return pd.read_csv(out / "results.csv")


@pytest.mark.slow
def test_sigkill_inside_a_checkpoint_write_then_rerun(tmp_path, uninterrupted):
    out = tmp_path / "run"
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.run(
        [sys.executable, str(script), str(KILL_ROUND), *CLI_FLAGS, "--out", str(out)],
        env=env,
        timeout=120,
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # The torn checkpoint is a temporary file; its round was never recorded.
    torn = list(out.rglob(f".state_{KILL_ROUND:03d}.pt.*.tmp"))
    assert len(torn) == 1
    cell = torn[0].parent
    assert not (cell / f"round_{KILL_ROUND:03d}.json").exists()
    assert (cell / f"round_{KILL_ROUND - 1:03d}.json").is_file()
    assert not (out / "results.csv").exists()
    _check_no_file_is_truncated(out)  # temporary files excepted, all parse

    assert main([*CLI_FLAGS, "--out", str(out)]) == 0  # the rerun resumes
    assert not list(out.rglob("*.tmp"))
    _check_no_file_is_truncated(out)
    resumed = pd.read_csv(out / "results.csv")
    pd.testing.assert_frame_equal(
        _without_timings(resumed), _without_timings(uninterrupted)
    )


# --------------------------------------------------------------- determinism
@pytest.mark.slow
def test_same_seeds_give_the_same_table(tmp_path, uninterrupted):
    out = tmp_path / "again"
    assert main([*CLI_FLAGS, "--out", str(out)]) == 0
    again = pd.read_csv(out / "results.csv")
    pd.testing.assert_frame_equal(
        _without_timings(again), _without_timings(uninterrupted)
    )
    assert (again["round"] == N_ROUNDS).sum() == 2


@pytest.mark.parametrize("adversarial", ["pgd", "trades", None])
def test_same_random_state_gives_the_same_weights(adversarial):
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def fit():
        return RobustNeuralNetClassifier(
            MLP,
            module__n_features=3,
            module__hidden_sizes=(8,),
            module__dropout=0.2,
            adversarial=adversarial,
            max_epochs=2,
            attack_n_steps=2,
            batch_size=16,
            random_state=5,
        ).fit(X, y)

    global_state = torch.get_rng_state()
    a, b = fit(), fit()
    assert torch.equal(torch.get_rng_state(), global_state)  # no global seeding
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.slow
def test_same_random_state_gives_the_same_picks():
    rng = np.random.RandomState(2)
    X = rng.randn(90, 3).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.randn(90) > 0).astype(np.int64)
    s = np.arange(90) % 2
    net = RobustNeuralNetClassifier(
        MLP,
        module__n_features=3,
        module__hidden_sizes=(8,),
        max_epochs=2,
        attack_n_steps=2,
        random_state=0,
    )
    learner = ActiveLearner(estimator=net, X_training=X[:20], y_training=y[:20])
    for name, cls in STRATEGIES.items():
        params = {"random_state": 11}
        if cls.requires_validation:
            params.update(
                X_val=X[20:50], y_val=y[20:50], sensitive_features_val=s[20:50]
            )
        if name == "fal":
            params.update(n_candidates=2, refit_epochs=1)
        picks = [
            get_strategy(name, **params)(
                learner, X[50:], n_instances=6, sensitive_features=s[50:]
            )
            for _ in range(2)
        ]
        np.testing.assert_array_equal(picks[0][0], picks[1][0], err_msg=name)
        np.testing.assert_array_equal(picks[0][1], picks[1][1], err_msg=name)


# ------------------------------------------------------------ a lost worker
@pytest.mark.slow
def test_dask_worker_killed_mid_grid_gives_the_same_table(tmp_path):
    distributed = pytest.importorskip("distributed")
    data = {"toy": make_fral_classification(n_samples=200, random_state=0)}
    strategies = ["jin", "random"]
    kwargs = small_run_settings(
        seeds=2,
        n_rounds=3,
        budget=5,
        val_size=40,
        test_size=40,
        estimator_params={"max_epochs": 2, "attack_n_steps": 2},
    )
    out = tmp_path / "grid"
    outcome = {}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = client.run(os.getpid)

        def grid():
            try:
                with joblib.parallel_config("dask"):
                    outcome["table"] = run_fral(data, strategies, out_dir=out, **kwargs)
            except BaseException as exc:  # reported below
                outcome["error"] = exc

        worker = threading.Thread(target=grid)
        worker.start()
        deadline = time.monotonic() + 60
        last = f"round_{kwargs['n_rounds']:03d}.json"
        while not list(out.glob(f"cells/*/*/seed_*/{last}")):  # first cell done
            assert time.monotonic() < deadline and worker.is_alive(), outcome
            time.sleep(0.02)
        busy = [w for w, tasks in client.processing().items() if tasks and w in pids]
        assert busy, "no cell was running when the worker was to be killed"
        os.kill(pids[busy[0]], signal.SIGKILL)  # mid-cell; the nanny restarts it
        worker.join(timeout=120)
        assert not worker.is_alive()
        assert pids[busy[0]] not in client.run(os.getpid).values()  # it really died
    assert "error" not in outcome, outcome.get("error")
    local = run_fral(data, strategies, **kwargs)
    pd.testing.assert_frame_equal(
        _without_timings(outcome["table"]), _without_timings(local)
    )
    _check_no_file_is_truncated(out)
    assert not list(out.rglob("*.tmp"))
