"""Interrupted runs (issue 24, item 1): SIGINT or SIGTERM at any moment, then the
same call again, gives the table of an uninterrupted run; no half-finished round
is ever written.

The signal is sent by the process to itself from inside each phase of a round
(query, training, evaluation, the checkpoint write, the record write), for
``run_fral`` with ``n_jobs=1`` and with worker processes; and to a ``skfral run``
subprocess at several moments (the whole process group for Ctrl-C, as a
terminal does), with exit statuses 130 and 143.
"""

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from skfral.datasets import make_fral_classification
from skfral.experiment import TIMING_COLUMNS, _interrupt, run_fral
from skfral.experiment._cli import main

from .interrupt_helpers import SignalingPGD, SignalOnce

ROOT = Path(__file__).resolve().parents[2]
KW = dict(
    seeds=1,
    n_rounds=3,
    budget=5,
    initial_size=20,
    val_size=60,
    test_size=60,
    eval_attack=2,
    torch_threads=1,
    progress=False,
)
NET = {"max_epochs": 2, "attack_n_steps": 1}
ROUND = 2  # the round interrupted (rounds 0 and 1 are on disk by then)


def _data():
    return {"toy": make_fral_classification(n_samples=200, random_state=0)}


def _without_timings(df):
    return df.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


def _records(out):
    return sorted(p.name for p in out.rglob("round_*.json"))


@pytest.fixture(autouse=True)
def _handlers_restored():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    after = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert after == before, "the run left its signal handlers installed"


@pytest.fixture(scope="module")
def uninterrupted():
    return run_fral(_data(), ["random"], estimator_params=NET, **KW)


# ---------------------------------------------------------------- the guard
def test_guard_turns_both_signals_into_interrupted_and_restores_handlers():
    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        with pytest.raises(KeyboardInterrupt) as info:  # noqa: PT012
            with _interrupt.interrupt_guard():
                assert signal.getsignal(sig) is _interrupt._handler
                os.kill(os.getpid(), sig)
                time.sleep(5)  # the handler raises here
        assert info.value.signum == sig
        assert _interrupt.exit_status(info.value) == status


def test_a_swallowed_interrupt_is_raised_again():
    with pytest.raises(KeyboardInterrupt) as info:  # noqa: PT012
        with _interrupt.interrupt_guard():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except KeyboardInterrupt:
                pass  # what skorch's partial_fit does
            _interrupt.raise_if_interrupted()
    assert info.value.signum == signal.SIGTERM
    _interrupt.raise_if_interrupted()  # the record ends with the guard


def test_an_error_caused_by_the_interrupt_stops_the_run_as_interrupted():
    # joblib/loky, interrupted while starting its pool, failed to clean up with
    # "RuntimeError: cannot join thread before it is started" (seen in CI): the
    # command crashed with exit 1 instead of stopping with 130.
    with pytest.raises(KeyboardInterrupt) as info:  # noqa: PT012
        with _interrupt.interrupt_guard():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            except KeyboardInterrupt:
                raise RuntimeError("cannot join thread before it is started") from None
    assert info.value.signum == signal.SIGINT
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(RuntimeError, match="no signal"):  # without a signal: an error
        with _interrupt.interrupt_guard():
            raise RuntimeError("no signal")


def test_nested_guards_and_other_threads_change_nothing():
    with _interrupt.interrupt_guard():
        outer = signal.getsignal(signal.SIGINT)
        with _interrupt.interrupt_guard():
            assert signal.getsignal(signal.SIGINT) is outer
        assert signal.getsignal(signal.SIGINT) is outer  # inner exit kept it
    seen, main_handler = [], signal.getsignal(signal.SIGINT)

    def in_thread():
        with _interrupt.interrupt_guard():  # signal.signal would fail here
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert seen == [main_handler]


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _interrupt.interrupt_guard():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is _interrupt._handler
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_interrupted_crosses_processes_with_its_signal():
    exc = pickle.loads(pickle.dumps(_interrupt.Interrupted(signal.SIGTERM)))
    assert isinstance(exc, KeyboardInterrupt)
    assert exc.signum == signal.SIGTERM
    assert str(exc) == "interrupted by SIGTERM"


# ------------------------------------------------- every phase, n_jobs=1
class _Once:
    """Signal this process once, at the ``at``-th call of the wrapped step."""

    def __init__(self, signum, at):
        self.signum, self.at, self.calls = signum, at, 0

    def hit(self):
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), self.signum)
            time.sleep(5)  # the handler raises here
            raise AssertionError("the signal handler did not raise")


def _hook_query(monkeypatch, once):
    from skfral.query import RandomSampling

    original = RandomSampling.__call__

    def query(self, *args, **kwargs):
        once.hit()  # the query of round `at`
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RandomSampling, "__call__", query)


def _hook_evaluation(monkeypatch, once):
    from skfral.experiment import _cell

    original = _cell.fairness_report

    def report(*args, **kwargs):
        result = original(*args, **kwargs)
        once.hit()  # between the test and the validation report
        return result

    monkeypatch.setattr(_cell, "fairness_report", report)


def _hook_checkpoint(monkeypatch, once):
    from skfral.experiment import _store

    original = _store.save_checkpoint

    def half_then_signal(obj, fh):
        import io

        buf = io.BytesIO()
        original(obj, buf)
        data = buf.getvalue()
        fh.write(data[: len(data) // 2])
        once.hit()  # inside the checkpoint write
        fh.write(data[len(data) // 2 :])

    monkeypatch.setattr(_store, "save_checkpoint", half_then_signal)


def _hook_record(monkeypatch, once):
    from skfral.experiment import _store

    original = _store.atomic_write

    def write(path, data, **kwargs):
        if Path(path).name.startswith("round_") and isinstance(data, str):
            text = data

            def data(fh):
                fh.write(text[: len(text) // 2])
                once.hit()  # inside the record write, after the checkpoint
                fh.write(text[len(text) // 2 :])

        return original(path, data, **kwargs)

    monkeypatch.setattr(_store, "atomic_write", write)


# (hook, the call that is the interrupted round's) - round r is the r-th query,
# the (2r+1)-th and (2r+2)-th report, the (r+1)-th checkpoint and record.
PHASES = {
    "query": (_hook_query, ROUND),
    "evaluation": (_hook_evaluation, 2 * ROUND + 1),
    "checkpoint-write": (_hook_checkpoint, ROUND + 1),
    "record-write": (_hook_record, ROUND + 1),
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize(
    "phase",
    [
        "training",  # the one that lost rounds before (skorch swallows Ctrl-C)
        pytest.param("query", marks=pytest.mark.slow),
        pytest.param("evaluation", marks=pytest.mark.slow),
        pytest.param("checkpoint-write", marks=pytest.mark.slow),
        pytest.param("record-write", marks=pytest.mark.slow),
    ],
)
def test_interrupt_in_every_phase_then_rerun(
    tmp_path, monkeypatch, uninterrupted, phase, signum
):
    out = tmp_path / "run"
    marker = str(tmp_path / "fired")
    n_train = KW["initial_size"] + ROUND * KW["budget"]

    def net():  # a fresh callback each call: the config hash sees its attributes
        if phase != "training":
            return NET
        return {**NET, "callbacks": [SignalOnce(marker, n_train, int(signum))]}

    if phase != "training":
        hook, at = PHASES[phase]
        hook(monkeypatch, _Once(signum, at))
    with pytest.raises(KeyboardInterrupt) as info:
        run_fral(_data(), ["random"], out_dir=out, estimator_params=net(), **KW)
    assert getattr(info.value, "signum", None) == signum
    # the interrupted round was not written; the earlier ones were
    assert _records(out) == [f"round_{r:03d}.json" for r in range(ROUND)], phase
    assert not list(out.rglob("*.tmp")), "a temporary file was left"
    assert not (out / "results.csv").exists()
    monkeypatch.undo()
    if phase == "training":
        assert Path(marker).exists()  # the rerun's callback stays quiet
    resumed = run_fral(_data(), ["random"], out_dir=out, estimator_params=net(), **KW)
    pd.testing.assert_frame_equal(
        _without_timings(resumed), _without_timings(uninterrupted)
    )


# ----------------------------------------------- worker processes (loky)
@pytest.mark.slow
@pytest.mark.parametrize(
    "phase, signum",
    [
        ("training", signal.SIGINT),
        ("training", signal.SIGTERM),
        ("evaluation", signal.SIGTERM),
    ],
)
def test_interrupt_inside_a_worker_then_rerun(tmp_path, phase, signum):
    # A Ctrl-C at a terminal reaches the workers too (the process group). Here
    # one worker signals itself inside skorch's fit (or in the middle of an
    # evaluation): it must not write a half-finished round, and the run must
    # stop with the signal (before, the guard was off in workers: a Ctrl-C in
    # a fit wrote a half-trained round and the run went on to the end, and a
    # SIGTERM killed the worker).
    from skfral.experiment import derive_seed

    kw = {**KW, "seeds": 2, "n_jobs": 2}
    marker = str(tmp_path / "fired")
    n_train = KW["initial_size"] + ROUND * KW["budget"]

    def settings():  # fresh objects each call: the config hash sees attributes
        if phase == "training":
            callback = SignalOnce(marker, n_train, int(signum))
            return {"estimator_params": {**NET, "callbacks": [callback]}}
        attack = SignalingPGD(
            eps=0.1,
            n_steps=2,
            marker=marker,
            fire_seed=derive_seed(1, ROUND, "eval"),
            signum=int(signum),
        )
        return {"estimator_params": NET, "eval_attack": attack}

    kw.pop("eval_attack")
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as info:
        run_fral(_data(), ["random"], out_dir=out, **settings(), **kw)
    assert Path(marker).exists()
    assert getattr(info.value, "signum", None) == signum
    assert not (out / "results.csv").exists()
    # The other worker may have been killed by joblib (SIGKILL) in the middle of
    # an atomic write: a temporary file can stay, never a partial record.
    for record in out.rglob("round_*.json"):
        json.loads(record.read_text())
    resumed = run_fral(_data(), ["random"], out_dir=out, **settings(), **kw)
    assert not list(out.rglob("*.tmp")), "the resumed run left temporary files"
    full = run_fral(_data(), ["random"], **settings(), **{**kw, "n_jobs": 1})
    pd.testing.assert_frame_equal(_without_timings(resumed), _without_timings(full))


# ------------------------------------------------------ the command line
CLI = [
    "run", "--datasets", "synthetic", "--strategies", "random",
    "--seeds", "2", "--rounds", "3", "--budget", "5", "--initial-size", "20",
    "--val-size", "60", "--test-size", "60", "--pool-size", "100",
    "--max-epochs", "2", "--attack-steps", "1", "--eval-steps", "1",
    "--torch-threads", "1", "--quiet",
]  # fmt: skip


def _default_sigint():
    # A background job of a non-interactive shell (CI) inherits SIGINT ignored,
    # and a guard leaves an ignored signal alone: give the child the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out, n_jobs):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [sys.executable, "-m", "skfral", *CLI, "--n-jobs", str(n_jobs)]
    return subprocess.Popen(
        [*cmd, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
        start_new_session=True,  # its own process group, as a terminal job has
    )


def _catches_sigterm(pid):
    """Whether process ``pid`` has a SIGTERM handler (the command has started).

    Before that, Python is still importing and the default action applies: the
    process dies of the signal (a shell reports the same 130 / 143, without the
    message), having written nothing.
    """
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def _interrupt_at(out, n_jobs, signum, delay):
    """Start ``skfral run``, signal it ``delay`` s after it started; return it."""
    proc = _start(out, n_jobs)
    try:
        deadline = time.monotonic() + 120
        while not _catches_sigterm(proc.pid):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the run did not start in 120 s"
            time.sleep(0.02)
        stop = time.monotonic() + delay
        while proc.poll() is None and time.monotonic() < stop:
            time.sleep(0.02)
        if proc.poll() is None:
            if signum == signal.SIGINT:
                os.killpg(proc.pid, signum)  # Ctrl-C: the whole process group
            else:
                proc.send_signal(signum)  # `kill PID`: the main process only
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cli_interrupted_again_and_again_then_finished(tmp_path, n_jobs):
    base = tmp_path / "base"
    assert main([*CLI, "--out", str(base)]) == 0
    expected = _without_timings(pd.read_csv(base / "results.csv"))

    out = tmp_path / "run"
    # several moments, both signals: each rerun resumes and is stopped again
    plan = [(signal.SIGINT, 0.3), (signal.SIGTERM, 1.5), (signal.SIGINT, 3.0)]
    if n_jobs == 2:
        plan = [(signal.SIGINT, 2.0), (signal.SIGTERM, 5.0), (signal.SIGINT, 8.0)]
    stopped = 0
    for signum, delay in plan:
        rc, err = _interrupt_at(out, n_jobs, signum, delay)
        if rc == 0:
            break  # it finished before the signal
        stopped += 1
        assert rc == 128 + signum, f"signal {signum} at {delay} s: rc={rc}\n{err}"
        # skfral's own last line says so (the interpreter may print more at exit,
        # e.g. multiprocessing's resource_tracker warning after worker processes)
        ours = [line for line in err.splitlines() if line.startswith("skfral: ")]
        assert ours and "interrupted" in ours[-1], err[-3000:]
        assert not (out / "results.csv").exists()
    assert stopped >= 1, "every run finished before its signal: raise the load"
    rc, err = _interrupt_at(out, n_jobs, signal.SIGINT, 300)  # runs to the end
    assert rc == 0, err[-3000:]
    resumed = _without_timings(pd.read_csv(out / "results.csv"))
    pd.testing.assert_frame_equal(resumed, expected)
