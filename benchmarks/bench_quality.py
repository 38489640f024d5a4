"""Does JIN deliver minimax fairness? Quality and ablation benchmarks (run by hand).

Two suites, each one command; results go to ``benchmarks/RESULTS.md`` (with
``--write``), learning curves to ``benchmarks/figures/``, and every finished
round to ``--out`` (resumable: rerun the same command after an interruption)::

    python benchmarks/bench_quality.py --suite ablation --write
    python benchmarks/bench_quality.py --suite quality --write

Protocol (``../shared/FRAL.md`` section 5): paired seeds (every strategy sees
the same splits and model seeds), PGD-AT nets (PGD-10 training, PGD-20
evaluation), ``--rounds`` rounds of ``--budget`` labels after
``--initial-size`` labels. Reported per data set: final-round and
mean-over-rounds worst-group standard and robust accuracy and their balanced
versions (mean +- std over seeds), paired differences against ``random`` and
against ``worst_group`` (worst-group entropy) with the number of seeds where
the strategy is better, and the majority-class reference level. The
ablation ranks JIN's variants on the **validation** columns only; defaults
are chosen from that ranking, never from the test set.
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine_line, update_results  # noqa: E402
from skfral.experiment import (  # noqa: E402
    VALIDATION_COLUMNS,
    plot_learning_curves,
    run_fral,
    summarize,
    summary_markdown,
)

FIGURES = Path(__file__).with_name("figures")

# The paper-faithful JIN as we read it: both inconsistencies (KL), the whole
# batch from the validation-worst group, class balancing; nothing of ours.
JIN_PAPER = {
    "disagreement": "kl",
    "weights": (1.0, 1.0),
    "group_allocation": "worst",
    "class_balance": True,
    "score_aggregation": "sum",
    "diversity": None,
}

QUALITY = {
    "random": ("random", {}),
    "entropy": ("entropy", {}),
    "margin": ("margin", {}),
    "least_confidence": ("least_confidence", {}),
    "coreset": ("coreset", {}),
    "badge": ("badge", {}),
    "worst_group": ("worst_group", {}),
    "fal": ("fal", {"n_candidates": 10, "refit_epochs": 1}),
    "jin": ("jin", {}),
    "jin_paper": ("jin", JIN_PAPER),
}

ABLATION = {
    "worst_group": ("worst_group", {}),
    "jin_paper": ("jin", JIN_PAPER),
    "only_I_adv": ("jin", {**JIN_PAPER, "weights": (1.0, 0.0)}),
    "only_I_mod": ("jin", {**JIN_PAPER, "weights": (0.0, 1.0)}),
    "hard": ("jin", {**JIN_PAPER, "disagreement": "hard"}),
    "js": ("jin", {**JIN_PAPER, "disagreement": "js"}),
    "rank_sum": ("jin", {**JIN_PAPER, "score_aggregation": "rank"}),
    "no_group_restriction": ("jin", {**JIN_PAPER, "group_allocation": "none"}),
    "no_class_balance": ("jin", {**JIN_PAPER, "class_balance": False}),
    "criterion_standard": ("jin", {**JIN_PAPER, "group_criterion": "standard"}),
    "criterion_robust": ("jin", {**JIN_PAPER, "group_criterion": "robust"}),
    "criterion_balanced_mean": (
        "jin",
        {**JIN_PAPER, "group_criterion": "balanced_mean"},
    ),
    "kcenter_x2": ("jin", {**JIN_PAPER, "diversity": "kcenter", "diversity_factor": 2}),
    "hard_only_I_adv": ("jin", {**JIN_PAPER, "disagreement": "hard", "weights": (1.0, 0.0)}),
    "hard_kcenter_x2": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "diversity": "kcenter", "diversity_factor": 2},
    ),
    "hard_no_class_balance": ("jin", {**JIN_PAPER, "disagreement": "hard", "class_balance": False}),
    "hard_criterion_balanced_mean": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "group_criterion": "balanced_mean"},
    ),
    "uncertainty_rank": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "score_aggregation": "rank",
         "uncertainty_weight": 1.0},
    ),
    "uncertainty_rank_no_group_restriction": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "score_aggregation": "rank",
         "uncertainty_weight": 1.0, "group_allocation": "none"},
    ),
    "kcenter_x2_rank": (
        "jin",
        {
            **JIN_PAPER,
            "diversity": "kcenter",
            "diversity_factor": 2,
            "score_aggregation": "rank",
        },
    ),
}

SUITES = {
    "quality": (QUALITY, ("synthetic", "adult", "adult_race", "german", "digits")),
    "ablation": (ABLATION, ("synthetic", "adult", "german")),
}

# Per data set: sizes that keep a 2-core run in minutes.
SIZES = {
    "german": dict(pool_size=None, val_size=0.15, test_size=0.25),
    "german_age": dict(pool_size=None, val_size=0.15, test_size=0.25),
    "digits": dict(pool_size=None, val_size=300, test_size=500),
}
DEFAULT_SIZES = dict(pool_size=2000, val_size=300, test_size=1500)

# Strategies left out of a data set, and why (stated in RESULTS.md).
EXCLUDE = {
    "digits": {
        "fal": "FAL refits a SmallCNN adversarially for every (candidate, class): "
        "about 100 s per query on 2 cores (JIN: under 1 s), too slow for this run"
    },
}


def run_suite(args):
    strategies, default_datasets = SUITES[args.suite]
    datasets = args.datasets.split(",") if args.datasets else list(default_datasets)
    if args.strategies:
        strategies = {
            k: v for k, v in strategies.items() if k in args.strategies.split(",")
        }
    frames = []
    for dataset in datasets:
        sizes = SIZES.get(dataset, DEFAULT_SIZES)
        excluded = EXCLUDE.get(dataset, {}) if args.suite == "quality" else {}
        cell_strategies = {k: v for k, v in strategies.items() if k not in excluded}
        t0 = time.perf_counter()
        df = run_fral(
            [dataset],
            cell_strategies,
            seeds=args.seeds,
            n_rounds=args.rounds,
            budget=args.budget,
            initial_size=args.initial_size,
            out_dir=Path(args.out) / args.suite / dataset,
            n_jobs=args.n_jobs,
            overwrite=args.overwrite,
            progress=not args.quiet,
            **sizes,
        )
        print(
            f"{dataset}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True
        )
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def reference_levels(df):
    last = df[df["round"] == df["round"].max()]
    return last.groupby("dataset")["majority_class_level"].mean()


def validation_ranking(df):
    """JIN variants ranked on the validation columns (mean over rounds, seeds, data sets)."""
    per = df.groupby(["dataset", "strategy", "seed"])[list(VALIDATION_COLUMNS)].mean()
    per = per.groupby(["dataset", "strategy"]).mean()
    per["val_mean"] = per[list(VALIDATION_COLUMNS)].mean(axis=1)
    table = per["val_mean"].unstack("dataset")
    table["all data sets"] = table.mean(axis=1)
    return table.sort_values("all data sets", ascending=False)


def report(df, args):
    parts = [
        f"Command: `python benchmarks/bench_quality.py {' '.join(sys.argv[1:])}`  ",
        machine_line(),
        "",
        f"{args.seeds} paired seeds, {args.rounds} rounds of {args.budget} labels after "
        f"{args.initial_size}; PGD-AT (PGD-10) nets, PGD-20 evaluation on the test set. "
        "`final` = last round, `rounds` = mean over rounds 0..R. Differences are paired "
        "(same split and model seeds); `n>` = seeds where the strategy is better.",
        "",
        "Majority-class reference (worst-group accuracy of predicting each group's "
        "majority class), test set:",
        "",
    ]
    for name, level in reference_levels(df).items():
        parts.append(f"- {name}: {level:.3f}")
    if args.suite == "quality":
        for dataset, why in EXCLUDE.items():
            for strategy, reason in why.items():
                parts.append(f"\nNot run: {strategy} on {dataset}: {reason}.")
    FIGURES.mkdir(exist_ok=True)
    for dataset, sub in df.groupby("dataset", sort=False):
        summary = summarize(sub)
        text = summary_markdown(summary)
        # RESULTS.md sections are "## ..."; nest the summary's headings below them.
        text = "\n".join("##" + ln if ln.startswith("#") else ln for ln in text.splitlines())
        parts += ["", f"### {dataset}", "", text]
        png = FIGURES / f"{args.suite}_{dataset}.png"
        plot_learning_curves(sub, png)
        parts += ["", f"![{dataset} learning curves](figures/{png.name})"]
    if args.suite == "ablation":
        ranking = validation_ranking(df)
        parts += [
            "",
            "### JIN variants ranked on the validation set",
            "",
            "Mean over rounds, seeds and the four worst-group metrics (standard, robust, "
            "and their balanced versions), on the validation split only.",
            "",
            ranking.to_markdown(floatfmt=".4f"),
        ]
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="quality")
    parser.add_argument("--datasets", default=None, help="comma-separated subset")
    parser.add_argument("--strategies", default=None, help="comma-separated subset")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--initial-size", type=int, default=40)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "runs"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--overwrite", action="store_true",
                        help="recompute when --out holds another configuration")
    args = parser.parse_args(argv)
    df = run_suite(args)
    text = report(df, args)
    print(text)
    if args.write:
        heading = {
            "quality": "## Quality: JIN against the baselines",
            "ablation": "## Ablation of JIN",
        }[args.suite]
        update_results(heading, text)


if __name__ == "__main__":
    main()
