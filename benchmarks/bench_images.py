"""Images at scale: throughput, memory against pool size, ResNet-18 PGD vs torchattacks.

Run by hand (not in CI), at low priority on a shared machine::

    nice -n 10 python -m benchmarks.bench_images                  # pools of 5k, 20k, 40k
    nice -n 10 python -m benchmarks.bench_images --sizes 5000,10000,20000
    nice -n 10 python -m benchmarks.bench_images --sizes 40000,80000,160000  # past the cap
    python -m benchmarks.bench_images --device cuda               # the same on a GPU
    # issue 28: only JIN's scaling, 10k to 160k (no throughput, no ResNet section)
    nice -n 10 python -m benchmarks.bench_images --sections scaling --ops jin \
        --sizes 10000,20000,40000,80000,160000 --out benchmarks/results/images_scaling.md

``--sections`` (comma-separated, default ``throughput,scaling,resnet``: all) picks
the parts below: ``throughput`` (1.: the fit epoch and PGD pass; without it the
setup child still fits the net the queries need, untimed in the report),
``scaling`` (2. and 3.: the per-pool-size operations) and ``resnet`` (4.).
``--ops`` (comma-separated subset of ``entropy,jin,report,jin_capped``, default
all; ``jin_capped`` only with ``--capped-candidates`` > 0) picks the operations
of ``scaling``. The report says which sections and operations ran, and lists a
target only when what it needs was measured.

Data: generated 64x64 UTKFace-layout folders (:func:`skfral.datasets.make_face_folder`,
target gender, groups race), read lazily (:class:`~skfral.datasets.LazyImageArray`).
The folders are generated once and cached under ``benchmarks/runs/bench_images/``
(git-ignored). The labelled set (1,024 images) and the validation set (512) come from
a separate folder, so a pool of ``n`` is the whole ``n``-image folder.

Measured, with the torch threads set explicitly (``--threads``):

1. Images/s of one PGD-AT fit epoch (SmallCNN, PGD-10 training attack, batches of 128)
   and of one PGD-10 pass (eps 8/255, step 2/255) over 2,048 lazy pool images.
2. For each pool size, in a fresh process each (so that peaks do not mix): an entropy
   query over the whole pool, a JIN query with ``max_candidates=4096`` (PGD-10 over
   the candidates), and a ``fairness_report`` over the whole pool (clean and under a
   PGD attack of ``--report-steps`` steps). Wall seconds, images/s and the peak
   resident set size (RSS, sampled every millisecond, and the process's
   ``ru_maxrss``). The same batch sizes at every pool size: prediction and attack
   batches of ``--batch-size``.
3. The exponent ``a`` of a least-squares fit ``seconds ~ c * pool ** a`` of the JIN
   query time, with ``max_candidates=4096`` (the issue's cap, which binds only once the
   validation-worst group holds 4,096 pool samples) and with ``--capped-candidates``
   (default 512, a cap that binds at every pool size: the cost of a query whose
   candidate count does not change).
4. PGD-10 images/s with :class:`skfral.nn.ResNet18` (CIFAR-style, on 32x32 inputs of
   the same folder) against ``torchattacks.PGD`` on the same model, inputs and
   batch, side by side in one process (interleaved repeats; CPU time when on CPU).

For each JIN query the report gives the rows its attack perturbed (the validation
set, attacked once to rank the groups, plus the *scored* candidates), the allocation
the query used (``group_allocation_``; the default ``"auto"`` chooses "bootstrap" or
"soft") and the CPU and wall seconds per scored row. The sizes where the cap binds
(scored rows equal to the candidate cap) and those below it are fitted separately.

Targets, reported as met or not (only those measured): issue 14: peak RSS at the
largest pool at most 1.25x that at the smallest and under 2 GB (SmallCNN); JIN
exponent at most 0.15 over all sizes; ResNet-18 PGD within 10% of torchattacks.
Issue 28 ("flat past the cap"): JIN's CPU-time exponent at most 0.15 over the sizes
where the cap binds, its peak RSS growing by at most 300 MB from the smallest to the
largest of those sizes, and, below the cap, a constant CPU time per scored row
(max / min over those sizes at most 1.25, our reading of "constant").
Writes ``benchmarks/results/images.md`` (``--out``).
"""

import argparse
import json
import os
import pickle
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CACHE = ROOT / "benchmarks" / "runs" / "bench_images"
OPS = ("entropy", "jin", "report", "jin_capped")
SECTIONS = ("throughput", "scaling", "resnet")
N_INSTANCES = 64  # the batch of every query


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def folder(n_images, image_size, seed, parent=None):
    """The cached generated folder of ``n_images`` (made once, atomically).

    With ``parent`` (a larger generated folder), the folder holds hard links to
    a seeded random subset of the parent's files instead of new images (the
    same files on disk; each folder is still a plain UTKFace folder).
    """
    from skfral.datasets import make_face_folder

    path = CACHE / f"utkface_{n_images}_{image_size}px_seed{seed}"
    if parent is not None:
        path = path.with_name(f"{path.name}_from_{parent.name}")
    if path.is_dir():
        return path
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    if parent is None:
        make_face_folder(
            tmp, n_images=n_images, image_size=image_size, random_state=seed
        )
    else:
        names = sorted(p.name for p in parent.iterdir())
        chosen = np.random.RandomState(seed).choice(len(names), n_images, replace=False)
        tmp.mkdir(parents=True)
        for i in chosen:
            try:
                os.link(parent / names[i], tmp / names[i])
            except OSError:
                shutil.copyfile(parent / names[i], tmp / names[i])
    os.replace(tmp, path)
    print(
        f"made {path.name} in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return path


def pool_folder(n_images, args):
    """The pool folder of ``n_images``: hard-linked from the generated parent.

    The parent is the smallest cached generated folder holding at least the
    largest pool (generated if there is none), so that runs with other sizes
    reuse the same images.
    """
    largest = max(args.sizes)
    cached = []
    generated = re.compile(rf"^utkface_(\d+)_{args.image_size}px_seed0$")
    for path in CACHE.iterdir():
        match = generated.match(path.name)  # generated folders, not linked subsets
        if match and int(match[1]) >= largest:
            cached.append((int(match[1]), path))
    n_top = min(cached)[0] if cached else largest
    top = folder(n_top, args.image_size, seed=0)
    return top if n_images == n_top else folder(n_images, args.image_size, 2, top)


def load(path, image_size, args):
    from skfral.datasets import load_image_folder

    return load_image_folder(
        path,
        layout="utkface",
        target="gender",
        sensitive="race",
        image_size=image_size,
        n_jobs=args.decode_threads,
    )


def labelled_and_val(args):
    """Lazy labelled set (``--fit-images``) and validation set, from their own folder."""
    faces = load(folder(1536, args.image_size, seed=1), args.image_size, args)
    lab = np.arange(min(args.fit_images, 1024))
    val = np.arange(1024, 1024 + min(args.val_images, 512))
    return (
        (faces.data.subset(lab), faces.target[lab]),
        (faces.data.subset(val), faces.target[val], faces.sensitive[val]),
    )


# ---------------------------------------------------------------------------
# Pieces shared by the children
# ---------------------------------------------------------------------------


def set_threads(n):
    import torch

    torch.set_num_threads(n)
    return torch.get_num_threads()


def make_net(args, module="SmallCNN", **params):
    from skfral import nn

    settings = dict(
        classes=[0, 1],
        attack_eps=8 / 255,
        attack_step_size=2 / 255,
        attack_n_steps=10,
        attack_clip_min=0.0,
        attack_clip_max=1.0,
        lr=0.001,
        max_epochs=1,
        batch_size=128,
        predict_batch_size=args.batch_size,
        device=args.device,
        random_state=0,
    )
    settings.update(params)
    return nn.RobustNeuralNetClassifier(getattr(nn, module), **settings)


def pgd(args, n_steps=10):
    from skfral.nn import PGD

    return PGD(
        eps=8 / 255,
        step_size=2 / 255,
        n_steps=n_steps,
        clip_min=0.0,
        clip_max=1.0,
        batch_size=args.batch_size,
        random_state=0,
    )


class Learner:
    """What a strategy sees of a modAL ActiveLearner."""

    def __init__(self, estimator, X, y):
        self.estimator, self.X_training, self.y_training = estimator, X, y


class PeakRSS:
    """Peak resident set size of this process while the block runs (1 ms sampling)."""

    def __enter__(self):
        import psutil

        self._proc = psutil.Process()
        self.before = self.peak = self._proc.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


class Clock:
    """Wall and CPU seconds of the block (CPU: every thread of this process)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


ATTACKED_ROWS = []  # rows each PGD.perturb call attacked (JIN's candidates)


def counting_pgd(args):
    """A PGD that records how many rows it attacks (clones keep recording)."""
    from skfral.nn import PGD

    class CountingPGD(PGD):
        def perturb(self, net, X, y=None):
            ATTACKED_ROWS.append(int(X.shape[0]))
            return super().perturb(net, X, y)

    attack = pgd(args, n_steps=args.jin_steps)
    return CountingPGD(**attack.get_params())


PHASES = {}  # CPU seconds inside JIN's _prepare and _components


def _phase_timer(method, name):
    def timed(*a, **k):
        cpu = time.process_time()
        try:
            return method(*a, **k)
        finally:
            PHASES[name] = PHASES.get(name, 0.0) + time.process_time() - cpu

    return timed


def _validation_rows(calls, n_val):
    """Rows of the leading attack calls that make up the validation set (else 0).

    The validation set is attacked first, once, in batches of the stream.
    """
    total = 0
    for rows in calls[:-1]:
        total += rows
        if total == n_val:
            return n_val
    return 0


def net_path(args):
    return CACHE / f"net_{args.image_size}px_{args.device}.pkl"


def emit(record):
    print("RESULT " + json.dumps(record), flush=True)


# ---------------------------------------------------------------------------
# Children (one fresh process each)
# ---------------------------------------------------------------------------


def child_setup(args):
    """Fit one PGD-AT epoch (timed), save the net, time a PGD-10 pass."""
    (X_lab, y_lab), _ = labelled_and_val(args)
    net = make_net(args)
    with Clock() as fit:
        net.fit(X_lab, y_lab)
    with open(net_path(args), "wb") as fh:
        pickle.dump(net, fh)
    record = {"fit_s": fit.wall, "fit_cpu_s": fit.cpu, "n_fit": len(y_lab)}
    if "throughput" not in args.sections:  # the net is all the queries need
        return emit(record)
    pool = load(pool_folder(args.sizes[0], args), args.image_size, args)
    n = min(args.pgd_images, len(pool.target))
    X, y = pool.data.subset(np.arange(n)), pool.target[:n]
    attack = pgd(args)
    with Clock() as pgd_clock:
        X_adv = attack.perturb(net, X, y)
    emit(
        {
            **record,
            "pgd_s": pgd_clock.wall,
            "pgd_cpu_s": pgd_clock.cpu,
            "n_pgd": n,
            "robust_acc": float((net.predict(X_adv) == y).mean()),
            "clean_acc": float((net.predict(X) == y).mean()),
        }
    )


def child_op(args):
    """One query or report over a pool of ``args.pool`` images: time and peak RSS."""
    from skfral.metrics import fairness_report
    from skfral.query import EntropySampling, JINQueryStrategy

    (X_lab, y_lab), (X_val, y_val, s_val) = labelled_and_val(args)
    with open(net_path(args), "rb") as fh:
        net = pickle.load(fh)
    pool = load(pool_folder(args.pool, args), args.image_size, args)
    X, y, s = pool.data, pool.target, pool.sensitive
    learner = Learner(net, X_lab, y_lab)
    if args.op == "entropy":
        strategy = EntropySampling(random_state=0)

        def run():
            return strategy(learner, X, n_instances=N_INSTANCES, sensitive_features=s)

    elif args.op in ("jin", "jin_capped"):
        strategy = JINQueryStrategy(
            X_val=X_val,
            y_val=y_val,
            sensitive_features_val=s_val,
            attack=counting_pgd(args),
            max_candidates=args.max_candidates
            if args.op == "jin"
            else args.capped_candidates,
            random_state=0,
        )
        for method in ("_prepare", "_components"):  # CPU s of the two phases
            setattr(strategy, method, _phase_timer(getattr(strategy, method), method))

        def run():
            return strategy(learner, X, n_instances=N_INSTANCES, sensitive_features=s)

    else:

        def run():
            return fairness_report(
                net,
                X,
                y,
                sensitive_features=s,
                attack=pgd(args, n_steps=args.report_steps)
                if args.report_steps
                else None,
                batch_size=args.batch_size,
            )

    import gc

    gc.collect()
    with PeakRSS() as rss, Clock() as clock:
        run()
    extra = {}
    if args.op in ("jin", "jin_capped"):
        # the first attack is the validation set's (the group ranking); the
        # rest are the scored candidates
        calls = list(ATTACKED_ROWS)
        val_rows = _validation_rows(calls, len(y_val))
        extra = {
            "attack_calls": calls,
            "val_rows": val_rows,
            "scored_rows": sum(calls) - val_rows,
            "allocation": getattr(strategy, "group_allocation_", None),
            "targeting_auc": getattr(strategy, "targeting_auc_", None),
            # fixed part (validation ranking, gate, standard model) and the
            # candidates' scoring (predictions and attack of the scored rows)
            "prepare_cpu_s": PHASES.get("_prepare"),
            "scoring_cpu_s": PHASES.get("_components"),
        }
    emit(
        {
            "op": args.op,
            "pool": len(y),
            "seconds": clock.wall,
            "cpu_seconds": clock.cpu,
            "attacked_rows": sum(ATTACKED_ROWS),
            **extra,
            "rss_before_mb": rss.before / 2**20,
            "rss_peak_mb": rss.peak / 2**20,
            "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
        }
    )


def child_resnet(args):
    """PGD-10 on ResNet-18: skfral's PGD and torchattacks' PGD, interleaved."""
    import torch
    import torchattacks

    faces = load(folder(1536, args.image_size, seed=1), 32, args)
    n = args.resnet_images
    X = np.asarray(faces.data[:n])  # the same in-memory inputs for both
    y = faces.target[:n]
    net = make_net(args, module="ResNet18", adversarial=None, max_epochs=1)
    net.fit(X, y)
    ours = pgd(args)
    ours.set_params(batch_size=args.resnet_batch)
    peer = torchattacks.PGD(
        net.module_, eps=8 / 255, alpha=2 / 255, steps=10, random_start=True
    )
    device = torch.device(args.device)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    b = args.resnet_batch

    def run_ours():
        return ours.perturb(net, X, y)

    def run_theirs():  # numpy in, numpy out, batch by batch: the same work
        out = [
            peer(X_t[i : i + b].to(device), y_t[i : i + b].to(device)).cpu()
            for i in range(0, n, b)
        ]
        return torch.cat(out).numpy()

    def timed(fn):
        if args.device == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        if args.device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - wall, time.process_time() - cpu

    run_ours(), run_theirs()  # warm-up
    ours_t, theirs_t = [], []
    for r in range(args.repeats):  # alternate which goes first
        if r % 2 == 0:
            a, c = timed(run_ours), timed(run_theirs)
        else:
            c, a = timed(run_theirs), timed(run_ours)
        ours_t.append(a)
        theirs_t.append(c)
    k = 0 if args.device == "cuda" else 1  # wall time on a GPU, CPU time on a CPU
    ratios = [a[k] / c[k] for a, c in zip(ours_t, theirs_t)]
    emit(
        {
            "n": n,
            "batch": b,
            "ours_images_per_s": n / statistics.median(t[k] for t in ours_t),
            "theirs_images_per_s": n / statistics.median(t[k] for t in theirs_t),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "wall_ratio": statistics.median(
                a[0] / c[0] for a, c in zip(ours_t, theirs_t)
            ),
            "clock": "wall" if k == 0 else "CPU",
        }
    )


# ---------------------------------------------------------------------------
# Parent
# ---------------------------------------------------------------------------


def run_child(args, *extra):
    cmd = [sys.executable, "-m", "benchmarks.bench_images", *extra, *args.passthrough]
    t0 = time.perf_counter()
    root = str(Path(__file__).resolve().parents[1])  # `benchmarks` importable there
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise RuntimeError(f"child {extra} failed with exit code {out.returncode}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    record = json.loads(lines[-1][len("RESULT ") :])
    print(
        f"{' '.join(extra)}: {time.perf_counter() - t0:.0f} s {record}", file=sys.stderr
    )
    return record


def ops_run(args):
    """The operations of the scaling section, in ``OPS`` order."""
    if "scaling" not in args.sections:
        return ()
    return tuple(
        op
        for op in OPS
        if op in args.ops and (op != "jin_capped" or args.capped_candidates)
    )


def exponent(sizes, seconds):
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def _row(label, n, wall, cpu):
    return (
        f"| {label} | {n} | {wall:.1f} | {cpu:.1f} | {n / wall:.0f} | {n / cpu:.0f} |"
    )


def _met(ok):
    return "yes" if ok else "**no**"


def _candidate_cap(args, op):
    """The candidates a JIN query scores at most (``max_candidates``, at least the batch)."""
    cap = args.max_candidates if op == "jin" else args.capped_candidates
    return max(int(cap), N_INSTANCES)


def _scored(rec, args):
    """Rows a JIN query scored (attacked beyond the validation set)."""
    if "attack_calls" in rec:
        calls = rec["attack_calls"]
        return sum(calls) - _validation_rows(calls, args.val_images)
    return rec["attacked_rows"] - args.val_images  # records before issue 28


def _ms(seconds, rows):
    return "n/a" if seconds is None or not rows else f"{1000 * seconds / rows:.1f}"


def jin_scaling(args, ops, sizes, op="jin"):
    """Per-size table, the fits past / below the cap and the issue-28 targets."""
    cap = _candidate_cap(args, op)
    recs = {n: ops[(op, n)] for n in sizes}
    scored = {n: _scored(recs[n], args) for n in sizes}
    past = [n for n in sizes if scored[n] >= cap]
    below = [n for n in sizes if scored[n] < cap]
    lines = [
        "| pool | allocation used | rows attacked (validation + scored) | scored "
        "rows | cap binds | wall s | CPU s | CPU ms per scored row | wall ms per "
        "scored row | CPU s fixed part | CPU s scoring | scoring CPU ms per row | "
        "peak RSS (MB) | RSS before (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        rec = recs[n]
        fixed, scoring = rec.get("prepare_cpu_s"), rec.get("scoring_cpu_s")
        lines.append(
            f"| {n} | {rec.get('allocation') or 'not recorded'} | "
            f"{rec['attacked_rows']} ({rec['attacked_rows'] - scored[n]} + "
            f"{scored[n]}) | {scored[n]} | {'yes' if n in past else 'no'} | "
            f"{rec['seconds']:.1f} | {rec['cpu_seconds']:.1f} | "
            f"{_ms(rec['cpu_seconds'], scored[n])} | {_ms(rec['seconds'], scored[n])} | "
            + ("n/a" if fixed is None else f"{fixed:.1f}")
            + " | "
            + ("n/a" if scoring is None else f"{scoring:.1f}")
            + f" | {_ms(scoring, scored[n])} | "
            f"{rec['rss_peak_mb']:.0f} | {rec['rss_before_mb']:.0f} |"
        )
    lines += [
        "",
        "CPU s fixed part: JIN's `_prepare` (the validation set predicted and "
        "attacked to rank the groups, the 'auto' gate's predictability fits, the "
        "standard model's fit on the labelled set), the same work at every pool "
        "size; CPU s scoring: `_components` (predictions and attack of the scored "
        "rows); n/a for measurements made before they were recorded.",
        "",
    ]
    fit_past = None
    if len(past) >= 2:
        fit_past = (
            exponent(past, [recs[n]["cpu_seconds"] for n in past]),
            exponent(past, [recs[n]["seconds"] for n in past]),
        )
        lines.append(
            f"Past the cap ({', '.join(map(str, past))}: {cap} scored rows each), "
            f"fitted exponent of ``seconds ~ c * pool ** a``: CPU {fit_past[0]:.3f}, "
            f"wall {fit_past[1]:.3f}."
        )
    else:
        lines.append(
            f"Past the cap: {len(past)} size(s) where the {cap} candidates are all "
            "scored; no exponent (at least two are needed)."
        )
    per_row = {n: recs[n]["cpu_seconds"] / scored[n] for n in below if scored[n]}
    per_scoring = {
        n: recs[n]["scoring_cpu_s"] / scored[n]
        for n in per_row
        if recs[n].get("scoring_cpu_s") is not None
    }
    spread = spread_scoring = None
    if len(per_row) >= 2:
        spread = max(per_row.values()) / min(per_row.values())
        fit_below = exponent(below, [recs[n]["cpu_seconds"] for n in below])
        lines.append(
            f"Below the cap ({', '.join(map(str, below))}): whole-query CPU time per "
            f"scored row max / min {spread:.2f}; fitted CPU exponent against the pool "
            f"{fit_below:.3f} (it follows the scored rows by design)."
        )
        if len(per_scoring) >= 2:
            spread_scoring = max(per_scoring.values()) / min(per_scoring.values())
            lines.append(
                f"Scoring phase alone, CPU time per scored row max / min "
                f"{spread_scoring:.2f}."
            )
    else:
        lines.append(
            f"Below the cap: {len(per_row)} size(s) with fewer than {cap} scored rows; "
            "no ratio (at least two are needed)."
        )
    targets = []
    if fit_past is not None:
        rss_growth = recs[past[-1]]["rss_peak_mb"] - recs[past[0]]["rss_peak_mb"]
        targets += [
            f"| JIN time exponent <= 0.15 past the cap ({past[0]}-{past[-1]}, "
            f"max_candidates={cap}), CPU time (wall) | {fit_past[0]:.3f} "
            f"({fit_past[1]:.3f}) | {_met(fit_past[0] <= 0.15)} |",
            f"| JIN peak RSS growth <= 300 MB from {past[0]} to {past[-1]} (past the "
            f"cap) | {rss_growth:+.0f} MB | {_met(rss_growth <= 300)} |",
        ]
    if spread is not None:
        targets.append(
            "| JIN below the cap: CPU s per scored row constant, whole query "
            "(max / min <= 1.25) | "
            + ", ".join(f"{1000 * v:.1f} ms at {n}" for n, v in per_row.items())
            + f"; ratio {spread:.2f} | {_met(spread <= 1.25)} |"
        )
    if spread_scoring is not None:
        targets.append(
            "| JIN below the cap: CPU s per scored row constant, scoring phase "
            "(max / min <= 1.25) | "
            + ", ".join(f"{1000 * v:.1f} ms at {n}" for n, v in per_scoring.items())
            + f"; ratio {spread_scoring:.2f} | {_met(spread_scoring <= 1.25)} |"
        )
    return lines, targets


def to_markdown(args, setup, ops, resnet, command, threads, resumed=None):
    from benchmarks._common import machine_line

    sizes = list(args.sizes)
    run_ops = [op for op in OPS if (op, sizes[0]) in ops]
    sections = [s for s in SECTIONS if s in args.sections]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    lines = [
        f"Command: `{command}` (commit {commit or 'unknown'})"
        + (f"; it reused the finished measurements of `{resumed}`" if resumed else ""),
        "",
        machine_line() + f"; torch threads {threads}; device {args.device}; "
        f"decode threads {args.decode_threads or 'default (min(8, cores))'}; "
        f"load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        f"Sections run: {', '.join(sections)}"
        + (f"; operations: {', '.join(run_ops)}" if run_ops else "")
        + f" (not run: {', '.join(s for s in SECTIONS if s not in sections) or 'none'}"
        + (
            f"; operations not run: {', '.join(o for o in OPS if o not in run_ops)}"
            if "scaling" in sections and len(run_ops) < len(OPS)
            else ""
        )
        + "). Targets are listed only for what was measured.",
        "",
        f"Generated UTKFace-layout folders of {args.image_size}x{args.image_size} "
        "images (the largest generated, the smaller pools hard-linked random subsets "
        "of it), target gender, groups race, read lazily; labelled set "
        f"{setup['n_fit']} and validation set {args.val_images} from their own folder; "
        "prediction "
        f"and attack batches of {args.batch_size} at every pool size; each query or "
        "report in a fresh process; batches of "
        f"{N_INSTANCES} queried. CPU seconds count every thread of the process "
        "(torch and the decoding threads); on a shared machine they are the steadier "
        "measure of the work, wall seconds include waiting for the CPU.",
    ]
    if "throughput" in sections:
        lines += [
            "",
            "### Throughput (SmallCNN)",
            "",
            "| what | images | wall s | CPU s | images/s (wall) | images/s (CPU) |",
            "|---|---|---|---|---|---|",
            _row(
                "one PGD-AT fit epoch (PGD-10, batches of 128)",
                setup["n_fit"],
                setup["fit_s"],
                setup["fit_cpu_s"],
            ),
            _row(
                "PGD-10 pass (lazy pool images)",
                setup["n_pgd"],
                setup["pgd_s"],
                setup["pgd_cpu_s"],
            ),
        ]
    labels = {
        "entropy": "entropy query, whole pool",
        "jin": f"JIN query (PGD-{args.jin_steps}), max_candidates={args.max_candidates}",
        "report": "fairness_report, whole pool ("
        + (f"clean + PGD-{args.report_steps})" if args.report_steps else "clean half)"),
        "jin_capped": f"JIN query (PGD-{args.jin_steps}), "
        f"max_candidates={args.capped_candidates}",
    }
    if run_ops:
        lines += [
            "",
            "### Time per pool size (SmallCNN, fresh process each)",
            "",
            "| what | pool | wall s | CPU s | pool/s (wall) | pool/s (CPU) |",
            "|---|---|---|---|---|---|",
        ]
        for op in run_ops:
            for n in sizes:
                rec = ops[(op, n)]
                lines.append(_row(labels[op], n, rec["seconds"], rec["cpu_seconds"]))
    targets = []
    for op in ("jin", "jin_capped"):
        if op not in run_ops:
            continue
        cap = _candidate_cap(args, op)
        body, more = jin_scaling(args, ops, sizes, op)
        lines += [
            "",
            f"### JIN query against pool size, max_candidates={cap}",
            "",
            f"Rows the attack perturbed (PGD-{args.jin_steps}): the validation set, "
            "attacked once to rank the groups, plus the scored candidates (at most "
            f"max_candidates={cap}: inside the allocated groups with a hard "
            "allocation, over every group with 'soft'). JINQueryStrategy with its "
            "defaults otherwise (group_allocation='auto'); 'allocation used' is "
            "its group_allocation_ after the query.",
            "",
            *body,
        ]
        targets += more
    ratios, fits = {}, {}
    if run_ops:
        lines += [
            "",
            "### Peak memory against pool size (SmallCNN, fresh process each)",
            "",
            "| operation | "
            + " | ".join(f"peak RSS at {n} (MB)" for n in sizes)
            + f" | ratio {sizes[-1]} / {sizes[0]} | RSS before, at {sizes[-1]} (MB) |",
            "|---|" + "---|" * (len(sizes) + 2),
        ]
        for op in run_ops:
            peaks = [ops[(op, n)]["rss_peak_mb"] for n in sizes]
            ratios[op] = peaks[-1] / peaks[0]
            lines.append(
                f"| {op} | "
                + " | ".join(f"{p:.0f}" for p in peaks)
                + f" | {ratios[op]:.2f} | {ops[(op, sizes[-1])]['rss_before_mb']:.0f} |"
            )
        if len(sizes) >= 2:
            fits = {
                op: (
                    exponent(sizes, [ops[(op, n)]["seconds"] for n in sizes]),
                    exponent(sizes, [ops[(op, n)]["cpu_seconds"] for n in sizes]),
                )
                for op in run_ops
            }
            lines += [
                "",
                "Fitted exponent ``a`` of ``seconds ~ c * pool ** a`` over all sizes "
                "(wall / CPU): "
                + "; ".join(f"{op} {w:.2f} / {c:.2f}" for op, (w, c) in fits.items())
                + ".",
            ]
    if "resnet" in sections:
        lines += [
            "",
            "### ResNet-18 PGD-10: skfral against torchattacks",
            "",
            f"{resnet['n']} images of 3x32x32 from the same folder, batches of "
            f"{resnet['batch']}, eps 8/255, step 2/255, random start; median of "
            f"{args.repeats} interleaved repeats ({resnet['clock']} time).",
            "",
            "| skfral PGD (images/s) | torchattacks PGD (images/s) | ratio skfral / "
            "torchattacks time (min-max) | ratio, wall |",
            "|---|---|---|---|",
            f"| {resnet['ours_images_per_s']:.2f} | "
            f"{resnet['theirs_images_per_s']:.2f} | {resnet['ratio']:.3f} "
            f"({resnet['ratio_min']:.3f}-{resnet['ratio_max']:.3f}) | "
            f"{resnet['wall_ratio']:.3f} |",
        ]
    rows = []
    if ratios and len(sizes) >= 2:
        max_peak = max(ops[(op, n)]["rss_peak_mb"] for op in run_ops for n in sizes)
        worst = max(ratios.values())
        rows += [
            f"| peak RSS at {sizes[-1]} <= 1.25x at {sizes[0]} ({', '.join(run_ops)}) | "
            + ", ".join(f"{op} {ratios[op]:.2f}x" for op in run_ops)
            + f" | {_met(worst <= 1.25)} |",
            f"| peak RSS < 2 GB with SmallCNN | largest {max_peak:.0f} MB | "
            f"{_met(max_peak < 2048)} |",
        ]
    if "jin" in fits:
        a_jin = fits["jin"][1]
        rows.append(
            f"| JIN query time exponent <= 0.15 over all sizes (max_candidates="
            f"{args.max_candidates}, CPU time) | {a_jin:.3f} | {_met(a_jin <= 0.15)} |"
        )
    rows += targets
    if "jin_capped" in fits:
        a_cap = fits["jin_capped"][1]
        rows.append(
            f"| (reference) JIN query time exponent over all sizes, max_candidates="
            f"{args.capped_candidates}, CPU time | {a_cap:.2f} | {_met(a_cap <= 0.15)} |"
        )
    if "resnet" in sections:
        rows.append(
            f"| ResNet-18 PGD-10 within 10% of torchattacks | time ratio "
            f"{resnet['ratio']:.3f} | {_met(resnet['ratio'] <= 1.10)} |"
        )
    if rows:
        lines += [
            "",
            "### Targets",
            "",
            "| target | measured | met |",
            "|---|---|---|",
            *rows,
        ]
    if args.device == "cpu":
        lines += ["", "The `--device cuda` mode has not run on a GPU."]
    return "\n".join(lines)


def _choices(value, allowed, flag):
    chosen = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{flag} {value!r}: expected a comma-separated subset of "
            f"{','.join(allowed)}"
        )
    return chosen


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda v: tuple(int(x) for x in v.split(",")),
        default=(5000, 20000, 40000),
        help="pool sizes (default 5000,20000,40000)",
    )
    parser.add_argument(
        "--sections",
        type=lambda v: _choices(v, SECTIONS, "--sections"),
        default=SECTIONS,
        help="comma-separated parts to run: throughput (fit epoch and PGD pass), "
        "scaling (the operations per pool size), resnet (ResNet-18 PGD against "
        "torchattacks); default all",
    )
    parser.add_argument(
        "--ops",
        type=lambda v: _choices(v, OPS, "--ops"),
        default=OPS,
        help="comma-separated operations of the scaling section: entropy, jin, "
        "report, jin_capped (jin_capped only with --capped-candidates > 0); "
        "default all",
    )
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--decode-threads", type=int, default=None, help="LazyImageArray n_jobs"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-candidates", type=int, default=4096)
    parser.add_argument(
        "--capped-candidates",
        type=int,
        default=512,
        help="max_candidates of the second JIN query, small enough to bind at "
        "every pool size (0: not run)",
    )
    parser.add_argument(
        "--report-steps", type=int, default=1, help="0: the clean half only"
    )
    parser.add_argument("--fit-images", type=int, default=1024)
    parser.add_argument("--val-images", type=int, default=512)
    parser.add_argument("--jin-steps", type=int, default=10, help="JIN's PGD steps")
    parser.add_argument("--pgd-images", type=int, default=2048)
    parser.add_argument("--resnet-images", type=int, default=64)
    parser.add_argument("--resnet-batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "images.md"
    )
    parser.add_argument(
        "--render", type=Path, help="write --out from a run's saved records (JSON)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the measurements of an interrupted run with the same settings",
    )
    parser.add_argument(
        "--child", choices=("setup", "op", "resnet"), help=argparse.SUPPRESS
    )
    parser.add_argument("--op", choices=OPS, help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.passthrough = [
        f"--sizes={','.join(map(str, args.sizes))}",
        f"--sections={','.join(args.sections)}",
        f"--ops={','.join(args.ops)}",
        f"--image-size={args.image_size}",
        f"--device={args.device}",
        f"--threads={args.threads}",
        f"--batch-size={args.batch_size}",
        f"--max-candidates={args.max_candidates}",
        f"--capped-candidates={args.capped_candidates}",
        f"--report-steps={args.report_steps}",
        f"--fit-images={args.fit_images}",
        f"--val-images={args.val_images}",
        f"--jin-steps={args.jin_steps}",
        f"--pgd-images={args.pgd_images}",
        f"--resnet-images={args.resnet_images}",
        f"--resnet-batch={args.resnet_batch}",
        f"--repeats={args.repeats}",
    ]
    if args.decode_threads is not None:
        args.passthrough.append(f"--decode-threads={args.decode_threads}")
    return args


def main(argv=None):
    args = parse(argv)
    threads = set_threads(args.threads)
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.child == "setup":
        return child_setup(args)
    if args.child == "op":
        return child_op(args)
    if args.child == "resnet":
        return child_resnet(args)
    if args.render is not None:  # re-render a finished run's records
        return render(args, json.loads(args.render.read_text()))

    command = "python -m benchmarks.bench_images " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    folder(1536, args.image_size, seed=1)  # generate (or find) every folder first
    for n in args.sizes:
        pool_folder(n, args)
    records = CACHE / f"records_{args.out.stem}.json"
    old = json.loads(records.read_text()) if args.resume and records.exists() else {}
    # what a measurement depends on (not the sizes, sections or ops run)
    settings = [
        a
        for a in args.passthrough
        if not a.startswith(("--sizes", "--sections", "--ops"))
    ]
    if old and old.get("settings", settings) != settings:
        raise SystemExit(
            f"--resume: {records} was measured with other settings "
            f"({old.get('settings')}); run without --resume or with the same settings"
        )
    done = {(op, n): rec for op, n, rec in old.get("ops", [])}
    saved = {
        "command": command.strip(),
        "threads": threads,
        "settings": settings,
        "sections": list(args.sections),
        "ops": [],
    }
    if old:
        saved["resumed_from"] = old.get("command")

    def save():
        records.write_text(json.dumps(saved, indent=1))

    setup = old.get("setup")
    if not setup or ("throughput" in args.sections and "pgd_s" not in setup):
        setup = run_child(args, "--child=setup")
    saved["setup"] = setup
    save()
    for n in args.sizes:
        for op in ops_run(args):
            rec = done.get((op, n)) or run_child(
                args, "--child=op", f"--op={op}", f"--pool={n}"
            )
            saved["ops"].append([op, n, rec])
            save()
    if "resnet" in args.sections:
        saved["resnet"] = old.get("resnet") or run_child(args, "--child=resnet")
        save()
    render(args, saved)


def render(args, saved):
    """Write the Markdown file from the saved child records."""
    ops = {(op, n): rec for op, n, rec in saved["ops"]}
    if "sections" in saved:  # records before issue 28 ran every section
        args.sections = tuple(saved["sections"])
    body = to_markdown(
        args,
        saved["setup"],
        ops,
        saved.get("resnet"),
        saved["command"],
        saved["threads"],
        saved.get("resumed_from"),
    )
    from benchmarks._common import write_result_file

    title = "Images at scale: throughput, memory, ResNet-18 PGD"
    if tuple(args.sections) != SECTIONS or "scaling" not in args.sections:
        ops_done = sorted({op for op, _ in ops}, key=OPS.index)
        title = f"Images at scale, sections {', '.join(args.sections)}" + (
            f" ({', '.join(ops_done)} against pool size)" if ops_done else ""
        )
    path = write_result_file(args.out.name, body, title=title)
    if args.out.resolve() != path.resolve():
        shutil.move(path, args.out)
    print(body)


if __name__ == "__main__":
    main()
