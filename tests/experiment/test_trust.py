"""Runs users can trust (issue 13): threads, interrupts, growing folders, progress,
--version and the evaluation-attack crash."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import joblib
import pandas as pd
import pytest

from skfral.datasets import SmallGroupWarning, make_fral_classification
from skfral.experiment import TIMING_COLUMNS, run_fral

from ..small_run import small_run_settings

ROOT = Path(__file__).resolve().parents[2]
TINY = small_run_settings(n_rounds=1, budget=5)


def _env():
    path = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def data():
    return {"toy": make_fral_classification(n_samples=200, random_state=0)}


def test_fgsm_eval_attack_runs_past_round_zero(data):
    # Before: "Invalid parameter 'random_state'" when round 0 seeded the FGSM.
    from skfral.nn import FGSM

    df = run_fral(
        data,
        ["random"],
        seeds=1,
        eval_attack=FGSM(eps=0.1),
        **{k: v for k, v in TINY.items() if k != "eval_attack"},
    )
    assert df["round"].tolist() == [0, 1]
    assert df["worst_group_robust_accuracy"].between(0, 1).all()


def _record_threads(monkeypatch):
    """Replace the cell by one that records the torch threads it would use."""
    from skfral.experiment import _cell, _schedule

    seen = []

    def fake(cell, settings):
        seen.append(_schedule.cell_threads(settings))
        return cell.order, []

    monkeypatch.setattr(_cell, "run_cell_keyed", fake)
    return seen


@pytest.mark.parametrize("n_jobs, cores, expected", [(1, 8, 8), (2, 8, 4), (4, 2, 1)])
def test_default_threads_are_cores_over_workers(
    data, monkeypatch, n_jobs, cores, expected
):
    from skfral.experiment import _schedule

    monkeypatch.setattr(_schedule, "available_cores", lambda: cores)
    monkeypatch.setattr(_schedule, "_load", lambda: 0.0)  # idle: no busy warning
    seen = _record_threads(monkeypatch)
    kw = {**TINY, "torch_threads": None}
    with joblib.parallel_config(backend="threading"):  # a local backend, in process
        run_fral(data, ["random", "entropy"], seeds=2, n_jobs=n_jobs, **kw)
    assert seen and set(seen) == {expected}


def test_oversubscribed_threads_warn(data, monkeypatch):
    from skfral.experiment import _schedule

    monkeypatch.setattr(_schedule, "available_cores", lambda: 2)
    _record_threads(monkeypatch)
    with (
        joblib.parallel_config(backend="threading"),
        pytest.warns(UserWarning, match=r"torch_threads=2 x 2 parallel cell\(s\) = 4"),
    ):
        run_fral(
            data,
            ["random", "entropy"],
            seeds=1,
            n_jobs=2,
            **{**TINY, "torch_threads": 2},
        )


def test_busy_machine_warns_with_automatic_threads(data, monkeypatch):
    from skfral.experiment import _schedule

    monkeypatch.setattr(_schedule, "available_cores", lambda: 2)
    monkeypatch.setattr(_schedule, "_load", lambda: 9.5)
    monkeypatch.setattr(_schedule, "passive_wait", lambda: False)  # threads spin
    seen = _record_threads(monkeypatch)
    kw = {**TINY, "torch_threads": None}
    with pytest.warns(UserWarning, match=r"busy \(load average 9.5 on 2 cores\)"):
        run_fral(data, ["random"], seeds=1, **kw)
    assert seen == [2]  # the count stays cores // cells: numbers do not track load
    with warnings.catch_warnings():  # OMP_WAIT_POLICY=PASSIVE: idle threads sleep
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SmallGroupWarning)  # toy data: small groups
        monkeypatch.setattr(_schedule, "passive_wait", lambda: True)
        run_fral(data, ["random"], seeds=1, **kw)
        monkeypatch.setattr(_schedule, "passive_wait", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SmallGroupWarning)  # toy data: small groups
        run_fral(data, ["random"], seeds=1, **TINY)  # torch_threads=1: no warning
        monkeypatch.setattr(_schedule, "_load", lambda: 0.2)
        run_fral(data, ["random"], seeds=1, **kw)  # idle cores: no warning


@pytest.mark.slow
def test_folder_grows_with_seeds_and_strategies(data, tmp_path, monkeypatch):
    from skfral.experiment import _cell

    first = run_fral(data, ["random"], seeds=1, out_dir=tmp_path, **TINY)
    record = tmp_path / "cells" / "toy" / "random" / "seed_0" / "round_001.json"
    stamp = record.stat().st_mtime_ns
    ran = []
    original = _cell.run_cell

    def counting(cell, settings):
        ran.append((cell.strategy, cell.seed))
        return original(cell, settings)

    monkeypatch.setattr(_cell, "run_cell", counting)
    grown = run_fral(
        data, ["random", "entropy"], seeds=2, out_dir=tmp_path, **TINY
    )  # no overwrite needed
    assert sorted(ran) == [("entropy", 0), ("entropy", 1), ("random", 1)]
    assert record.stat().st_mtime_ns == stamp  # the finished cell was reused
    old = grown[(grown["strategy"] == "random") & (grown["seed"] == 0)]
    pd.testing.assert_frame_equal(old.reset_index(drop=True), first)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["seeds"] == [0, 1]
    assert list(manifest["config"]["strategies"]) == ["random", "entropy"]
    # A label that comes back with other settings is a different configuration.
    with pytest.raises(ValueError, match=r"differs in: strategies\['entropy'\]"):
        run_fral(data, {"entropy": "margin"}, seeds=1, out_dir=tmp_path, **TINY)
    # Fewer seeds reuse the folder too.
    again = run_fral(data, ["random"], seeds=1, out_dir=tmp_path, **TINY)
    cols = [c for c in first.columns if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(again[cols], first[cols])
    # results.csv (what skfral report reads) keeps every finished cell of the folder
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(grown)
    cells = set(zip(on_disk["strategy"], on_disk["seed"], strict=True))
    assert cells == {("random", 0), ("random", 1), ("entropy", 0), ("entropy", 1)}


def test_each_cell_shows_a_per_round_progress_bar(data, capfd):
    run_fral(data, ["random"], seeds=1, **{**TINY, "n_rounds": 2, "progress": True})
    err = capfd.readouterr().err
    assert "toy/random/seed 0" in err
    assert "2/3" in err  # rounds 0, 1 done of 3, before the cell finished


@pytest.mark.slow
def test_version_flag():
    from skfral import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "skfral", "--version"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"skfral {__version__}"


def test_ctrl_c_during_a_query_is_not_swallowed(data, monkeypatch):
    # modAL's BaseLearner.query retries the strategy in a bare ``except:``: a
    # Ctrl-C during the first call was swallowed and the run went on.
    from skfral.query import RandomSampling

    original = RandomSampling.__call__
    calls = []

    def interrupted_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C inside the query
            time.sleep(1)  # the handler raises here
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RandomSampling, "__call__", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        run_fral(data, ["random"], seeds=1, **{**TINY, "n_rounds": 3})
    assert len(calls) <= 2  # at most modAL's one retry, then the run stopped
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _default_sigint():
    # A background job of a non-interactive shell (CI) inherits SIGINT ignored,
    # and skfral leaves an ignored signal alone: give the child the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, status, message",
    [
        (signal.SIGINT, 130, "skfral: interrupted; "),
        (signal.SIGTERM, 143, "skfral: interrupted by SIGTERM; "),
    ],
)
def test_ctrl_c_exits_130_with_a_resume_hint(tmp_path, signum, status, message):
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "skfral", "run", "--datasets", "synthetic",
        "--strategies", "random", "--seeds", "1", "--rounds", "50", "--budget", "5",
        "--initial-size", "20", "--val-size", "60", "--test-size", "60",
        "--max-epochs", "2", "--attack-steps", "1", "--eval-steps", "1",
        "--torch-threads", "1", "--quiet", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=_default_sigint,
    )
    first = out / "cells" / "synthetic" / "random" / "seed_0" / "round_000.json"
    deadline = time.monotonic() + 240
    while not first.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert first.exists(), proc.communicate()[1] if proc.poll() is not None else ""
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert err.strip().endswith(f"{message}rerun the same command to resume"), err
