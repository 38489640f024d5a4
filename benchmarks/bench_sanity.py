"""Sanity: are the attack and the adversarial training real? (run by hand)

A standard net, a PGD-AT net and a TRADES net, same module, data and seeds,
evaluated on the same held-out data under no attack, FGSM, PGD-20 and PGD-50
(L-inf). A real attack drops the standard net's accuracy far below its clean
accuracy (and PGD-50 <= PGD-20 <= FGSM); real adversarial training keeps
robust accuracy well above the standard net's::

    python -m benchmarks.bench_sanity --write
"""

import argparse
import sys

import numpy as np

from benchmarks._common import machine_line, write_result_file
from skfral.datasets import load_adult, load_group_digits, make_fral_classification
from skfral.nn import (
    FGSM,
    MLP,
    PGD,
    RobustNeuralNetClassifier,
    SmallCNN,
    set_torch_threads,
)

HEADING = "## Sanity: attack and adversarial training are real"


def tasks(seed):
    X, y, _ = make_fral_classification(n_samples=3000, random_state=seed)
    yield (
        "synthetic (MLP, eps 0.1)",
        X,
        y,
        dict(module=MLP, module__n_features=10),
        0.1,
        None,
    )
    b = load_adult()
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(b.target), 4000, replace=False)
    Xa = np.asarray(b.data, dtype=np.float32)[idx]
    yield (
        "adult (MLP, eps 0.1)",
        Xa,
        np.asarray(b.target)[idx],
        dict(module=MLP, module__n_features=Xa.shape[1]),
        0.1,
        None,
    )
    Xd, yd, _ = load_group_digits(return_X_y=True, random_state=seed)
    yield (
        "group digits (SmallCNN, eps 8/255)",
        Xd,
        yd,
        dict(module=SmallCNN, module__n_classes=10, lr=0.001),
        8 / 255,
        (0.0, 1.0),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    set_torch_threads(2)
    lines = [
        "| task | training | clean | FGSM | PGD-20 | PGD-50 |",
        "|---|---|---|---|---|---|",
    ]
    for name, X, y, module_kw, eps, clip in tasks(args.seed):
        rng = np.random.RandomState(args.seed)
        order = rng.permutation(len(y))
        n_train = int(0.7 * len(y))
        tr, te = order[:n_train], order[n_train:]
        lo, hi = clip if clip else (None, None)
        for mode in (None, "pgd", "trades"):
            net = RobustNeuralNetClassifier(
                adversarial=mode,
                attack_eps=eps,
                attack_n_steps=10,
                attack_clip_min=lo,
                attack_clip_max=hi,
                max_epochs=args.epochs,
                random_state=args.seed,
                classes=np.unique(y),
                **module_kw,
            ).fit(X[tr], y[tr])
            accs = [float((net.predict(X[te]) == y[te]).mean())]
            for attack in (
                FGSM(eps=eps, clip_min=lo, clip_max=hi),
                PGD(
                    eps=eps,
                    n_steps=20,
                    clip_min=lo,
                    clip_max=hi,
                    random_state=args.seed,
                ),
                PGD(
                    eps=eps,
                    n_steps=50,
                    clip_min=lo,
                    clip_max=hi,
                    random_state=args.seed,
                ),
            ):
                X_adv = attack.perturb(net, X[te], y[te])
                accs.append(float((net.predict(X_adv) == y[te]).mean()))
            label = {None: "standard", "pgd": "PGD-AT", "trades": "TRADES (beta 6)"}[
                mode
            ]
            lines.append(
                f"| {name} | {label} | " + " | ".join(f"{a:.3f}" for a in accs) + " |"
            )
            print(lines[-1], flush=True)
    body = "\n".join(
        [
            f"Command: `python -m benchmarks.bench_sanity {' '.join(sys.argv[1:])}`  ",
            machine_line(),
            "",
            f"70/30 split, seed {args.seed}, {args.epochs} epochs, training attack PGD-10; "
            "accuracy on the held-out 30%.",
            "",
            *lines,
        ]
    )
    print(body)
    if args.write:
        write_result_file("sanity.md", body, title=HEADING.lstrip("# "))


if __name__ == "__main__":
    main()
