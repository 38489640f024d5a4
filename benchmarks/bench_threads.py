"""Torch threads: each fixed setting against skfral's default, idle and busy.

Run by hand (not in CI)::

    python -m benchmarks.bench_threads              # Markdown tables on stdout
    python -m benchmarks.bench_threads --write      # also benchmarks/results/threads.md

Two measurements, each in fresh processes, every setting interleaved with the
others so that all saw the same load:

1. **A bare net in a user's own loop**: ``fit`` of the default robust net
   (``default_estimator``: PGD-AT with PGD-10) on the tabular MLP (600 x 20,
   ``--mlp-epochs`` epochs) and on the image SmallCNN (``--cnn-images``
   3 x 32 x 32 images, 1 epoch); fit time only (imports excluded). Settings
   (pinned with ``OMP_NUM_THREADS``, which skfral never overrides): 1 or 2
   threads with OpenMP's default wait policy (idle threads spin; torch
   imported before skfral, so skfral cannot set the policy), 1 or 2 threads
   with ``OMP_WAIT_POLICY=PASSIVE``, and skfral's default (``import skfral``
   first: PASSIVE, then the net picks its threads from the model and the
   cores).
2. **``skfral run``** (synthetic, random, 1 seed, ``--rounds`` rounds, MLP with
   ``--max-epochs`` epochs; wall time of the command) at ``--torch-threads 1``,
   ``2`` and the default. This is also run_fral's path.

"busy" starts one busy-loop process per core (``--busy``) for the duration of
each measurement. Times are medians of ``--repeats`` runs; each row also gives
the ratio to the best setting under the same load (<= 1.2 is the goal for the
default).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import write_result_file

ROOT = Path(__file__).resolve().parents[1]

# (label, threads, policy): policy "spin" imports torch before skfral with
# OMP_WAIT_POLICY unset (OpenMP's default), "passive" sets PASSIVE, "skfral"
# lets import skfral decide and the net pick its threads.
NET_SETTINGS = (
    ("1 thread, spinning", "1", "spin"),
    ("2 threads, spinning", "2", "spin"),
    ("1 thread, PASSIVE", "1", "passive"),
    ("2 threads, PASSIVE", "2", "passive"),
    ("skfral default", "auto", "skfral"),
)

_FIT = """
import sys, time, json
model, threads, policy, n_epochs, n_images = sys.argv[1:6]
if policy == "spin":
    import torch  # before skfral: OpenMP's default wait policy
import numpy as np
import skfral
import torch
from skfral.experiment import default_estimator
rng = np.random.RandomState(0)
if model == "mlp":
    X = rng.normal(size=(600, 20)).astype(np.float32)
    net = default_estimator(20, 2, random_state=0)
    net.set_params(max_epochs=int(n_epochs))
else:
    X = rng.uniform(size=(int(n_images), 3, 32, 32)).astype(np.float32)
    net = default_estimator((3, 32, 32), 2, random_state=0)
    net.set_params(max_epochs=1)
y = np.arange(len(X)) % 2
net.set_params(verbose=0)
start = time.perf_counter()
net.fit(X, y)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "threads": torch.get_num_threads()}))
"""


def _env(policy, threads="auto"):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY"):
        env.pop(key, None)  # let skfral (or the setting) decide
    if policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if threads != "auto":  # how a user pins the count: skfral keeps it
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = threads
    return env


def _busy(n):
    code = "while True:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def _fit_once(model, threads, policy, args):
    argv = [sys.executable, "-c", _FIT, model, threads, policy,
            str(args.mlp_epochs), str(args.cnn_images)]  # fmt: skip
    env = _env(policy, threads)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"fit failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["seconds"], out["threads"]


def _run_args(args):
    return [
        sys.executable, "-m", "skfral", "run", "--datasets", "synthetic",
        "--strategies", "random", "--seeds", "1", "--rounds", str(args.rounds),
        "--budget", "20", "--initial-size", "60", "--val-size", "300",
        "--test-size", "300", "--pool-size", "600",
        "--max-epochs", str(args.max_epochs), "--quiet",
    ]  # fmt: skip


def _cli_once(flags, args):
    start = time.perf_counter()
    proc = subprocess.run(
        [*_run_args(args), *flags], env=_env("skfral"), capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"skfral run failed ({proc.returncode}): {proc.stderr}")
    return elapsed, None


CLI_SETTINGS = (
    ("--torch-threads 1", ["--torch-threads", "1"]),
    ("--torch-threads 2", ["--torch-threads", "2"]),
    ("skfral default", []),
)


def _measure(jobs, args, n_busy, loads):
    """``{(group, label, load): [seconds]}``, every job interleaved per repeat."""
    times, threads = {}, {}
    for _ in range(args.repeats):
        for load in ("idle", "busy"):
            for group, label, call in jobs:
                procs = _busy(n_busy) if load == "busy" else []
                try:
                    time.sleep(0.5 if procs else 0)
                    loads.append(os.getloadavg()[0])
                    seconds, used = call()
                finally:
                    for p in procs:
                        p.kill()
                        p.wait()
                times.setdefault((group, label, load), []).append(seconds)
                threads[group, label] = used
                print(f"{group} | {label} | {load}: {seconds:.1f} s", flush=True)
    return times, threads


def _table(group, labels, times, threads, *, first="setting"):
    rows = [
        f"| {first} | threads used | idle (s) | idle / best | busy (s) | busy / best |",
        "|---|---|---|---|---|---|",
    ]
    med = {
        (label, load): statistics.median(times[group, label, load])
        for label in labels
        for load in ("idle", "busy")
    }
    best = {
        load: min(med[label, load] for label in labels) for load in ("idle", "busy")
    }
    for label in labels:
        used = threads.get((group, label))
        rows.append(
            f"| {label} | {'-' if used is None else used} | {med[label, 'idle']:.1f} | "
            f"{med[label, 'idle'] / best['idle']:.2f} | {med[label, 'busy']:.1f} | "
            f"{med[label, 'busy'] / best['busy']:.2f} |"
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlp-epochs", type=int, default=3)
    parser.add_argument("--cnn-images", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--busy", type=int, default=None, help="busy loops (cores)")
    parser.add_argument("--no-cli", action="store_true", help="skip `skfral run`")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    n_busy = cores if args.busy is None else args.busy
    jobs = []
    for model in ("mlp", "cnn"):
        for label, threads, policy in NET_SETTINGS:
            jobs.append((model, label, lambda m=model, t=threads, p=policy: _fit_once(
                m, t, p, args)))  # fmt: skip
    if not args.no_cli:
        for label, flags in CLI_SETTINGS:
            jobs.append(("cli", label, lambda f=flags: _cli_once(f, args)))
    loads = []
    t0 = time.perf_counter()
    times, threads = _measure(jobs, args, n_busy, loads)
    total = time.perf_counter() - t0
    net_labels = [label for label, _, _ in NET_SETTINGS]
    command = (
        f"python -m benchmarks.bench_threads --mlp-epochs {args.mlp_epochs} "
        f"--cnn-images {args.cnn_images} --rounds {args.rounds} --max-epochs "
        f"{args.max_epochs} --repeats {args.repeats}"
        + (" --no-cli" if args.no_cli else "")
        + (f" --busy {args.busy}" if args.busy is not None else "")
    )
    import torch

    parts = [
        f"Command: `{command} --write`.",
        "",
        f"Machine: {os.uname().machine}, {cores} cores, Python "
        f"{sys.version.split()[0]}, torch {torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}. Median of {args.repeats} run(s); busy = "
        f"{n_busy} busy-loop process(es) on top of whatever else ran. 1-minute "
        f"load average during the runs: {min(loads):.1f} to {max(loads):.1f} "
        f"({total / 60:.0f} min in all). The machine is shared with other "
        "engineers' jobs: 'idle' means no busy loop of ours, not an idle machine.",
        "",
        "## A bare net in a user's own loop: `net.fit` of the tabular MLP "
        f"(600 x 20, {args.mlp_epochs} epochs of PGD-AT)",
        "",
        *_table("mlp", net_labels, times, threads),
        "",
        f"## A bare net: `net.fit` of the image SmallCNN ({args.cnn_images} x 3 x "
        "32 x 32, 1 epoch of PGD-AT)",
        "",
        *_table("cnn", net_labels, times, threads),
    ]
    if not args.no_cli:
        parts += [
            "",
            f"## `skfral run` (run_fral): synthetic, random, 1 seed, {args.rounds} "
            f"round(s) of 20 labels, MLP {args.max_epochs} epochs; wall seconds of "
            "the command",
            "",
            *_table("cli", [label for label, _ in CLI_SETTINGS], times, threads),
        ]
    body = "\n".join(parts)
    print(body)
    if args.write:
        path = write_result_file(
            "threads.md", body, title="Torch threads (bench_threads.py)"
        )
        print(f"Wrote {path}")


if __name__ == "__main__":
    main()
