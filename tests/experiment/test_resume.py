"""Kill a run with SIGKILL after its first round is on disk, rerun, compare."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from skfral.datasets import make_fral_classification
from skfral.experiment import TIMING_COLUMNS, run_fral

from ..small_run import small_run_settings

ROOT = Path(__file__).resolve().parents[2]
KWARGS = small_run_settings(
    seeds=[0, 1],
    n_rounds=3,
    budget=10,
    estimator_params={"max_epochs": 2, "attack_n_steps": 2},
    eval_attack=3,
    warm_start=True,
    n_jobs=1,
)
STRATEGIES = ["jin", "random"]

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from skfral.datasets import make_fral_classification
    from skfral.experiment import _store, run_fral

    original = _store.CellStore.write_round

    def slow_write_round(self, *args, **kwargs):
        original(self, *args, **kwargs)
        time.sleep(0.4)  # leave time to kill the run between rounds

    _store.CellStore.write_round = slow_write_round
    X, y, s = make_fral_classification(n_samples=300, random_state=0)
    run_fral({"toy": (X, y, s)}, %r, out_dir=sys.argv[1], **%r)
    """
)


def _data():
    return {"toy": make_fral_classification(n_samples=300, random_state=0)}


def _without_timings(df):
    return df.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize("warm_start", [True, False])
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, warm_start):
    kwargs = {**KWARGS, "warm_start": warm_start}
    out = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    script = tmp_path / "job.py"
    script.write_text(SCRIPT % (STRATEGIES, kwargs))
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=env)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if list(out.glob("cells/*/*/seed_*/round_001.json")):
                break
            if proc.poll() is not None:
                pytest.fail(
                    f"the run ended (rc={proc.returncode}) before it could be killed"
                )
            time.sleep(0.02)
        else:
            pytest.fail("no round was written within 90 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    done = list(out.glob("cells/*/*/seed_*/round_*.json"))
    total = len(STRATEGIES) * len(kwargs["seeds"]) * (kwargs["n_rounds"] + 1)
    assert 2 <= len(done) < total  # interrupted in the middle
    assert not (out / "results.csv").exists()

    # No truncated file: every JSON parses (temporary files are *.tmp).
    for path in out.rglob("*.json"):
        json.loads(path.read_text())

    # An interrupted folder can be reported on (from the round records).
    from skfral.experiment._cli import main

    assert (
        main(["report", str(out), "--out", str(tmp_path / "partial"), "--quiet"]) == 0
    )
    assert (tmp_path / "partial" / "summary.csv").is_file()

    resumed = run_fral(_data(), STRATEGIES, out_dir=out, **kwargs)
    full = run_fral(_data(), STRATEGIES, **kwargs)
    pd.testing.assert_frame_equal(_without_timings(resumed), _without_timings(full))

    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for path in out.rglob("*.csv"):
        pd.read_csv(path)
    assert not list(out.rglob("*.tmp"))
    on_disk = pd.read_csv(out / "results.csv")
    assert len(on_disk) == total

    # A third call finds everything finished and trains nothing.
    start = time.perf_counter()
    again = run_fral(_data(), STRATEGIES, out_dir=out, **kwargs)
    assert time.perf_counter() - start < 10
    pd.testing.assert_frame_equal(again, resumed)


class _StopAfterRoundOne(Exception):
    pass


@pytest.mark.slow
def test_resumes_a_checkpoint_with_the_older_strategy_state_layout(
    tmp_path, monkeypatch
):
    """Checkpoints of earlier versions wrapped the strategy's state as {"own": ...}.

    A FAL cell written that way once failed to resume ("FALSampling keeps no
    state between queries, but state has keys ['own']").
    """
    from skfral.experiment import _store
    from skfral.nn._checkpoint import load_checkpoint, save_checkpoint

    kwargs = {**KWARGS, "seeds": [0], "n_rounds": 2, "warm_start": False}
    strategies = ["jin", "random", "fal"]
    full = run_fral(_data(), strategies, **kwargs)

    original = _store.CellStore.write_round

    def stop_after_round_one(self, r, *args, **kw):
        original(self, r, *args, **kw)
        if r == 1:
            raise _StopAfterRoundOne

    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(_store.CellStore, "write_round", stop_after_round_one)
        for name in strategies:  # one cell at a time: each stops after round 1
            with pytest.raises(_StopAfterRoundOne):
                run_fral(_data(), [name], out_dir=tmp_path / name, **kwargs)
    states = sorted(tmp_path.glob("*/cells/*/*/seed_0/state_001.pt"))
    assert len(states) == len(strategies)
    for path in states:
        state = load_checkpoint(path)
        state["strategy"] = {"own": state.get("strategy") or {}}
        with open(path, "wb") as fh:
            save_checkpoint(state, fh)
    resumed = pd.concat(
        [
            run_fral(_data(), [name], out_dir=tmp_path / name, **kwargs)
            for name in strategies
        ],
        ignore_index=True,
    )
    key = ["strategy", "seed", "round"]
    pd.testing.assert_frame_equal(
        _without_timings(resumed.sort_values(key)),
        _without_timings(full.sort_values(key)),
    )
    assert not out.exists()
