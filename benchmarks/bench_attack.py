"""Cost of skfral's PGD attack and of adversarial training (run by hand).

1. Our ``PGD.perturb`` against torchattacks' ``PGD`` on the same trained model,
   data, eps, alpha, steps and batch size, as a time ratio (ours / theirs;
   target <= 1.0). The two are timed in the same run, interleaved in ABBA
   order, ``--repeats`` times; the table gives the median ratio.
2. The epoch cost of PGD-AT and TRADES relative to standard training (median
   per-epoch duration from skorch's history).
3. APGD against PGD-20 on a 10-class task and a PGD-AT-trained model: the cost
   of APGD-CE and APGD-T (targeted DLR) relative to PGD-20 (CPU time, same
   run) and the robust accuracy each leaves, with torchattacks' APGD / APGDT
   on the same model and steps as the peer figure.

Two models: an MLP on 20-d data in [0, 1] and a SmallCNN on 1x8x8 images.

    python -m benchmarks.bench_attack           # prints a Markdown table
    python -m benchmarks.bench_attack --write   # also benchmarks/results/attack_cost.md
    python -m benchmarks.bench_attack --only-apgd --write   # results/attack_apgd.md
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from benchmarks._common import machine_line, write_result_file
from skfral.nn import (
    APGD,
    MLP,
    PGD,
    RobustNeuralNetClassifier,
    SmallCNN,
)

HEADING = "## Attack and adversarial-training cost"


def make_data(kind, n_samples, seed=0):
    rng = np.random.RandomState(seed)
    if kind == "mlp":
        X = rng.rand(n_samples, 20).astype(np.float32)
        y = (X[:, :10].sum(axis=1) > X[:, 10:].sum(axis=1)).astype(np.int64)
    else:
        X = rng.rand(n_samples, 1, 8, 8).astype(np.float32)
        y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(
            np.int64
        )
    return X, y


def make_multiclass_data(kind, n_samples, n_classes=10, seed=0):
    """Inputs in [0, 1] (MLP: 1x4x5, flattened by the module; CNN: 1x8x8),
    labels from the argmax of random linear scores plus noise."""
    rng = np.random.RandomState(seed)
    shape = (1, 4, 5) if kind == "mlp" else (1, 8, 8)
    X = rng.rand(n_samples, *shape).astype(np.float32)
    flat = X.reshape(n_samples, -1) - 0.5
    scores = flat @ rng.randn(flat.shape[1], n_classes)
    y = np.argmax(scores + 0.3 * rng.randn(n_samples, n_classes), axis=1)
    return X, y.astype(np.int64)


def make_net(kind, adversarial=None, max_epochs=2, n_steps=10, n_classes=2):
    if kind == "mlp":
        module, params = MLP, {"module__n_features": 20}
    else:
        module, params = SmallCNN, {"module__width": 16, "module__embedding_size": 64}
    params["module__n_classes"] = n_classes
    return RobustNeuralNetClassifier(
        module,
        adversarial=adversarial,
        attack_eps=8 / 255,
        attack_step_size=2 / 255,
        attack_n_steps=n_steps,
        attack_clip_min=0.0,
        attack_clip_max=1.0,
        max_epochs=max_epochs,
        batch_size=128,
        random_state=0,
        **params,
    )


def time_once(fn):
    """(wall, CPU) seconds of one call. With one torch thread the CPU time is
    the work done, whatever else runs on a shared machine; the wall time is not."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_attack(kind, args):
    import torchattacks

    X, y = make_data(kind, args.n_samples)
    net = make_net(kind, max_epochs=2).fit(X, y)
    eps, alpha = 8 / 255, 2 / 255
    ours = PGD(
        eps=eps,
        step_size=alpha,
        n_steps=args.steps,
        clip_min=0.0,
        clip_max=1.0,
        batch_size=args.batch_size,
        random_state=0,
    )
    peer = torchattacks.PGD(
        net.module_, eps=eps, alpha=alpha, steps=args.steps, random_start=True
    )
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)

    def run_ours():
        return ours.perturb(net, X, y)

    def run_theirs():
        # numpy in, numpy out, batch by batch: the same work as ours
        out = [
            peer(X_t[i : i + args.batch_size], y_t[i : i + args.batch_size])
            for i in range(0, len(X), args.batch_size)
        ]
        return torch.cat(out).numpy()

    run_ours(), run_theirs()  # warm-up
    ratios, wall_ratios, t_ours, t_theirs = [], [], [], []
    for r in range(args.repeats):
        if r % 2 == 0:
            a, b = time_once(run_ours), time_once(run_theirs)
        else:
            b, a = time_once(run_theirs), time_once(run_ours)
        t_ours.append(a[1])
        t_theirs.append(b[1])
        ratios.append(a[1] / b[1])
        wall_ratios.append(a[0] / b[0])
    acc = lambda Z: float((net.predict(Z) == y).mean())  # noqa: E731
    return {
        "model": "MLP 20-d" if kind == "mlp" else "SmallCNN 1x8x8",
        "ours_ms": 1e3 * statistics.median(t_ours),
        "theirs_ms": 1e3 * statistics.median(t_theirs),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "wall_ratio": statistics.median(wall_ratios),
        "robust_ours": acc(run_ours()),
        "robust_theirs": acc(run_theirs()),
        "clean": acc(X),
    }


def bench_apgd(kind, args):
    """Cost (CPU, one thread) and robust accuracy of PGD-20, APGD-CE and APGD-T."""
    import torchattacks

    X, y = make_multiclass_data(kind, 2 * args.n_samples)
    X_fit, y_fit, X, y = X[::2], y[::2], X[1::2], y[1::2]
    net = make_net(kind, adversarial="pgd", max_epochs=args.apgd_epochs, n_classes=10)
    # Adam: 0.05 for the MLP; the CNN does not learn above about 0.01
    net.set_params(lr=0.05 if kind == "mlp" else 0.01).fit(X_fit, y_fit)
    eps = 8 / 255
    box = {"clip_min": 0.0, "clip_max": 1.0, "batch_size": args.batch_size}
    steps = args.apgd_steps
    attacks = {
        "PGD-20 (step eps/4)": PGD(eps=eps, n_steps=20, random_state=0, **box),
        f"APGD-CE, {steps} steps": APGD(eps=eps, n_steps=steps, random_state=0, **box),
        f"APGD-T (DLR, 9 targets), {steps} steps": APGD(
            loss="dlr", eps=eps, n_steps=steps, random_state=0, **box
        ),
    }
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    module = net.module_.eval()
    peers = {
        f"APGD-CE, {steps} steps": torchattacks.APGD(
            module, eps=eps, steps=steps, loss="ce", seed=0
        ),
        f"APGD-T (DLR, 9 targets), {steps} steps": torchattacks.APGDT(
            module, eps=eps, steps=steps, n_classes=10, seed=0
        ),
    }
    acc = lambda Z: float((net.predict(Z) == y).mean())  # noqa: E731
    rows = []
    for name, attack in attacks.items():
        attack.perturb(net, X[:8], y[:8])  # warm-up
        times = []
        for _ in range(args.apgd_repeats):
            times.append(time_once(lambda a=attack: a.perturb(net, X, y))[1])
        row = {
            "model": "MLP 20-d" if kind == "mlp" else "SmallCNN 1x8x8",
            "attack": name,
            "cpu_ms": 1e3 * statistics.median(times),
            "robust": acc(attack.perturb(net, X, y)),
            "peer": None,
        }
        if name in peers:
            with torch.random.fork_rng(devices=[]):
                row["peer"] = acc(peers[name](X_t, y_t).detach().numpy())
        rows.append(row)
    base = rows[0]["cpu_ms"]
    for row in rows:
        row["cost"] = row["cpu_ms"] / base
        row["clean"] = acc(X)
    return rows


class EpochCPUTime(Callback):
    """CPU seconds of each epoch (skorch's own ``dur`` is wall time)."""

    def on_train_begin(self, net, **kwargs):
        self.times = []

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        self.times.append(time.process_time() - self._start)


def bench_training(kind, args):
    X, y = make_data(kind, args.n_samples)
    out = {"model": "MLP 20-d" if kind == "mlp" else "SmallCNN 1x8x8"}
    for mode in (None, "pgd", "trades"):
        clock = EpochCPUTime()
        net = make_net(
            kind, adversarial=mode, max_epochs=args.epochs, n_steps=args.steps
        )
        net.set_params(callbacks=[("cpu_time", clock)])
        net.fit(X, y)
        out[mode] = statistics.median(clock.times)
    return out


def threads_line():
    return (
        f"{platform.platform()}; {platform.processor() or platform.machine()}; "
        f"{os.cpu_count()} cores visible; torch threads {torch.get_num_threads()}"
    )


def apgd_markdown(rows, args):
    lines = [
        f"### APGD against PGD-20 ({args.n_samples} test samples, 10 classes, "
        f"PGD-AT model ({args.apgd_epochs} epochs), L-inf eps=8/255, inputs in [0, 1], "
        f"batch {args.batch_size}, median CPU time of {args.apgd_repeats} runs)",
        "",
        "| model | attack | CPU ms | cost / PGD-20 | robust acc. skfral "
        "| robust acc. torchattacks (same steps) | clean acc. |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        peer = "" if r["peer"] is None else f"{r['peer']:.3f}"
        lines.append(
            f"| {r['model']} | {r['attack']} | {r['cpu_ms']:.1f} | {r['cost']:.1f}x | "
            f"{r['robust']:.3f} | {peer} | {r['clean']:.3f} |"
        )
    lines += [
        "",
        "APGD-T runs once per target class (9 here) on the samples not fooled yet, so "
        "its cost is up to 9x APGD-CE's; samples fooled early stop costing. Lower "
        "robust accuracy means a stronger attack.",
        "",
    ]
    return "\n".join(lines)


def to_markdown(attack_rows, train_rows, args):
    lines = [
        f"Command (repository root): `{args.command}`",
        "",
        f"{machine_line()} ({threads_line()})",
        "",
        f"### PGD: skfral vs torchattacks ({args.n_samples} samples, L-inf eps=8/255, "
        f"alpha=2/255, {args.steps} steps, random start, batch {args.batch_size}, "
        f"median of {args.repeats} interleaved repeats)",
        "",
        "| model | skfral (CPU ms) | torchattacks (CPU ms) "
        "| ratio skfral/torchattacks, CPU (min-max) | ratio, wall "
        "| robust acc. skfral | robust acc. torchattacks | clean acc. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in attack_rows:
        lo, hi = r["ratio_range"]
        lines.append(
            f"| {r['model']} | {r['ours_ms']:.1f} | {r['theirs_ms']:.1f} | "
            f"**{r['ratio']:.2f}** ({lo:.2f}-{hi:.2f}) | {r['wall_ratio']:.2f} | "
            f"{r['robust_ours']:.3f} | "
            f"{r['robust_theirs']:.3f} | {r['clean']:.3f} |"
        )
    lines += [
        "",
        f"### Epoch cost of adversarial training ({args.n_samples} samples, batch 128, "
        f"{args.steps}-step attack, median epoch of {args.epochs})",
        "",
        "| model | standard (CPU s/epoch) | PGD-AT (CPU s/epoch) "
        "| TRADES (CPU s/epoch) "
        "| PGD-AT / standard | TRADES / standard |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in train_rows:
        lines.append(
            f"| {r['model']} | {r[None]:.3f} | {r['pgd']:.3f} | {r['trades']:.3f} | "
            f"{r['pgd'] / r[None]:.1f}x | {r['trades'] / r[None]:.1f}x |"
        )
    lines += [
        "",
        f"An attack of {args.steps} steps costs about {args.steps} forward+backward "
        f"passes per sample, so PGD-AT and TRADES cost roughly {args.steps + 1}x a "
        "standard epoch "
        "(TRADES adds one clean forward); on tiny models skorch's per-batch overhead "
        "makes the standard epoch relatively dearer and the ratio smaller. Times are "
        "CPU times of this process with one torch thread (the machine is shared, so "
        "wall times swing by 2x between calls); the interleaved ratio is the stable "
        "figure.",
        "",
        "History: measured the same way before the optimisation of 2026-11-24, the "
        "MLP ratio was 1.09 (skfral 4.1 ms, torchattacks 3.75 ms). It came down to "
        "parity by entering grad mode once per attack instead of once per step, "
        "one clamp with precomputed per-element bounds per L-inf step (instead of "
        "projection, two broadcast min/max and three more ops), calling the module "
        "and criterion directly when the net's infer/get_loss are skorch's own, "
        "and cheaper per-call validation (a cached seed draw, a label fast path). "
        "On the CNN the attack is compute-bound and both sit at parity.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=512)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: small models, shared machine)",
    )
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--apgd-steps", type=int, default=100)
    parser.add_argument("--apgd-epochs", type=int, default=20)
    parser.add_argument("--apgd-repeats", type=int, default=1)
    parser.add_argument(
        "--only-apgd", action="store_true", help="run the APGD section only"
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write benchmarks/results/attack_cost.md (attack_apgd.md with --only-apgd)",
    )
    args = parser.parse_args(argv)
    args.command = "python -m benchmarks.bench_attack " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    torch.set_num_threads(args.threads)
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    apgd_rows = [row for k in kinds for row in bench_apgd(k, args)]
    if args.only_apgd:
        markdown = f"Command (repository root): `{args.command}`\n\n" + apgd_markdown(
            apgd_rows, args
        )
        print(markdown)
        if args.write:
            write_result_file("attack_apgd.md", markdown, title="APGD against PGD-20")
        return
    attack_rows = [bench_attack(k, args) for k in kinds]
    train_rows = [bench_training(k, args) for k in kinds]
    markdown = to_markdown(attack_rows, train_rows, args) + apgd_markdown(
        apgd_rows, args
    )
    print(f"{HEADING}\n\n{markdown}")
    if args.write:
        write_result_file("attack_cost.md", markdown, title=HEADING.lstrip("# "))


if __name__ == "__main__":
    main()
