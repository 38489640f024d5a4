"""Default torch threads from the model and the cores (skfral.nn._threads, skfral._threads)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from skfral.nn import MLP, SmallCNN, _threads

ROOT = Path(__file__).resolve().parents[2]


def test_default_threads_small_net_gets_one():
    mlp = MLP(n_features=20, n_classes=2)
    n_params = sum(p.numel() for p in mlp.parameters())
    assert n_params < _threads.SMALL_NET_PARAMETERS  # the premise of the rule
    for passive in (True, False):
        assert _threads.default_threads(mlp, cores=16, passive=passive) == 1


def test_default_threads_convolutions_get_the_cores_when_idle_threads_sleep():
    cnn = SmallCNN(in_channels=3)
    assert _threads.default_threads(cnn, cores=6, passive=True) == 6
    assert _threads.default_threads(cnn, cores=6, passive=False) == 1  # spinning
    big = torch.nn.Linear(2000, 1000)  # 2M parameters, no convolution
    assert _threads.default_threads(big, cores=3, passive=True) == 3


def test_available_cores_respects_affinity():
    expected = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else (os.cpu_count())
    )
    assert _threads.available_cores() == expected


@pytest.fixture
def thread_state(monkeypatch):
    """A process whose thread count nobody chose; restored afterwards."""
    saved = torch.get_num_threads()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(_threads._state, "initial", saved)
    monkeypatch.setitem(_threads._state, "ours", None)
    monkeypatch.setitem(_threads._state, "mode", None)
    monkeypatch.setattr(_threads, "passive_wait", lambda: True)
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    yield saved
    torch.set_num_threads(saved)


def test_apply_sets_the_default_when_nobody_chose(thread_state):
    assert _threads.apply_default_threads(MLP(n_features=4, n_classes=2)) == 1
    assert torch.get_num_threads() == 1
    # the count is ours, so a later CNN may raise it to the cores
    assert _threads.apply_default_threads(SmallCNN(in_channels=1)) == 2
    assert torch.get_num_threads() == 2


def test_apply_keeps_a_users_count(thread_state, monkeypatch):
    torch.set_num_threads(thread_state + 1)  # neither torch's default nor ours
    assert _threads.apply_default_threads(MLP(n_features=4, n_classes=2)) is None
    assert torch.get_num_threads() == thread_state + 1
    torch.set_num_threads(thread_state)
    monkeypatch.setenv("OMP_NUM_THREADS", str(thread_state))
    assert _threads.apply_default_threads(MLP(n_features=4, n_classes=2)) is None


def test_runner_modes(thread_state):
    _threads.set_thread_mode(2, "explicit")  # run_fral(torch_threads=2)
    torch.set_num_threads(2)
    assert _threads.apply_default_threads(MLP(n_features=4, n_classes=2)) is None
    assert torch.get_num_threads() == 2
    _threads.set_thread_mode(2, "share")  # run_fral's default share of 2 cores
    assert _threads.apply_default_threads(MLP(n_features=4, n_classes=2)) == 1
    assert _threads.apply_default_threads(SmallCNN(in_channels=1)) == 2
    _threads.set_thread_mode(1, "share")  # two cells at once on 2 cores
    assert _threads.apply_default_threads(SmallCNN(in_channels=1)) == 1


PROBE = """
import json, os, sys
torch_first = sys.argv[1] == "torch-first"
if torch_first:
    import torch
import numpy as np
import skfral
policy = os.environ.get("OMP_WAIT_POLICY")
import torch
from skfral.nn import MLP, SmallCNN, RobustNeuralNetClassifier
out = {"policy": policy, "initial": torch.get_num_threads()}
rng = np.random.RandomState(0)
for name, module, X in (
    ("mlp", MLP, rng.normal(size=(16, 4)).astype(np.float32)),
    ("cnn", SmallCNN, rng.uniform(size=(16, 1, 8, 8)).astype(np.float32)),
):
    y = np.arange(16) % 2
    RobustNeuralNetClassifier(module, max_epochs=1, train_split=None,
                              attack_n_steps=1, verbose=0).fit(X, y)
    out[name] = torch.get_num_threads()
print(json.dumps(out))
"""


def probe(mode, **env):
    clean = {k: v for k, v in os.environ.items() if k not in (
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_bare_net_in_a_users_loop():
    cores = _threads.available_cores()
    out = probe("skfral-first")
    assert out["policy"] == "PASSIVE", "import skfral did not set OMP_WAIT_POLICY"
    assert out["mlp"] == 1, f"MLP net left {out['mlp']} torch threads"
    assert out["cnn"] == cores, f"CNN net got {out['cnn']} threads, not {cores}"


@pytest.mark.slow
def test_torch_first_spins_so_one_thread():
    out = probe("torch-first")
    assert out["policy"] is None  # torch already loaded: too late to set it
    assert (out["mlp"], out["cnn"]) == (1, 1)


@pytest.mark.slow
def test_users_policy_and_threads_are_kept():
    out = probe("skfral-first", OMP_WAIT_POLICY="ACTIVE", OMP_NUM_THREADS="2")
    assert out["policy"] == "ACTIVE"
    assert (out["mlp"], out["cnn"]) == (2, 2)
