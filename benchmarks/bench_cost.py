"""What a query costs: every strategy, JIN against its floor, FAL against JIN.

Run by hand (not in CI)::

    python -m benchmarks.bench_cost                 # Markdown tables on stdout
    python -m benchmarks.bench_cost --write         # also benchmarks/results/query_cost.md

On Adult (sensitive: sex, the bundled data, one-hot + standardised), with a
PGD-AT MLP (PGD-10, eps 0.1) fitted on ``--n-labelled`` samples:

1. Query seconds of every strategy at pool sizes 1k, 4k, 16k and 32k (the
   pool is drawn from the rest of Adult), with the exponent ``a`` of a
   least-squares fit ``seconds ~ c * pool_size ** a``.
2. JIN over its floor: the floor is the sum of its parts measured in the same
   run (one standard-model fit, one PGD attack and two forward passes over the
   candidates, i.e. over the worst group's pool samples). Target <= 1.5.
3. JIN over one adversarial fit of the robust net on the same labelled set.
   Target <= 0.25.
4. FAL over JIN at equal candidates: both get the same ``--fal-candidates``
   pool samples of one group. Target >= 50.
5. Peak memory of a JIN query at 32k (resident set growth in a fresh process)
   at two attack batch sizes: bounded by the batch size, not the pool.

Times are medians of ``--repeats`` interleaved runs; ratios are taken inside
one run (the machine is noisy).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import skfral  # noqa: F401
from benchmarks._common import machine_line, write_result_file
from skfral.datasets import load_adult
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier, set_torch_threads
from skfral.query import STRATEGIES, get_strategy

HEADING = "## Query cost"
POOL_SIZES = (1000, 4000, 16000, 32000)


def adult():
    bunch = load_adult(sensitive="sex")
    return (
        np.asarray(bunch.data, dtype=np.float32),
        np.asarray(bunch.target),
        np.asarray(bunch.sensitive),
    )


def make_net(n_features, seed=0, **kw):
    params = dict(
        module__n_features=n_features,
        classes=[0, 1],
        max_epochs=30,
        lr=0.005,
        attack_n_steps=10,
        random_state=seed,
    )
    params.update(kw)
    return RobustNeuralNetClassifier(MLP, **params)


class Learner:
    """What a strategy sees of a modAL ActiveLearner."""

    def __init__(self, estimator, X, y):
        self.estimator, self.X_training, self.y_training = estimator, X, y


def build(name, val, seed=0, **extra):
    cls = STRATEGIES[name]
    params = {"random_state": seed}
    if cls.requires_validation:
        params.update(X_val=val[0], y_val=val[1], sensitive_features_val=val[2])
    if name == "fal":
        params.update(n_candidates=extra.pop("n_candidates", 20))
    params.update(extra)
    return get_strategy(name, **params)


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def setup(n_labelled, n_val, seed=0):
    X, y, s = adult()
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(X))
    lab, val, rest = (
        order[:n_labelled],
        order[n_labelled : n_labelled + n_val],
        order[n_labelled + n_val :],
    )
    net = make_net(X.shape[1], seed)
    t_fit, _ = timed(net.fit, X[lab], y[lab])
    return X, y, s, lab, val, rest, net, t_fit


def scaling(args):
    X, y, s, lab, val, rest, net, t_fit = setup(args.n_labelled, args.n_val)
    learner = Learner(net, X[lab], y[lab])
    vals = (X[val], y[val], s[val])
    names = [n for n in STRATEGIES if n != "fal"]
    rows = {}
    for n_pool in args.pool_sizes:
        pool = rest[: min(n_pool, len(rest))]
        for name in names:
            times = []
            for r in range(args.repeats):
                strategy = build(name, vals, seed=r)
                t, _ = timed(
                    strategy,
                    learner,
                    X[pool],
                    n_instances=args.batch,
                    sensitive_features=s[pool],
                )
                times.append(t)
            rows[(name, len(pool))] = float(np.median(times))
        print(f"pool {len(pool)} done", file=sys.stderr, flush=True)
    sizes = sorted({k[1] for k in rows})
    lines = [
        "| strategy | "
        + " | ".join(f"{n} pool (s)" for n in sizes)
        + " | exponent a |",
        "|---" * (len(sizes) + 2) + "|",
    ]
    for name in names:
        t = np.asarray([rows[(name, n)] for n in sizes])
        a = np.polyfit(np.log(sizes), np.log(t), 1)[0]
        lines.append(
            f"| {name} | " + " | ".join(f"{v:.3f}" for v in t) + f" | {a:.2f} |"
        )
    return "\n".join(lines), t_fit


def floor_ratios(args):
    """JIN / its floor, JIN / one adversarial fit, per pool size (same run).

    JIN is timed twice per repeat: a *cold* first query (its standard model is
    fitted from scratch) and a *steady* query one round later, after
    ``--batch`` labels were added (the standard model is warm-started, as in
    every round of an active-learning loop but the first).
    """
    X, y, s, lab, val, rest, net, _ = setup(args.n_labelled, args.n_val)
    vals = (X[val], y[val], s[val])
    lines = [
        "| pool | candidates | JIN cold (s) | JIN steady (s) | floor (s) | cold / floor "
        "| steady / floor | adversarial fit (s) | cold / adv. fit | steady / adv. fit "
        "| steady, PGD-3 attack / adv. fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    out = {}
    for n_pool in args.pool_sizes:
        pool = rest[: min(n_pool + args.batch, len(rest))]
        new, pool = pool[: args.batch], pool[args.batch :]
        rec = []
        for r in range(args.repeats):
            jin = build("jin", vals, seed=r)
            learner = Learner(net, X[lab], y[lab])
            t_cold, _ = timed(
                jin,
                learner,
                X[pool],
                n_instances=args.batch,
                sensitive_features=s[pool],
            )
            grown = Learner(net, X[np.r_[lab, new]], y[np.r_[lab, new]])
            t_steady, _ = timed(
                jin, grown, X[pool], n_instances=args.batch, sensitive_features=s[pool]
            )
            # the lever: a 3-step attack for I_adv and the validation ranking
            cheap = build(
                "jin",
                vals,
                seed=r,
                attack=PGD(eps=net.attack_eps, n_steps=3, random_state=r),
            )
            cheap(learner, X[pool], n_instances=args.batch, sensitive_features=s[pool])
            t_cheap, _ = timed(
                cheap,
                grown,
                X[pool],
                n_instances=args.batch,
                sensitive_features=s[pool],
            )
            util = build("jin", vals, seed=r).utilities(
                learner, X[pool], sensitive_features=s[pool]
            )
            cand = pool[util["candidate"].to_numpy()]
            # the floor's parts, measured right after, on the same candidates
            std = make_net(X.shape[1], r, adversarial=None)
            t_std, _ = timed(std.fit, X[lab], y[lab])
            attack = PGD(eps=net.attack_eps, n_steps=net.attack_n_steps, random_state=r)
            t_att, _ = timed(attack.perturb, net, X[cand], None)
            t_fwd = (
                timed(net.predict_proba, X[cand])[0]
                + timed(std.predict_proba, X[cand])[0]
            )
            floor = t_std + t_att + t_fwd
            t_adv, _ = timed(make_net(X.shape[1], r).fit, X[lab], y[lab])
            rec.append((len(cand), t_cold, t_steady, floor, t_adv, t_cheap))
        rec = np.asarray(rec)
        ratios = np.median(
            np.c_[
                rec[:, 1] / rec[:, 3],
                rec[:, 2] / rec[:, 3],
                rec[:, 1] / rec[:, 4],
                rec[:, 2] / rec[:, 4],
                rec[:, 5] / rec[:, 4],
            ],
            axis=0,
        )
        n_cand, t_cold, t_steady, floor, t_adv, t_cheap = np.median(rec, axis=0)
        out[len(pool)] = ratios
        lines.append(
            f"| {len(pool)} | {int(n_cand)} | {t_cold:.3f} | {t_steady:.3f} | {floor:.3f} "
            f"| {ratios[0]:.2f} | {ratios[1]:.2f} | {t_adv:.3f} | {ratios[2]:.2f} "
            f"| {ratios[3]:.2f} | {ratios[4]:.2f} |"
        )
    return "\n".join(lines), out


def fal_ratio(args):
    X, y, s, lab, val, rest, net, _ = setup(args.n_labelled, args.n_val)
    learner = Learner(net, X[lab], y[lab])
    vals = (X[val], y[val], s[val])
    group = s[rest][0]
    pool = rest[s[rest] == group][: args.fal_candidates]
    ratios, rec = [], []
    for r in range(args.repeats):
        jin = build("jin", vals, seed=r)
        fal = build("fal", vals, seed=r, n_candidates=args.fal_candidates)
        t_jin, _ = timed(
            jin, learner, X[pool], n_instances=args.batch, sensitive_features=s[pool]
        )
        t_fal, _ = timed(
            fal, learner, X[pool], n_instances=args.batch, sensitive_features=s[pool]
        )
        ratios.append(t_fal / t_jin)
        rec.append((t_jin, t_fal))
    t_jin, t_fal = np.median(np.asarray(rec), axis=0)
    line = f"| {args.fal_candidates} | {t_jin:.3f} | {t_fal:.2f} | {np.median(ratios):.0f} |"
    return "| candidates | JIN (s) | FAL (s) | FAL / JIN |\n|---|---|---|---|\n" + line


def _memory_child(batch_size, n_pool):
    """RSS sampled every millisecond during one JIN query, minus RSS before it."""
    import threading

    import psutil

    X, y, s, lab, val, rest, net, _ = setup(200, 1000)
    pool = rest[:n_pool]
    learner = Learner(net, X[lab], y[lab])
    jin = build("jin", (X[val], y[val], s[val]))
    jin.set_params(
        attack=PGD(eps=0.1, n_steps=10, batch_size=batch_size, random_state=0)
    )
    Xp, sp = X[pool], s[pool]
    proc = psutil.Process()
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.001)

    thread = threading.Thread(target=sample)
    thread.start()
    jin(learner, Xp, n_instances=20, sensitive_features=sp)
    done.set()
    thread.join()
    print(
        json.dumps(
            {"growth_mb": (peak[0] - before) / 2**20, "pool_mb": Xp.nbytes / 2**20}
        )
    )


def memory(args):
    lines = [
        "| pool | attack batch | pool array (MB) | peak RSS growth during the query (MB) |",
        "|---|---|---|---|",
    ]
    for n_pool in (args.pool_sizes[0], args.pool_sizes[-1]):
        for bs in (256, 4096):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_cost",
                    "--memory-child",
                    str(bs),
                    str(n_pool),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            lines.append(
                f"| {n_pool} | {bs} | {rec['pool_mb']:.1f} | {rec['growth_mb']:.1f} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-labelled", type=int, default=200)
    parser.add_argument("--n-val", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fal-candidates", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pool-sizes",
        type=lambda v: tuple(int(x) for x in v.split(",")),
        default=POOL_SIZES,
        help="comma-separated pool sizes",
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("BATCH", "POOL"))
    args = parser.parse_args(argv)
    set_torch_threads(args.threads)
    if args.memory_child:
        _memory_child(*args.memory_child)
        return
    cmd = "python -m benchmarks.bench_cost " + " ".join(
        a for a in (argv or sys.argv[1:])
    )
    scale_table, t_fit = scaling(args)
    floor_table, _ = floor_ratios(args)
    fal_table = fal_ratio(args)
    mem_table = memory(args)
    body = "\n\n".join(
        [
            f"Command: `{cmd.strip()}`  \n{machine_line()}",
            f"Adult (sex), PGD-AT MLP on {args.n_labelled} labelled samples (one adversarial "
            f"fit: {t_fit:.2f} s), validation {args.n_val}, batch {args.batch}, "
            f"median of {args.repeats} runs.",
            "### Query seconds by pool size\n\n" + scale_table,
            "### JIN against its floor and against one adversarial fit "
            "(targets <= 1.5 and <= 0.25)\n\n" + floor_table,
            "### FAL against JIN at equal candidates (target >= 50)\n\n" + fal_table,
            "### Peak memory of a JIN query\n\n" + mem_table,
        ]
    )
    print(body)
    if args.write:
        write_result_file("query_cost.md", body, title=HEADING.lstrip("# "))


if __name__ == "__main__":
    main()
