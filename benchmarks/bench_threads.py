"""Torch threads per cell: a small ``skfral run`` at 1, 2 and automatic threads,
on idle cores and with the other core(s) busy.

Run by hand (not in CI)::

    python benchmarks/bench_threads.py              # Markdown table on stdout
    python benchmarks/bench_threads.py --write      # also benchmarks/results/threads.md

Each measurement is the wall-clock time of one ``python -m skfral run`` in a
fresh process (synthetic data, random strategy, 1 seed, ``--rounds`` rounds,
PGD-AT MLP with ``--max-epochs`` epochs), with ``--torch-threads 1``, ``2`` or
no flag (automatic: cores // parallel cells). "busy" starts ``--busy``
busy-loop processes (default: cores - 1, "the other core") for the duration of
the run, the way other users' jobs load a shared machine. Times are medians
of ``--repeats`` interleaved runs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import machine_line, write_result_file

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = (("1", ["--torch-threads", "1"]), ("2", ["--torch-threads", "2"]))


def _run_args(args):
    return [
        sys.executable, "-m", "skfral", "run", "--datasets", "synthetic",
        "--strategies", "random", "--seeds", "1", "--rounds", str(args.rounds),
        "--budget", "20", "--initial-size", "60", "--val-size", "300",
        "--test-size", "300", "--pool-size", "600",
        "--max-epochs", str(args.max_epochs), "--quiet",
    ]  # fmt: skip


def _env():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # let skfral decide
        env.pop(key, None)
    return env


def _busy(n):
    code = "while True:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def _time_one(argv):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"skfral run failed ({proc.returncode}): {proc.stderr}")
    return elapsed


def _auto_threads():
    import joblib

    return max(1, joblib.cpu_count())  # n_jobs=1: one cell at a time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--busy", type=int, default=None, help="busy loops (cores-1)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    n_busy = max(1, cores - 1) if args.busy is None else args.busy
    auto = _auto_threads()
    settings = (*SETTINGS, (f"automatic ({auto})", []))
    base = _run_args(args)
    times = {(label, load): [] for label, _ in settings for load in ("idle", "busy")}
    loads = []
    for _ in range(args.repeats):
        for load in ("idle", "busy"):
            for label, flags in settings:
                procs = _busy(n_busy) if load == "busy" else []
                try:
                    time.sleep(0.5 if procs else 0)
                    loads.append(os.getloadavg()[0])
                    times[label, load].append(_time_one([*base, *flags]))
                finally:
                    for p in procs:
                        p.kill()
                        p.wait()
                print(f"{label:>14} {load}: {times[label, load][-1]:.1f} s", flush=True)
    rows = [
        "| torch threads | idle cores (s) | other core(s) busy (s) | busy / idle |",
        "|---|---|---|---|",
    ]
    for label, _ in settings:
        idle = statistics.median(times[label, "idle"])
        busy = statistics.median(times[label, "busy"])
        rows.append(f"| {label} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f} |")
    body = "\n".join(
        [
            machine_line(),
            "",
            f"`skfral run` (synthetic, random, 1 seed, {args.rounds} rounds of 20 "
            f"labels, PGD-AT MLP {args.max_epochs} epochs); wall seconds, median of "
            f"{args.repeats} interleaved runs; busy = {n_busy} busy-loop process(es). "
            f"Load average during the runs: {min(loads):.1f} to {max(loads):.1f} "
            "(the machine is shared: 'idle' means no busy loop of ours).",
            "",
            *rows,
            "",
            f"Command: `python benchmarks/bench_threads.py --rounds {args.rounds} "
            f"--max-epochs {args.max_epochs} --repeats {args.repeats}`.",
        ]
    )
    print(body)
    if args.write:
        path = write_result_file(
            "threads.md", body, title="Torch threads per cell (bench_threads.py)"
        )
        print(f"Wrote {path}")


if __name__ == "__main__":
    main()
