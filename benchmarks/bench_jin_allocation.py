"""Which default should JIN have? Allocation and scoring variants, chosen on validation.

Issue 15 chose JIN's default here: ``group_allocation="bootstrap"`` (the
variant ranked first on the validation columns over the five data sets of
the quality suite; ``"worst"``, the default before, is ``jin_worst``). Every
variant names its settings explicitly, so a cell means the same whatever the
default is.

The decision rule (written down before the last digits cells of
``jin_bootstrap_entropy`` finished): the default is the JIN variant first on
the validation mean over every data set ("all data sets" column); a variant
within 0.002 of the first that changes fewer settings of the former default wins the
tie (``jin_bootstrap`` changes one, ``jin_bootstrap_entropy`` three).

Issue 25's rule (written down at 03:03 on 2026-12-06, with one seed of the
tables and of digits finished; commit history shows it): the new default is
the candidate among ``jin_auto_full``, ``jin_soft_full`` and
``jin_bootstrap_full`` first on the validation mean over the five data sets,
if (a) every data set has at least 3 paired seeds, (b) it is above
``jin_bootstrap`` (the issue-15 default) on that mean, and (c) its paired
validation difference to ``jin_bootstrap`` (val WG robust, mean over rounds)
has no interval entirely below 0 on any data set. Otherwise the default
stays. The test columns are never used for the choice. At 03:25, with 5
seeds of the tables and 3 of digits, no candidate met (c) (each lost to
``jin_bootstrap`` on synthetic or digits on validation); a fourth candidate,
``jin_auto_default`` (the gate and the three fixes on the default scoring),
was added then (03:25) under the same rule.

Runs :func:`skfral.experiment.run_fral` with JIN's allocation variants and two
references (plain entropy; entropy inside the validation-worst group) on the
quality suite's data-set settings (``bench_quality.SIZES``, imported), one
resumable folder per (data set, seed, strategy) under ``--out``, one process
(``n_jobs=1``, one torch thread; run it under ``nice -n 19``)::

    nice -n 19 python -m benchmarks.bench_jin_allocation --seeds 5 --write

The choice is made on the **validation** columns only (the ablation rule);
the test columns are reported beside them. ``--reuse DIR`` copies a finished
cell from another run folder laid out as bench_quality's (``DIR/<suite>/<data
set>/seed_<s>/<strategy>``) when its manifest holds exactly the same
configuration (run_fral is deterministic given the configuration, so the cell
is the one this script would compute). ``--report-only`` summarises what
``--out`` holds.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks._common import machine_line, write_result_file
from benchmarks.bench_quality import DEFAULT_SIZES, SIZES
from skfral.experiment import (
    VERDICT_RULE,
    complete_rounds,
    confidence_intervals,
    load_results,
    paired_comparisons,
    run_fral,
    win_tie_loss,
)

ROOT = Path(__file__).resolve().parents[1]

# bench_quality's defaults for --rounds, --budget and --initial-size.
ROUNDS, BUDGET, INITIAL_SIZE = 6, 20, 40

# The parts issue 25 added, off: JINQueryStrategy's defaults until issue 25
# made "jin_auto" the default. Written out (since that change) so that a cell
# means the same whatever the defaults; the cells of the runs before it carry
# the shorter specs, which meant the same then.
PRE_25 = {"shrinkage_prior": 0.0, "min_val_count": 1, "max_group_share": None}

STRATEGIES = {
    # JIN's default was "worst" until this benchmark chose "bootstrap" (issue 15);
    # both are named explicitly, so that a cell means the same whatever the default.
    "jin_worst": ("jin", {"group_allocation": "worst", **PRE_25}),
    "jin_bootstrap": ("jin", {"group_allocation": "bootstrap", **PRE_25}),
    "entropy": ("entropy", {}),
    "worst_group": ("worst_group", {}),
    "jin_proportional": ("jin", {"group_allocation": "proportional", **PRE_25}),
    # Issue 14: score a seeded subset of the allocated group's pool (128 binds on
    # these pools: the worst group holds several hundred pool samples).
    "jin_max_candidates_128": (
        "jin",
        {"group_allocation": "worst", "max_candidates": 128, **PRE_25},
    ),
    # Issue 15 ("a JIN that knows when to widen"): the robust model's entropy
    # ranked in beside the two inconsistencies (rank aggregation, equal
    # weights), with the hard and the bootstrap allocation.
    "jin_entropy": (
        "jin",
        {
            "group_allocation": "worst",
            "score_aggregation": "rank",
            "uncertainty_weight": 1.0,
            **PRE_25,
        },
    ),
    "jin_bootstrap_entropy": (
        "jin",
        {
            "group_allocation": "bootstrap",
            "score_aggregation": "rank",
            "uncertainty_weight": 1.0,
            **PRE_25,
        },
    ),
}
# Issue 25 ("a JIN that never loses"): a soft group preference over the whole
# pool (rank mean of I_adv, I_mod and entropy + beta * P(group is worst)),
# shrunk group scores, a validation minimum, a per-query cap, and the gate
# "auto" (targeted where the likely-worst group is predictable from the
# features, soft elsewhere). "full" = shrinkage 25 + minimum 10 + cap 0.2;
# the ablation turns one part off at a time.
SOFT = {
    "group_allocation": "soft",
    "group_preference": 0.5,
    "score_aggregation": "rank",
    "uncertainty_weight": 1.0,
}
FIXES = {"shrinkage_prior": 25.0, "min_val_count": 10, "max_group_share": 0.2}
STRATEGIES.update(
    {
        "jin_auto_full": ("jin", {**SOFT, **FIXES, "group_allocation": "auto"}),
        "jin_soft_full": ("jin", {**SOFT, **FIXES}),
        "jin_bootstrap_full": (
            "jin",
            {**SOFT, **FIXES, "group_allocation": "bootstrap"},
        ),
        # Added 03:25 (after the 5-seed validation ranking showed the rank +
        # entropy scoring costing on synthetic): "auto" with the default
        # scoring where it targets (hard, sum) and the rank mean where soft.
        "jin_auto_default": ("jin", {"group_allocation": "auto", **FIXES}),
        "jin_soft": ("jin", {**SOFT, **PRE_25}),
        "jin_soft_full_beta0": ("jin", {**SOFT, **FIXES, "group_preference": 0.0}),
        "jin_soft_full_beta2": ("jin", {**SOFT, **FIXES, "group_preference": 2.0}),
        "jin_soft_full_no_shrink": (
            "jin",
            {**SOFT, **FIXES, "shrinkage_prior": 0.0},
        ),
        "jin_soft_full_no_min": ("jin", {**SOFT, **FIXES, "min_val_count": 1}),
        "jin_soft_full_no_cap": ("jin", {**SOFT, **FIXES, "max_group_share": None}),
    }
)
SOFT_VARIANTS = (
    "jin_auto_default",
    "jin_auto_full",
    "jin_soft_full",
    "jin_bootstrap_full",
    "jin_soft",
    "jin_soft_full_beta0",
    "jin_soft_full_beta2",
    "jin_soft_full_no_shrink",
    "jin_soft_full_no_min",
    "jin_soft_full_no_cap",
)
# The ablation of issue 25: (variant, the variant with one part changed).
ABLATION_PAIRS = [
    ("jin_soft_full", "jin_soft_full_beta0"),  # soft preference on / off
    ("jin_soft_full", "jin_soft_full_no_shrink"),
    ("jin_soft_full", "jin_soft_full_no_min"),
    ("jin_soft_full", "jin_soft_full_no_cap"),
    ("jin_soft_full", "jin_soft"),  # the three fixes together
    ("jin_soft_full_beta2", "jin_soft_full"),  # more targeting
    ("jin_auto_full", "jin_soft_full"),  # the gate on / off
    ("jin_bootstrap_full", "jin_bootstrap_entropy"),  # the fixes, hard targeting
    ("jin_auto_default", "jin_bootstrap"),  # gate + fixes on the default scoring
]
VARIANTS = (
    *SOFT_VARIANTS,
    "jin_worst",
    "jin_bootstrap",
    "jin_proportional",
    "jin_max_candidates_128",
    "jin_entropy",
    "jin_bootstrap_entropy",
)
# (variant, reference) pairs of the paired-difference table.
PAIRS = [
    (v, b)
    for v in (
        "jin_bootstrap",
        "jin_proportional",
        "jin_max_candidates_128",
        "jin_entropy",
        "jin_bootstrap_entropy",
    )
    for b in ("jin_worst", "entropy", "worst_group")
] + [("jin_worst", "entropy"), ("jin_worst", "worst_group")]
PAIRS += [(v, b) for v in SOFT_VARIANTS for b in ("jin_bootstrap", "entropy")]
PAIRS += [p for p in ABLATION_PAIRS if p not in PAIRS]
REFERENCES = ("entropy", "worst_group")
# What each cell is reported as, and the order cells are run in (new first).
RUN_ORDER = (
    *SOFT_VARIANTS[:5],
    "jin_bootstrap",
    "jin_worst",
    "entropy",
    "worst_group",
    "jin_proportional",
    "jin_max_candidates_128",
    "jin_entropy",
    "jin_bootstrap_entropy",
    *SOFT_VARIANTS[5:],
)
DATASETS = ("synthetic", "german", "adult", "adult_race", "digits")
METRICS = (
    "worst_group_robust_accuracy",
    "worst_group_robust_balanced_accuracy",
)
VAL_METRICS = tuple(f"val_{m}" for m in METRICS)
SHORT = {
    "worst_group_robust_accuracy": "WG robust",
    "worst_group_robust_balanced_accuracy": "WG bal. robust",
    "val_worst_group_robust_accuracy": "val WG robust",
    "val_worst_group_robust_balanced_accuracy": "val WG bal. robust",
}
N_BOOT = 10_000
DEFAULT_OUT = str(ROOT / "benchmarks" / "runs")
DEFAULT_RESULT = "jin_allocation.md"


def _cell_dir(out, dataset, seed, strategy):
    return Path(out) / "jin_allocation" / dataset / f"seed_{seed}" / strategy


def _config(dataset, seed, strategy, args):
    """The keyword arguments of run_fral for one cell."""
    return dict(
        seeds=[seed],
        n_rounds=args.rounds,
        budget=args.budget,
        initial_size=args.initial_size,
        **SIZES.get(dataset, DEFAULT_SIZES),
    )


def _try_reuse(args, dataset, seed, strategy, target):
    """Copy a finished identical cell from ``--reuse``; whether it was copied."""
    if not args.reuse or (target / "results.csv").exists():
        return False
    for suite in ("quality", "ablation"):
        source = Path(args.reuse) / suite / dataset / f"seed_{seed}" / strategy
        manifest = source / "manifest.json"
        if not manifest.exists() or not (source / "results.csv").exists():
            continue
        config = json.loads(manifest.read_text())["config"]
        want = _config(dataset, seed, strategy, args)
        same = (
            config["datasets"] == {dataset: dataset}
            and config["strategies"] == {strategy: list(STRATEGIES[strategy])}
            and all(config[k] == want[k] for k in want)
            and config["eval_attack"] is None
            and config["estimator"] == "default"
            and not config["warm_start"]
        )
        rounds = pd.read_csv(source / "results.csv")["round"]
        if same and rounds.max() == args.rounds and rounds.nunique() == args.rounds + 1:
            shutil.copytree(source, target, dirs_exist_ok=True)
            return True
    return False


def _tasks(args):
    """(data set, seed, strategy) cells: seed by seed (paired seeds fill up
    first), ``jin_proportional`` last (on two groups it allocates as "worst")."""
    wanted = [s for s in RUN_ORDER if s in args.strategies.split(",")]
    last = [s for s in wanted if s == "jin_proportional"]
    tasks = []
    for group in ([s for s in wanted if s not in last], last):
        for seed in range(args.seeds):
            for dataset in args.datasets.split(","):
                tasks += [(dataset, seed, strategy) for strategy in group]
    return tasks


def run(args):
    for dataset, seed, strategy in _tasks(args):
        target = _cell_dir(args.out, dataset, seed, strategy)
        if _try_reuse(args, dataset, seed, strategy, target):
            print(f"{dataset} seed {seed} {strategy}: reused", flush=True)
            continue
        t0 = time.perf_counter()
        run_fral(
            [dataset],
            {strategy: STRATEGIES[strategy]},
            out_dir=target,
            eval_attack=None,
            n_jobs=1,
            torch_threads=1,
            progress=False,
            **_config(dataset, seed, strategy, args),
        )
        print(
            f"{dataset} seed {seed} {strategy}: {time.perf_counter() - t0:.0f} s",
            flush=True,
        )


def load(args):
    frames = []
    for manifest in sorted(
        (Path(args.out) / "jin_allocation").glob("**/manifest.json")
    ):
        try:
            frames.append(load_results(manifest.parent))
        except FileNotFoundError:
            continue
    if not frames:
        return None, None
    df = pd.concat(frames, ignore_index=True)
    df = df[df["dataset"].isin(args.datasets.split(",")) & (df["seed"] < args.seeds)]
    df = df[df["strategy"].isin(args.strategies.split(","))]
    return complete_rounds(df, n_rounds=args.rounds)


def _paired_seeds(sub):
    """Only seeds every strategy of the data set completed (strictly paired)."""
    n = sub["strategy"].nunique()
    ok = [s for s, g in sub.groupby("seed") if g["strategy"].nunique() == n]
    return sub[sub["seed"].isin(ok)], ok


def _fmt(mean, low, high):
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def dataset_section(sub, dataset):
    sub, seeds = _paired_seeds(sub)
    metrics = VAL_METRICS + METRICS
    stats = dict(n_boot=N_BOOT, random_state=0, aggregates=("rounds",))
    cis = confidence_intervals(sub, metrics=metrics, **stats)
    comps = paired_comparisons(sub, metrics=metrics, **stats)
    wtl = win_tie_loss(comps)
    parts = [f"### {dataset}", "", f"Seeds complete for every strategy: {seeds}.", ""]
    header = ["strategy"] + [SHORT[m] for m in metrics] + ["query s/round"]
    rows = []
    qs = sub.groupby("strategy")["query_seconds"].mean()
    for strategy in [s for s in STRATEGIES if s in set(sub["strategy"])]:
        row = [strategy]
        for m in metrics:
            r = cis[(cis["strategy"] == strategy) & (cis["metric"] == m)].iloc[0]
            row.append(f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
        row.append(f"{qs.get(strategy, float('nan')):.2f}")
        rows.append(row)
    parts += [
        "Mean over rounds (rounds 0-6), mean over seeds [95% bootstrap CI]:",
        "",
        _md(header, rows),
        "",
    ]
    header = ["variant", "vs"] + [SHORT[m] for m in metrics]
    rows = []
    present = set(sub["strategy"])
    for variant, base in PAIRS:
        if variant in present and base in present:
            row = [variant, base]
            for m in metrics:
                c = comps[
                    (comps["strategy"] == variant)
                    & (comps["baseline"] == base)
                    & (comps["metric"] == m)
                ]
                if c.empty:
                    row.append("-")
                    continue
                c = c.iloc[0]
                row.append(
                    _fmt(c["mean"], c["ci_low"], c["ci_high"])
                    + f" {int(c['n_better'])}/{int(c['n_seeds'])}"
                )
            rows.append(row)
    parts += [
        "Paired differences (variant - reference), mean over rounds, with the 95% "
        "t CI over seeds and the seeds where the variant was better:",
        "",
        _md(header, rows),
        "",
    ]
    w = wtl[wtl["metric"].isin(metrics) & wtl["strategy"].isin(VARIANTS)]
    if not w.empty:
        cols = [c for c in ("strategy", "metric", "wins", "ties", "losses") if c in w]
        parts += [
            f"Win/tie/loss against every other strategy. {VERDICT_RULE}",
            "",
            w[cols].to_markdown(index=False),
            "",
        ]
    return "\n".join(parts)


def _md(header, rows):
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    return "\n".join(out + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def validation_ranking(df):
    """Variants ranked by the mean of the two validation columns (per data set)."""
    df, _ = _paired_seeds_all(df)
    per = df.groupby(["dataset", "strategy", "seed"])[list(VAL_METRICS)].mean()
    per = per.groupby(["dataset", "strategy"]).mean().mean(axis=1)
    table = per.unstack("dataset")
    # The ranking is over strategies that ran on every data set (a mean over a
    # subset would rank a strategy by where it happened to run); the others
    # follow, with their mean over the data sets they ran on.
    everywhere = table.notna().all(axis=1)
    table["all data sets"] = table.mean(axis=1).where(everywhere)
    table["where run"] = table.drop(columns="all data sets").mean(axis=1)
    table["n data sets"] = (
        table.drop(columns=["all data sets", "where run"])
        .notna()
        .sum(axis=1)
        .astype(int)
    )
    return pd.concat(
        [
            table[everywhere].sort_values("all data sets", ascending=False),
            table[~everywhere].sort_values("where run", ascending=False),
        ]
    )


def _paired_seeds_all(df):
    parts, seeds = [], {}
    for dataset, sub in df.groupby("dataset"):
        sub, ok = _paired_seeds(sub)
        parts.append(sub)
        seeds[dataset] = ok
    return pd.concat(parts), seeds


ABLATION_METRICS = ("val_worst_group_robust_accuracy", "worst_group_robust_accuracy")


def ablation_section(df, datasets):
    """Issue 25: each new part on and off, paired by seed, per data set.

    One row per (variant, the variant with one part changed) of
    ``ABLATION_PAIRS`` present in ``df``; each cell the mean-over-rounds
    paired difference with its 95% bootstrap CI over the seeds both completed
    and the number of seeds (validation first: the choice is made there).
    """
    present = set(df["strategy"])
    pairs = [(v, b) for v, b in ABLATION_PAIRS if v in present and b in present]
    if not pairs:
        return ""
    comps = paired_comparisons(
        df,
        baselines=sorted({b for _, b in pairs}),
        metrics=ABLATION_METRICS,
        n_boot=N_BOOT,
        random_state=0,
        aggregates=("rounds",),
    )
    out = []
    for metric in ABLATION_METRICS:
        header = ["variant", "vs"] + list(datasets)
        rows = []
        for variant, base in pairs:
            row = [variant, base]
            for dataset in datasets:
                c = comps[
                    (comps["dataset"] == dataset)
                    & (comps["strategy"] == variant)
                    & (comps["baseline"] == base)
                    & (comps["metric"] == metric)
                ]
                if c.empty or int(c.iloc[0]["n_seeds"]) < 2:
                    row.append("-")
                    continue
                c = c.iloc[0]
                row.append(
                    _fmt(c["mean"], c["ci_low"], c["ci_high"])
                    + f" n={int(c['n_seeds'])}"
                )
            rows.append(row)
        out += [f"{SHORT[metric]} (mean over rounds), variant - reference:", ""]
        out += [_md(header, rows), ""]
    return "\n".join(out)


def report(args):
    df, incomplete = load(args)
    lines = [
        "Command: `python -m benchmarks.bench_jin_allocation "
        f"--seeds {args.seeds} --datasets {args.datasets} "
        f"--strategies {args.strategies}"
        + (f" --reuse {args.reuse}" if args.reuse else "")
        + (f" --out {args.out}" if args.out != DEFAULT_OUT else "")
        + (" --report-only" if args.report_only else "")
        + (f" --result {args.result}" if args.result != DEFAULT_RESULT else "")
        + (" --note ..." if args.note else "")
        + " --write`",
        "",
        machine_line()
        + " (n_jobs 1 and 1 torch thread per process, several processes at once:"
        " compare query seconds within one run only).",
        "",
        f"Settings: bench_quality's ({args.rounds} rounds of {args.budget} labels after "
        f"{args.initial_size}; PGD-AT MLP on the tables, SmallCNN on digits; PGD-20 "
        "evaluation; sizes from bench_quality.SIZES). Strategies: "
        + ", ".join(
            f"`{k}` = {v}" for k, v in STRATEGIES.items() if k in args.strategies
        )
        + ".",
        "",
    ]
    if args.note:
        lines += [args.note, ""]
    if df is None or df.empty:
        return "\n".join(lines + ["No complete cell yet."])
    if incomplete is not None and len(incomplete):
        lines += [f"Incomplete cells left out: {len(incomplete)}.", ""]
    lines += [
        "## Validation ranking (the choice is made here)",
        "",
        "Mean over rounds and paired seeds of the validation worst-group robust "
        "accuracy and its balanced version (their mean):",
        "",
        validation_ranking(df).to_markdown(floatfmt=".4f"),
        "",
    ]
    ablation = ablation_section(df, args.datasets.split(","))
    if ablation:
        lines += [
            "## Ablation of issue 25's parts (each on and off)",
            "",
            "`full` = shrinkage_prior 25 + min_val_count 10 + max_group_share "
            "0.2; each row turns one part off (or changes beta); paired "
            "differences over the seeds both strategies completed, 95% "
            "bootstrap CI over seeds (a handful of seeds: a narrow interval).",
            "",
            ablation,
        ]
    lines += [
        "## Per data set (validation and test)",
        "",
    ]
    for dataset in args.datasets.split(","):
        sub = df[df["dataset"] == dataset]
        if sub.empty:
            lines += [f"### {dataset}", "", "No complete cell yet.", ""]
            continue
        lines.append(dataset_section(sub, dataset))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--strategies", default=",".join(RUN_ORDER))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--initial-size", type=int, default=INITIAL_SIZE)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument(
        "--result",
        default=DEFAULT_RESULT,
        help="file name under benchmarks/results/ for --write",
    )
    parser.add_argument("--reuse", default=None, help="a bench_quality --out folder")
    parser.add_argument("--note", default=None)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        run(args)
    text = report(args)
    print(text)
    if args.write:
        path = write_result_file(
            args.result,
            text,
            title="JIN's default: allocation and scoring variants, ranked on validation",
        )
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
