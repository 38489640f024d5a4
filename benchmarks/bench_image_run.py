"""A first image run: where the time goes, and the command end to end.

Run by hand (not in CI)::

    python -m benchmarks.bench_image_run --folder /tmp/utk20k            # profile + run
    python -m benchmarks.bench_image_run --folder /tmp/utk20k --write    # results/image_run.md

``--folder`` is created with :func:`skfral.datasets.make_face_folder` (UTKFace
layout, ``--n-images`` JPEGs of ``--source-size`` pixels) when it does not
exist; it is never committed.

1. **Profile** (one process, skfral's default threads): the unit cost of each
   phase of ``skfral run --image-folder ... --image-size 32`` measured on a
   sample (listing and labels, decoding a resized image lazily, reading one
   from the decoded cache, a PGD-20 evaluation per image in batches of 512 (the
   old default; with ``--sample`` images, one batch) and of 64, a JIN query per
   candidate, one epoch of PGD-AT on the initial labels), then multiplied by
   how often the command does it, with the old defaults (every image decoded
   on every read, 15 % validation, 20 % test, every pool sample a JIN
   candidate) and the new CPU defaults (decoded once; the caps that
   ``skfral run`` states).
2. **The command** with the new defaults, end to end, with an empty cache
   (``SKFRAL_CACHE_DIR`` in a temporary folder), and again with the cache
   filled: wall seconds, CPU seconds (user + system of the process and its
   children) and the load average.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import write_result_file

ROOT = Path(__file__).resolve().parents[1]

FLAGS = [
    "--layout", "utkface", "--target", "gender", "--sensitive", "race",
    "--image-size", "32", "--seeds", "1", "--rounds", "1", "--budget", "20",
    "--max-epochs", "1", "--strategies", "jin,random",
]  # fmt: skip


def _cpu_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(label, func, rows, n=1):
    start = time.perf_counter()
    cpu = time.process_time()
    out = func()
    wall = time.perf_counter() - start
    rows.append((label, wall / n, (time.process_time() - cpu) / n))
    print(f"{label}: {wall / n * 1000:.2f} ms each", flush=True)
    return out


def profile(folder, args):
    """``[(phase, wall s per unit, cpu s per unit)]`` and the sizes used."""
    import numpy as np

    import skfral  # noqa: F401  (OMP_WAIT_POLICY before torch)
    from skfral.datasets import cache_images, load_image_folder
    from skfral.experiment import default_estimator
    from skfral.metrics import fairness_report
    from skfral.nn import PGD
    from skfral.query import JINQueryStrategy

    rows = []
    faces = _timed(
        "list the folder and parse labels (once)",
        lambda: load_image_folder(folder, layout="utkface", target="gender",
                                  sensitive="race", image_size=32, lazy=True),
        rows,
    )  # fmt: skip
    X, y, s = faces["data"], faces["target"], faces["sensitive"]
    n = len(y)
    rng = np.random.RandomState(0)
    sample = np.sort(rng.choice(n, args.sample, replace=False))
    _timed("decode + resize one image (lazy, every read)", lambda: X[sample], rows,
           n=len(sample))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        cached = _timed(
            "decode + resize one image into the cache (once)",
            lambda: cache_images(X, cache_dir=tmp),
            rows,
            n=n,
        )
        _timed("read one image from the cache", lambda: cached[sample], rows,
               n=len(sample))  # fmt: skip
        labelled = rng.choice(n, 70, replace=False)
        net = default_estimator((3, 32, 32), 2, random_state=0, classes=np.unique(y))
        net.set_params(max_epochs=1, verbose=0)
        Xl, yl = cached[labelled], y[labelled]
        _timed("1 epoch of PGD-AT (PGD-10) on 70 labels", lambda: net.fit(Xl, yl),
               rows)  # fmt: skip
        Xe, ye, se = cached[sample], y[sample], s[sample]
        for batch in (512, 64):
            attack = PGD(eps=8 / 255, step_size=2 / 255, n_steps=20, clip_min=0.0,
                         clip_max=1.0, random_state=0, batch_size=batch)  # fmt: skip
            net.set_params(predict_batch_size=batch)
            _timed(
                f"evaluate one image (clean + PGD-20), batches of {batch}",
                lambda a=attack: fairness_report(net, Xe, ye, sensitive_features=se,
                                                 attack=a),
                rows,
                n=len(sample),
            )  # fmt: skip
        k = args.sample // 2
        jin = JINQueryStrategy(X_val=Xe[:k], y_val=ye[:k], sensitive_features_val=se[:k],
                               random_state=0)  # fmt: skip
        pool = cached.subset(np.setdiff1d(np.arange(n), labelled)[: args.sample])
        s_pool = s[np.setdiff1d(np.arange(n), labelled)[: args.sample]]
        _timed(
            f"JIN query per candidate ({args.sample} candidates, {k} validation)",
            lambda: jin(net, pool, 20, sensitive_features=s_pool, X_labelled=Xl,
                        y_labelled=yl),
            rows,
            n=args.sample,
        )  # fmt: skip
    return rows, n


def extrapolate(rows, n):
    """Seconds of the command per phase, old and new defaults (per-unit x count)."""
    unit = {label: wall for label, wall, _ in rows}
    decode = unit["decode + resize one image (lazy, every read)"]
    once = unit["decode + resize one image into the cache (once)"]
    read = unit["read one image from the cache"]
    ev_old = unit["evaluate one image (clean + PGD-20), batches of 512"]
    ev_new = unit["evaluate one image (clean + PGD-20), batches of 64"]
    jin = next(v for k, v in unit.items() if k.startswith("JIN query"))
    fit = unit["1 epoch of PGD-AT (PGD-10) on 70 labels"]
    initial = 50
    out = {}
    for name, val, test, cand, cached, ev in (
        ("old defaults", round(0.15 * n), round(0.2 * n), None, False, ev_old),
        ("new CPU defaults", 256, 512, 1024, True, ev_new),
    ):
        pool = n - val - test - initial
        cand = pool if cand is None else min(cand, pool)
        evals = 2 * 2 * (val + test)  # 2 strategies x rounds 0 and 1
        # reads: every evaluation reads its images; JIN reads val + candidates
        reads = evals + val + cand
        out[name] = {
            "sizes": f"val {val}, test {test}, JIN candidates {cand}",
            "decoding": once * n + reads * read if cached else reads * decode,
            "evaluation (PGD-20)": evals * ev,
            "JIN query": (val + cand) * jin,
            "training (3 fits)": 3 * fit,
        }
    return out


def run_command(folder, cache_dir, out_dir):
    argv = [sys.executable, "-m", "skfral", "run", "--image-folder", str(folder),
            *FLAGS, "--out", str(out_dir)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SKFRAL_CACHE_DIR": str(cache_dir)}
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY"):
        env.pop(key, None)
    load = os.getloadavg()[0]
    cpu = _cpu_children()
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"skfral run failed: {proc.stderr[-3000:]}")
    said = [line for line in proc.stderr.splitlines() if line.startswith("skfral run:")]
    return wall, _cpu_children() - cpu, (load, os.getloadavg()[0]), said


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--n-images", type=int, default=20500)
    parser.add_argument("--source-size", type=int, default=128)
    parser.add_argument("--sample", type=int, default=128, help="images per phase")
    parser.add_argument("--no-run", action="store_true", help="profile only")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if not args.folder.exists():
        from skfral.datasets import make_face_folder

        print(f"writing {args.n_images} images to {args.folder} ...", flush=True)
        make_face_folder(args.folder, layout="utkface", n_images=args.n_images,
                         image_size=args.source_size, random_state=0)  # fmt: skip
    load0 = os.getloadavg()[0]
    rows, n = profile(args.folder, args)
    phases = extrapolate(rows, n)
    import torch

    lines = [
        f"Command: `python -m benchmarks.bench_image_run --folder FOLDER --n-images "
        f"{args.n_images} --source-size {args.source_size} --sample {args.sample}"
        + (" --no-run" if args.no_run else "")
        + " --write` (FOLDER: a generated UTKFace-layout folder, not committed).",
        "",
        f"Machine: {os.uname().machine}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, torch {torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}; skfral's default threads "
        f"({torch.get_num_threads()} here). 1-minute load average {load0:.1f} at the "
        "start: the machine is shared with other engineers' jobs, so every time "
        "below is longer than on 2 idle cores.",
        "",
        f"## Profile: unit cost of each phase ({n} images of {args.source_size} px "
        f"resized to 32 x 32; a sample of {args.sample})",
        "",
        "| phase | wall ms per unit | CPU ms per unit |",
        "|---|---|---|",
        *[f"| {label} | {w * 1000:.2f} | {c * 1000:.2f} |" for label, w, c in rows],
        "",
        "## Where the time goes: per-unit cost x how often the command does it "
        "(seconds, same load)",
        "",
        "| phase | " + " | ".join(phases) + " |",
        "|---|" + "---|" * len(phases),
    ]
    keys = [k for k in next(iter(phases.values())) if k != "sizes"]
    lines.append("| sizes | " + " | ".join(p["sizes"] for p in phases.values()) + " |")
    for key in keys:
        lines.append(
            f"| {key} | " + " | ".join(f"{p[key]:.0f}" for p in phases.values()) + " |"
        )
    totals = [sum(p[k] for k in keys) for p in phases.values()]
    lines.append("| **total** | " + " | ".join(f"{t:.0f}" for t in totals) + " |")
    if not args.no_run:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            results = []
            for label, out in (("empty cache", "a"), ("cache filled", "b")):
                wall, cpu, loads, said = run_command(
                    args.folder, cache, Path(tmp) / out
                )
                results.append((label, wall, cpu, loads))
                print(f"{label}: {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
        lines += [
            "",
            "## `skfral run --image-folder FOLDER " + " ".join(FLAGS) + "` end to end",
            "",
            "| run | wall s | CPU s (user + system) | load average start -> end |",
            "|---|---|---|---|",
            *[
                f"| {label} | {wall:.0f} | {cpu:.0f} | {a:.1f} -> {b:.1f} |"
                for label, wall, cpu, (a, b) in results
            ],
            "",
            "What the command said:",
            "",
            *[f"    {line}" for line in said],
        ]
    body = "\n".join(lines)
    print(body)
    if args.write:
        path = write_result_file(
            "image_run.md", body, title="A first image run (bench_image_run.py)"
        )
        print(f"Wrote {path}")


if __name__ == "__main__":
    main()
