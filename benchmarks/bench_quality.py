"""Does JIN deliver minimax fairness? Quality and ablation benchmarks (run by hand).

Two suites, each one command; results go to ``benchmarks/results/<suite>.md``
(with ``--write``; the lead merges them into ``benchmarks/RESULTS.md``),
learning curves to ``benchmarks/figures/``, and every finished round to
``--out`` (resumable: rerun the same command after an interruption)::

    python -m benchmarks.bench_quality --suite ablation --write
    python -m benchmarks.bench_quality --suite quality --write

``--report-only`` writes the tables from whatever cells ``--out`` holds (complete
cells only; the incomplete ones are listed), without running anything: the way
to report a long run that is still going. ``--eval-attack apgd-ce`` (or
``apgd-dlr``) evaluates with ``skfral.nn.APGD`` instead of PGD-20, in its own
folder under ``--out``; the report then adds the APGD worst-group robust
accuracy beside PGD-20's.

Protocol (``../shared/FRAL.md`` section 5): paired seeds (every strategy sees
the same splits and model seeds), PGD-AT nets (PGD-10 training, PGD-20
evaluation), ``--rounds`` rounds of ``--budget`` labels after
``--initial-size`` labels. Reported per data set: final-round and
mean-over-rounds worst-group standard and robust accuracy and their balanced
versions: the mean over seeds with a 95% bootstrap confidence interval; the
paired difference (by seed) of ``jin`` and ``jin_paper`` against every other
strategy with its t interval and an exact Wilcoxon signed-rank test; the
win/tie/loss table (``skfral.experiment.verdict``: the t interval and the test
agree, at least 6 non-zero differences); the
majority-class reference level; query seconds. The ablation ranks JIN's
variants on the **validation** columns only; defaults are chosen from that
ranking, never from the test set.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import machine_line, write_result_file
from skfral.experiment import (
    SUMMARY_METRICS,
    VALIDATION_COLUMNS,
    VERDICT_RULE,
    complete_rounds,
    confidence_intervals,
    load_results,
    paired_comparisons,
    plot_learning_curves,
    run_fral,
    win_tie_loss,
)
from skfral.experiment._stats import TOO_FEW_SEEDS

ROOT = Path(__file__).resolve().parents[1]

FIGURES = Path(__file__).with_name("results") / "figures"

# The paper-faithful JIN as we read it: both inconsistencies (KL), the whole
# batch from the validation-worst group, class balancing; nothing of ours.
JIN_PAPER = {
    "disagreement": "kl",
    "weights": (1.0, 1.0),
    "group_allocation": "worst",
    "class_balance": True,
    "score_aggregation": "sum",
    "diversity": None,
    # issue 25's parts off (JINQueryStrategy's defaults since issue 25)
    "shrinkage_prior": 0.0,
    "min_val_count": 1,
    "max_group_share": None,
}

# JIN before issue 25: none of its parts (shrinkage, validation minimum, cap).
PRE_25 = {"shrinkage_prior": 0.0, "min_val_count": 1, "max_group_share": None}

QUALITY = {
    "random": ("random", {}),
    "entropy": ("entropy", {}),
    "margin": ("margin", {}),
    "least_confidence": ("least_confidence", {}),
    "coreset": ("coreset", {}),
    "badge": ("badge", {}),
    "worst_group": ("worst_group", {}),
    "fal": ("fal", {"n_candidates": 10, "refit_epochs": 1}),
    # The default since issue 25 (group_allocation="auto", shrinkage_prior=25,
    # min_val_count=10, max_group_share=0.2: the preset "jin_auto", chosen on
    # validation in benchmarks/results/jin_soft.md).
    "jin": ("jin", {}),
    # The default of issue 15 to issue 25 (bootstrap allocation).
    "jin_bootstrap": ("jin", {"group_allocation": "bootstrap", **PRE_25}),
    "jin_paper": ("jin", JIN_PAPER),
    # Earlier variants (the default before issue 15, "worst"; issue 25's
    # "soft" for every data set) are compared in archive/jin_allocation_issue15.md and
    # jin_soft.md (bench_jin_allocation), not here.
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
    "hard_only_I_adv": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "weights": (1.0, 0.0)},
    ),
    "hard_kcenter_x2": (
        "jin",
        {
            **JIN_PAPER,
            "disagreement": "hard",
            "diversity": "kcenter",
            "diversity_factor": 2,
        },
    ),
    "hard_no_class_balance": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "class_balance": False},
    ),
    "hard_criterion_balanced_mean": (
        "jin",
        {**JIN_PAPER, "disagreement": "hard", "group_criterion": "balanced_mean"},
    ),
    "uncertainty_rank": (
        "jin",
        {
            **JIN_PAPER,
            "disagreement": "hard",
            "score_aggregation": "rank",
            "uncertainty_weight": 1.0,
        },
    ),
    "uncertainty_rank_no_group_restriction": (
        "jin",
        {
            **JIN_PAPER,
            "disagreement": "hard",
            "score_aggregation": "rank",
            "uncertainty_weight": 1.0,
            "group_allocation": "none",
        },
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

# Strategies left out of a data set, and why (stated in the report).
EXCLUDE = {}

# Per data set: strategies run with other settings, and why (stated in the report).
OVERRIDES = {
    "digits": {
        "fal": (
            ("fal", {"n_candidates": 10, "refit_epochs": 1, "refit": "standard"}),
            "FAL's refits are standard (not adversarial) fits on digits: with "
            "adversarial SmallCNN refits for every (candidate, class) a query took "
            "about 100 s on 2 cores; the candidate set is bounded as on the "
            "tabular sets (10 candidates, at least the batch size)",
        ),
    },
}

DEFAULT_SEEDS = {"quality": 10, "ablation": 5}

# On two classes margin and least confidence rank the pool exactly as entropy
# does (all three are monotone in |p - 1/2|, with the same seeded tie-breaks):
# the 5-seed run gave identical numbers. They run on digits (10 classes) only.
SAME_AS_ENTROPY_ON_TWO_CLASSES = ("margin", "least_confidence")
BINARY = ("synthetic", "adult", "adult_race", "german", "german_age")
# Run first: JIN, the paper's setting and the strongest baselines.
PRIORITY = ("jin", "entropy", "random", "jin_bootstrap", "worst_group", "jin_paper")
EVAL_ATTACKS = ("pgd", "apgd-ce", "apgd-dlr")


def _eval_attack(name):
    """``None`` (the runner's PGD-20) or an APGD evaluation attack."""
    if name == "pgd":
        return None
    from skfral.nn import APGD  # added by issue 15; fails clearly where absent

    return APGD(loss=name.split("-", 1)[1])


def _out_dir(args, dataset, attack="pgd", seed=None, strategy=None):
    """One folder per (suite, attack, data set, seed, strategy): any order, any subset."""
    suite = args.suite if attack == "pgd" else f"{args.suite}_{attack}"
    folder = Path(args.out) / suite / dataset
    if seed is not None:
        folder = folder / f"seed_{seed}"
    return folder if strategy is None else folder / strategy


def _datasets(args):
    return args.datasets.split(",") if args.datasets else list(SUITES[args.suite][1])


def _strategies(args, dataset):
    strategies = dict(SUITES[args.suite][0])
    if args.suite == "quality":
        for name, (spec, _) in OVERRIDES.get(dataset, {}).items():
            strategies[name] = spec
        for name in EXCLUDE.get(dataset, {}):
            strategies.pop(name, None)
        if dataset in BINARY:
            for name in SAME_AS_ENTROPY_ON_TWO_CLASSES:
                strategies.pop(name, None)
    if args.strategies:
        keep = args.strategies.split(",")
        strategies = {k: v for k, v in strategies.items() if k in keep}
    return strategies


REUSE_MARK = "reused_from.json"


def _parse_reuse(values):
    """``--reuse DIR:SOURCE=NAME,...`` -> [(folder, {NAME: SOURCE})]."""
    parsed = []
    for value in values or ():
        folder, sep, pairs = value.rpartition(":")
        mapping = dict(pair.split("=", 1) for pair in pairs.split(",") if "=" in pair)
        if (
            not sep
            or not folder
            or not mapping
            or len(mapping) != len(pairs.split(","))
        ):
            raise SystemExit(
                f"--reuse {value!r}: expected FOLDER:SOURCE=NAME[,SOURCE=NAME...], "
                "e.g. benchmarks/runs/jin_soft/jin_allocation:jin_auto_default=jin"
            )
        parsed.append((Path(folder), {name: src for src, name in mapping.items()}))
    return parsed


def _same_setting(config, args, dataset, seed):
    """Whether another run's cell ran this suite's setting (strategy aside)."""
    want = dict(
        datasets={dataset: dataset},
        seeds=[seed],
        n_rounds=args.rounds,
        budget=args.budget,
        initial_size=args.initial_size,
        estimator="default",
        estimator_params={},
        eval_attack=None,
        warm_start=False,
        **SIZES.get(dataset, DEFAULT_SIZES),
    )
    return args.eval_attack == "pgd" and all(
        config.get(k) == v for k, v in want.items()
    )


def _reuse_cell(args, dataset, seed, name, target):
    """Copy a finished cell of another run under ``name``; whether it was copied.

    Only by the explicit mapping of ``--reuse`` (the person running the suite
    states that SOURCE ran what NAME means here, e.g. the same parameters
    under a changed default), and only when the setting (data set, seed,
    rounds, budget, sizes, estimator, attack) is this suite's and every round
    finished. The copy is renamed throughout (results, round records,
    manifest key; the manifest keeps the parameters the source ran with) and
    marked with ``reused_from.json``; it is written beside ``target`` and
    moved into place at the end.
    """
    import shutil

    if (target / "results.csv").exists() or not args.reuse:
        return False
    for folder, mapping in args.reuse:
        source_name = mapping.get(name)
        if source_name is None:
            continue
        source = folder / dataset / f"seed_{seed}" / source_name
        try:
            manifest = json.loads((source / "manifest.json").read_text())
            rounds = pd.read_csv(source / "results.csv")["round"]
        except (FileNotFoundError, KeyError, ValueError):
            continue
        config = manifest["config"]
        if not _same_setting(config, args, dataset, seed):
            continue
        if sorted(rounds.unique()) != list(range(args.rounds + 1)):
            continue
        tmp = target.with_name(f".{target.name}.reuse")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        cells = tmp / "cells" / dataset
        (cells / source_name).rename(cells / name)
        for record in sorted((cells / name).glob("seed_*/round_*.json")):
            data = json.loads(record.read_text())
            data["row"]["strategy"] = name
            record.write_text(json.dumps(data))
        results = pd.read_csv(tmp / "results.csv")
        results["strategy"] = name
        results.to_csv(tmp / "results.csv", index=False)
        spec = config["strategies"].pop(source_name)
        config["strategies"][name] = spec
        if "strategies" in (manifest.get("last_grid") or {}):
            manifest["last_grid"]["strategies"] = [name]
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        (tmp / REUSE_MARK).write_text(
            json.dumps(
                {
                    "source": str(source),
                    "source_name": source_name,
                    "ran": spec,
                    "skfral_version": manifest.get("skfral_version"),
                },
                indent=2,
            )
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(target)
        return True
    return False


def _run_one(args, dataset, seed, strategy, spec):
    t0 = time.perf_counter()
    target = _out_dir(args, dataset, args.eval_attack, seed, strategy)
    if (target / REUSE_MARK).exists() or _reuse_cell(
        args, dataset, seed, strategy, target
    ):
        if not args.quiet:
            print(f"{dataset} seed {seed} {strategy}: reused", file=sys.stderr)
        return
    run_fral(
        [dataset],
        {strategy: spec},
        seeds=[seed],
        n_rounds=args.rounds,
        budget=args.budget,
        initial_size=args.initial_size,
        out_dir=target,
        eval_attack=_eval_attack(args.eval_attack),
        n_jobs=1,
        torch_threads=1,
        overwrite=args.overwrite,
        progress=False,
        **SIZES.get(dataset, DEFAULT_SIZES),
    )
    if not args.quiet:
        print(
            f"{dataset} seed {seed} {strategy}: {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def _tasks(args):
    """(data set, seed, strategy) cells, the most telling first.

    The strategies of ``PRIORITY`` (JIN, the paper's setting and the
    strongest baselines) on every data set first, data set by data set (in
    ``--datasets`` order) and seed by seed, then the other strategies the
    same way: complete paired seeds of JIN against the strongest baselines
    accumulate on every data set before the rest.
    """
    tasks = []
    for first in (True, False):
        for dataset in _datasets(args):
            strategies = _strategies(args, dataset)
            order = [s for s in PRIORITY if s in strategies]
            order += [s for s in strategies if s not in order]
            for seed in range(args.seed_from, args.seeds):
                for name in order:
                    if (name in PRIORITY) == first:
                        tasks.append((dataset, seed, name, strategies[name]))
    return tasks


def run_suite(args):
    """Every (data set, seed, strategy) cell in its own resumable folder."""
    import joblib

    tasks = _tasks(args)
    joblib.Parallel(n_jobs=args.n_jobs, batch_size=1)(
        joblib.delayed(_run_one)(args, *task) for task in tasks
    )


METRICS = (
    "worst_group_robust_accuracy",
    "worst_group_robust_balanced_accuracy",
    "worst_group_standard_accuracy",
    "worst_group_standard_balanced_accuracy",
)
SHORT = {
    "worst_group_robust_accuracy": "WG robust",
    "worst_group_robust_balanced_accuracy": "WG bal. robust",
    "worst_group_standard_accuracy": "WG std",
    "worst_group_standard_balanced_accuracy": "WG bal. std",
}
FOCUS = ("jin", "jin_paper")
N_BOOT = 10_000


def load_partial(args, attack="pgd"):
    """What ``--out`` holds for the suite: (complete rows, incomplete cells)."""
    frames, expected = [], []
    for dataset in _datasets(args):
        strategies = _strategies(args, dataset)
        expected += [
            (dataset, s, seed) for s in strategies for seed in range(args.seeds)
        ]
        for manifest in sorted(
            _out_dir(args, dataset, attack).glob("**/manifest.json")
        ):
            try:
                frames.append(load_results(manifest.parent))
            except FileNotFoundError:
                continue
    if not frames:
        return None, None
    df = pd.concat(frames, ignore_index=True)
    # a cell found in two folders (an earlier layout) counts once
    df = df.drop_duplicates(["dataset", "strategy", "seed", "round"])
    wanted = {(d, s) for d, s, _ in expected}
    keep = [
        (d, s) in wanted for d, s in zip(df["dataset"], df["strategy"], strict=True)
    ]
    df = df[pd.Series(keep, index=df.index) & (df["seed"] < args.seeds)]
    return complete_rounds(df, n_rounds=args.rounds, expected_cells=expected)


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


def _md(header, rows):
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _ci(mean, low, high, signed=False):
    if not pd.notna(mean):
        return "-"
    f = "+.3f" if signed else ".3f"
    if pd.notna(low) and pd.notna(high):
        return f"{mean:{f}} [{low:{f}}, {high:{f}}]"
    return f"{mean:{f}}"


def verdict_mark(outcome, note, *, tie=""):
    """The cell mark of a comparison: **W**, **L**, ``tie``, or too few seeds."""
    if outcome in ("win", "loss"):
        return {"win": "**W**", "loss": "**L**"}[outcome]
    if isinstance(note, str) and note.startswith(TOO_FEW_SEEDS):
        return "T (too few seeds)"
    return tie


def cell_values(df):
    """The per-round values the tables are made of: what ``--from-csv`` reads.

    One row per (dataset, strategy, seed, round) with the summary metrics,
    the labels, the reference levels and the query seconds: enough to
    regenerate every table and learning curve without the run folders.
    """
    keep = ["dataset", "strategy", "base_strategy", "seed", "round", "n_labels"]
    keep += list(SUMMARY_METRICS) + list(METRICS) + list(VALIDATION_COLUMNS)
    keep += [
        "majority_class_level",
        "floor_accuracy",
        "floor_worst_group_accuracy",
        "floor_balanced_accuracy",
        "query_seconds",
    ]
    keep = list(dict.fromkeys(c for c in keep if c in df.columns))
    return df[keep].sort_values(["dataset", "strategy", "seed", "round"])


def completeness(df, incomplete, args):
    """Which cells and seeds the tables rest on."""
    lines = []
    for dataset in _datasets(args):
        part = df[df["dataset"] == dataset] if df is not None else df
        n_strategies = len(_strategies(args, dataset))
        if part is None or part.empty:
            lines.append(f"- {dataset}: no complete cell yet.")
            continue
        cells = part.groupby(["strategy", "seed"]).ngroups
        seeds_all = [
            seed
            for seed, g in part.groupby("seed")
            if g["strategy"].nunique() == n_strategies
        ]
        text = (
            f"- {dataset}: {cells} of {n_strategies * args.seeds} cells complete; "
            f"seeds complete for every strategy: {_seeds(seeds_all)}"
        )
        inc = (
            incomplete[incomplete["dataset"] == dataset]
            if incomplete is not None
            else []
        )
        if len(inc):
            started = inc[inc["rounds_done"] > 0]
            text += (
                f"; {len(inc)} cell(s) not finished ({len(started)} started, "
                "left out of the tables)"
            )
        lines.append(text + ".")
    return lines


def _seeds(seeds):
    if not seeds:
        return "none"
    seeds = sorted(int(s) for s in seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}-{seeds[-1]} ({len(seeds)})"
    return ", ".join(map(str, seeds)) + f" ({len(seeds)})"


def dataset_section(sub, dataset, args, apgd=None):
    """Tables of one data set: values with CIs, W/T/L, JIN's paired differences."""
    stats = dict(n_boot=N_BOOT, random_state=0)
    metrics = [m for m in METRICS if m in sub.columns]
    cis = confidence_intervals(sub, metrics=metrics, **stats)
    comps = paired_comparisons(sub, metrics=metrics, **stats)
    wtl = win_tie_loss(comps)
    strategies = list(dict.fromkeys(sub["strategy"]))
    seeds = sub.groupby("strategy")["seed"].nunique()
    parts = [f"### {dataset}", ""]
    for agg, title in (("rounds", "mean over rounds"), ("final", "final round")):
        header = ["strategy", "seeds"] + [SHORT[m] for m in metrics]
        if agg == "rounds":
            header.append("query s")
        rows = []
        q = sub.groupby("strategy")["query_seconds"].mean()
        for strategy in strategies:
            row = [strategy, int(seeds[strategy])]
            for m in metrics:
                r = cis[
                    (cis["strategy"] == strategy)
                    & (cis["metric"] == m)
                    & (cis["aggregate"] == agg)
                ].iloc[0]
                row.append(_ci(r["mean"], r["ci_low"], r["ci_high"]))
            if agg == "rounds":
                row.append(f"{q.get(strategy, float('nan')):.2f}")
            rows.append(row)
        parts += [
            f"#### Worst-group accuracy, {title}: mean over seeds [95% bootstrap CI]",
            "",
            _md(header, rows),
            "",
        ]
    header = ["strategy"] + [SHORT[m] for m in metrics]
    rows = []
    for strategy in strategies:
        row = [strategy]
        for m in metrics:
            r = wtl[
                (wtl["strategy"] == strategy)
                & (wtl["metric"] == m)
                & (wtl["aggregate"] == "rounds")
            ].iloc[0]
            row.append(f"{r['wins']} / {r['ties']} / {r['losses']}")
        rows.append(row)
    parts += [
        "#### Wins / ties / losses against every other strategy (mean over rounds)",
        "",
        VERDICT_RULE,
        "",
        _md(header, rows),
        "",
    ]
    for focus, (agg, title) in [
        (f, a)
        for f in FOCUS
        if f in strategies
        for a in (("rounds", "mean over rounds"), ("final", "final round"))
    ]:
        header = ["baseline"] + [SHORT[m] for m in metrics]
        rows = []
        notes = {}
        for baseline in strategies:
            if baseline == focus:
                continue
            row = [baseline]
            for m in metrics:
                r = comps[
                    (comps["strategy"] == focus)
                    & (comps["baseline"] == baseline)
                    & (comps["metric"] == m)
                    & (comps["aggregate"] == agg)
                ].iloc[0]
                p = "-" if not pd.notna(r["p_value"]) else f"{r['p_value']:.3f}"
                mark = verdict_mark(r["outcome"], r["note"])
                mark = f" {mark}" if mark else ""
                row.append(
                    f"{_ci(r['mean'], r['ci_low'], r['ci_high'], signed=True)} "
                    f"p={p} ({r['n_better']}/{r['n_seeds']}){mark}"
                )
                if "zero difference" in (r["note"] or ""):
                    part = r["note"].split("; ")[-1]
                    notes.setdefault(baseline, dict.fromkeys([]))[part] = None
            rows.append(row)
        parts += [
            f"#### {focus} minus each baseline, {title}: paired difference "
            "[95% t CI], Wilcoxon p, (seeds better / seeds), W = win, L = loss",
            "",
            _md(header, rows),
            "",
        ]
        if notes:
            text = "; ".join(f"{b}: {', '.join(n)}" for b, n in notes.items())
            parts += [f"Test notes (any metric): {text}.", ""]
    if apgd is not None and not apgd.empty:
        parts += apgd_section(sub, apgd, dataset)
    return parts


BAR_BASELINES = (
    "random",
    "entropy",
    "margin",
    "least_confidence",
    "coreset",
    "badge",
    "worst_group",
    "fal",
)
BAR_METRICS = ("worst_group_robust_accuracy", "worst_group_robust_balanced_accuracy")


def bar_section(df, lead="jin"):
    """Issue 25's bar, checked on the tables: the lead's losses and wins.

    Bar: no loss against a baseline (``BAR_BASELINES``) on any data set, on
    worst-group robust accuracy and its balanced version, mean over rounds
    and final round; a win against random on at least four data sets and
    against entropy on at least two (worst-group robust, mean over rounds).
    Verdicts are :func:`skfral.experiment.verdict`'s; other variants of JIN
    are listed apart (they are not baselines).
    """
    comps = paired_comparisons(
        df[df["strategy"].isin((lead, *BAR_BASELINES, *FOCUS, "jin_bootstrap"))],
        metrics=[m for m in BAR_METRICS if m in df.columns],
        n_boot=N_BOOT,
        random_state=0,
    )
    comps = comps[comps["strategy"] == lead]
    losses = comps[comps["outcome"] == "loss"]
    base_losses = losses[losses["baseline"].isin(BAR_BASELINES)]
    other_losses = losses[~losses["baseline"].isin(BAR_BASELINES)]
    main = comps[
        (comps["metric"] == "worst_group_robust_accuracy")
        & (comps["aggregate"] == "rounds")
        & (comps["outcome"] == "win")
    ]
    win_random = sorted(main[main["baseline"] == "random"]["dataset"])
    win_entropy = sorted(main[main["baseline"] == "entropy"]["dataset"])

    def _list(rows):
        return (
            "; ".join(
                f"{r.dataset} {r.baseline} {SHORT.get(r.metric, r.metric)} "
                f"({r.aggregate}) {r.mean:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
                for r in rows.itertuples()
            )
            or "none"
        )

    ok = base_losses.empty and len(win_random) >= 4 and len(win_entropy) >= 2
    return "\n".join(
        [
            f"#### The bar of issue 25 for `{lead}`: {'met' if ok else 'not met'}",
            "",
            f"- Losses to a baseline ({', '.join(BAR_BASELINES)}), WG robust and "
            f"WG bal. robust, mean over rounds and final round: {_list(base_losses)}.",
            f"- Wins against random (WG robust, mean over rounds): "
            f"{len(win_random)} data set(s) ({', '.join(win_random) or 'none'}; "
            "at least 4 wanted).",
            f"- Wins against entropy: {len(win_entropy)} data set(s) "
            f"({', '.join(win_entropy) or 'none'}; at least 2 wanted).",
            f"- Losses to other variants of JIN (not baselines): {_list(other_losses)}.",
        ]
    )


def _final_state(args, dataset, strategy, seed):
    """The saved final-round net of a cell (any folder layout under --out)."""
    name = f"state_{args.rounds:03d}.pt"
    pattern = f"**/cells/*/*/seed_{seed}/{name}"
    for path in sorted(_out_dir(args, dataset).glob(pattern)):
        record = path.with_name(f"round_{args.rounds:03d}.json")
        row = json.loads(record.read_text())["row"]
        if row["dataset"] == dataset and row["strategy"] == strategy:
            return path, row
    return None, None


def apgd_final(args, df):
    """PGD-20, APGD-CE and APGD-T (DLR) on each complete cell's final-round net.

    The net is rebuilt from its checkpoint (``state_<R>.pt``) and the test set
    from the paired split (``fral_split`` with ``derive_seed(seed, 0,
    "split")``); PGD-20 must reproduce the recorded value exactly, which
    checks the reconstruction. Cached in ``<out>/<suite>/apgd_final.csv``.
    """
    from skfral.datasets import fral_split
    from skfral.experiment import derive_seed, load_dataset
    from skfral.experiment._catalog import build_estimator
    from skfral.metrics import fairness_report
    from skfral.nn import APGD, attack_from_net, final_net
    from skfral.nn._checkpoint import load_checkpoint, set_net_state, set_torch_threads

    set_torch_threads(1)
    cache = Path(args.out) / args.suite / "apgd_final.csv"
    done = pd.read_csv(cache) if cache.is_file() else pd.DataFrame()
    have = set()
    if len(done):
        have = set(zip(done["dataset"], done["strategy"], done["seed"], strict=True))
    cells = df[["dataset", "strategy", "seed"]].drop_duplicates()
    # --apgd-only DATASET=STRATEGY,...[:SEEDS]: bound the pass on a data set
    for spec in args.apgd_only or ():
        dataset, _, rest = spec.partition("=")
        names, _, n_seeds = rest.partition(":")
        skip = (cells["dataset"] == dataset) & ~cells["strategy"].isin(names.split(","))
        if n_seeds:
            skip |= (cells["dataset"] == dataset) & (cells["seed"] >= int(n_seeds))
        cells = cells[~skip]
    data = {}
    for dataset, strategy, seed in cells.itertuples(index=False):
        if (dataset, strategy, int(seed)) in have:
            continue
        path, row = _final_state(args, dataset, strategy, int(seed))
        if path is None:
            continue
        if dataset not in data:
            data[dataset] = load_dataset(dataset)
        X, y, s = data[dataset]
        sizes = SIZES.get(dataset, DEFAULT_SIZES)
        parts = fral_split(
            X,
            y,
            s,
            initial_size=args.initial_size,
            val_size=sizes["val_size"],
            test_size=sizes["test_size"],
            random_state=derive_seed(int(seed), 0, "split"),
        )
        est = build_estimator(None, X, np.unique(y), derive_seed(int(seed), 0, "model"))
        set_net_state(est, load_checkpoint(path)["robust"])
        net = final_net(est)
        eval_seed = derive_seed(int(seed), args.rounds, "eval")
        pgd = attack_from_net(net, n_steps=max(20, net.attack_n_steps))
        pgd.set_params(random_state=eval_seed)
        clip = dict(clip_min=net.attack_clip_min, clip_max=net.attack_clip_max)
        attacks = {
            "pgd20": pgd,
            "apgd_ce": APGD(
                loss="ce", eps=net.attack_eps, random_state=eval_seed, **clip
            ),
            "apgd_dlr": APGD(
                loss="dlr", eps=net.attack_eps, random_state=eval_seed, **clip
            ),
        }
        out = {"dataset": dataset, "strategy": strategy, "seed": int(seed)}
        t0 = time.perf_counter()
        for key, attack in attacks.items():
            rep = fairness_report(
                est,
                parts.X_test,
                parts.y_test,
                sensitive_features=parts.s_test,
                attack=attack,
            )
            out[f"wg_robust_{key}"] = rep["worst_group_robust_accuracy"]
            out[f"wg_bal_robust_{key}"] = rep["worst_group_robust_balanced_accuracy"]
        out["recorded_pgd20"] = row["worst_group_robust_accuracy"]
        out["seconds"] = time.perf_counter() - t0
        # saved after every cell: an interrupted pass keeps what it attacked
        done = pd.concat([done, pd.DataFrame([out])], ignore_index=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        done.to_csv(cache, index=False)
    return done


def apgd_final_section(table, dataset):
    """Final-round worst-group robust accuracy under PGD-20, APGD-CE and APGD-T."""
    part = table[table["dataset"] == dataset]
    if part.empty:
        return []
    mismatch = (part["wg_robust_pgd20"] - part["recorded_pgd20"]).abs().max()
    rows = []
    for strategy, g in part.groupby("strategy", sort=False):
        worst = g[["wg_robust_apgd_ce", "wg_robust_apgd_dlr"]].min(axis=1)
        gap = g["wg_robust_pgd20"] - worst
        rows.append(
            [
                strategy,
                len(g),
                f"{g['wg_robust_pgd20'].mean():.3f}",
                f"{g['wg_robust_apgd_ce'].mean():.3f}",
                f"{g['wg_robust_apgd_dlr'].mean():.3f}",
                f"{gap.mean():+.3f} (max {gap.max():+.3f})",
                f"{g['wg_bal_robust_pgd20'].mean():.3f}",
                f"{g[['wg_bal_robust_apgd_ce', 'wg_bal_robust_apgd_dlr']].min(axis=1).mean():.3f}",
            ]
        )
    return [
        "#### Final round under a stronger attack: worst-group robust accuracy, "
        "PGD-20 against APGD-CE and APGD-T (targeted DLR), mean over seeds",
        "",
        "The final-round nets reloaded from their checkpoints; APGD with 100 "
        "steps, the training eps and clip range. `PGD-20 minus APGD`: per seed, "
        "PGD-20 minus the worse of the two APGD attacks (how much PGD-20 "
        f"overstates). Reconstruction check: PGD-20 here minus the run's "
        f"recorded PGD-20, largest absolute difference {mismatch:.2g}.",
        "",
        _md(
            [
                "strategy",
                "seeds",
                "PGD-20",
                "APGD-CE",
                "APGD-T",
                "PGD-20 minus APGD",
                "bal. PGD-20",
                "bal. APGD (worse)",
            ],
            rows,
        ),
        "",
    ]


def apgd_section(pgd, apgd, dataset):
    """Worst-group robust accuracy under PGD-20 and under APGD, same cells."""
    m = "worst_group_robust_accuracy"
    keys = ["strategy", "seed", "round"]
    both = pgd[keys + [m]].merge(apgd[keys + [m]], on=keys, suffixes=("_pgd", "_apgd"))
    if both.empty:
        return []
    per = both.groupby(["strategy", "seed"])[[f"{m}_pgd", f"{m}_apgd"]].mean()
    rows = []
    for strategy, g in per.groupby("strategy", sort=False):
        gap = g[f"{m}_pgd"] - g[f"{m}_apgd"]
        rows.append(
            [
                strategy,
                len(g),
                f"{g[f'{m}_pgd'].mean():.3f}",
                f"{g[f'{m}_apgd'].mean():.3f}",
                f"{gap.mean():+.3f} (max {gap.max():+.3f})",
            ]
        )
    return [
        f"#### {dataset}: worst-group robust accuracy under PGD-20 and APGD "
        "(mean over rounds; same cells)",
        "",
        _md(["strategy", "seeds", "PGD-20", "APGD", "PGD-20 minus APGD"], rows),
        "",
    ]


def headline(df, args):
    """JIN's W/T/L per data set on the two robust worst-group metrics."""
    rows = []
    for dataset, sub in df.groupby("dataset", sort=False):
        comps = paired_comparisons(
            sub,
            metrics=METRICS[:2],
            aggregates="rounds",
            n_boot=N_BOOT,
            random_state=0,
        )
        wtl = win_tie_loss(comps)
        counts = sub.groupby("strategy")["seed"].nunique()
        n_seeds = (
            str(counts.min())
            if counts.min() == counts.max()
            else f"{counts.min()}-{counts.max()}"
        )
        for focus in [f for f in FOCUS if f in set(sub["strategy"])]:
            cells = []
            for m in METRICS[:2]:
                r = wtl[(wtl["strategy"] == focus) & (wtl["metric"] == m)].iloc[0]
                cells.append(f"{r['wins']} / {r['ties']} / {r['losses']}")
            lost_to = comps[(comps["strategy"] == focus) & (comps["outcome"] == "loss")]
            lost = sorted(set(lost_to["baseline"]))
            rows.append([dataset, focus, n_seeds] + cells + [", ".join(lost) or "-"])
    return _md(
        [
            "data set",
            "strategy",
            "seeds (per strategy)",
            "WG robust W/T/L",
            "WG bal. robust W/T/L",
            "loses to (either metric)",
        ],
        rows,
    )


LEAD_BEGIN, LEAD_END = ".. begin-results-table\n", ".. end-results-table\n"
LEAD_FIGURE = ROOT / "docs" / "_static" / "quality_summary.png"
# The lead tables; `python -m benchmarks.readme_table` copies the first into README.rst.
README = ROOT / "docs" / "user_guide" / "lead_tables.inc"


def _rst_table(header, rows, title):
    """A ``list-table`` directive (renders on GitHub and in Sphinx)."""
    out = [f".. list-table:: {title}", "   :header-rows: 1", "   :stub-columns: 1", ""]
    for row in [header, *rows]:
        out.append(f"   * - {row[0]}")
        out += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(out)


def lead_summary(df, lead="jin"):
    """RST tables: ``lead`` minus every other strategy, per data set, with CIs.

    One table per robust worst-group metric (mean over rounds): each cell is
    the paired difference by seed with its 95% t CI and the verdict
    (``skfral.experiment.verdict``): W, T (or "T (too few seeds)") or L; the
    last row counts them. Strategies not run on a
    data set say why (identical to entropy on two classes) or "not run yet".
    """
    datasets = [d for d in SUITES["quality"][1] if d in set(df["dataset"])]
    datasets = [
        d for d in datasets if lead in set(df.loc[df["dataset"] == d, "strategy"])
    ]
    comps = {
        d: paired_comparisons(
            df[df["dataset"] == d],
            metrics=METRICS[:2],
            aggregates="rounds",
            n_boot=N_BOOT,
            random_state=0,
        )
        for d in datasets
    }
    baselines = [s for s in QUALITY if s != lead]
    present = set(df["strategy"])
    baselines += sorted(present - set(baselines) - {lead})
    tables = []
    for m in METRICS[:2]:
        header, totals = ["baseline"], ["W / T / L"]
        columns, lead_seeds = {}, {}
        for d in datasets:
            c = comps[d]
            c = c[(c["strategy"] == lead) & (c["metric"] == m)]
            columns[d] = c.set_index("baseline")
            mine = df[(df["dataset"] == d) & (df["strategy"] == lead)]
            lead_seeds[d] = mine["seed"].nunique()
            header.append(f"{d} ({lead_seeds[d]} seeds)")
            counts = c["outcome"].value_counts()
            totals.append(
                f"{counts.get('win', 0)} / {counts.get('tie', 0)} / "
                f"{counts.get('loss', 0)}"
            )
        rows = []
        for b in baselines:
            row = [f"``{b}``"]
            for d in datasets:
                col = columns[d]
                if b in col.index:
                    r = col.loc[b]
                    mark = verdict_mark(r["outcome"], r["note"], tie="T")
                    text = _ci(r["mean"], r["ci_low"], r["ci_high"], signed=True)
                    seeds = int(r["n_seeds"])
                    extra = f" ({seeds} seeds)" if seeds != lead_seeds[d] else ""
                    row.append(f"{text} {mark}{extra}")
                elif d in BINARY and b in SAME_AS_ENTROPY_ON_TWO_CLASSES:
                    row.append("as entropy (two classes)")
                else:
                    row.append("not run yet")
            if any(cell != "not run yet" for cell in row[1:]):
                rows.append(row)
        rows.append(totals)
        tables.append(
            _rst_table(
                header,
                rows,
                f"``{lead}`` minus each baseline: {SHORT[m]} accuracy, mean over "
                "rounds, paired by seed [95% t CI]; W / L: t interval and "
                "Wilcoxon test agree, at least 6 seeds",
            )
        )
    return "\n\n".join(tables) + "\n"


def lead_figure(df, path=LEAD_FIGURE, lead="jin"):
    """One panel per data set: worst-group robust accuracy against labels.

    Mean over seeds with a band of one standard deviation; one colour per
    strategy across panels; the lead strategy drawn thick; dashed, the
    majority-class level; dash-dot, the majority floor (when recorded).
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metric = "worst_group_robust_accuracy"
    datasets = [d for d in SUITES["quality"][1] if d in set(df["dataset"])]
    order = [s for s in QUALITY if s in set(df["strategy"])]
    order += sorted(set(df["strategy"]) - set(order))
    palette = colormaps["tab20"].colors
    colour = {s: palette[(2 * k) % 20 + (2 * k) // 20] for k, s in enumerate(order)}
    ncols = min(3, len(datasets))
    nrows = -(-len(datasets) // ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.4 * nrows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    handles = {}
    for ax, d in zip(axes, datasets, strict=False):
        sub = df[df["dataset"] == d]
        for s in [s for s in order if s in set(sub["strategy"])]:
            curve = sub[sub["strategy"] == s].groupby("n_labels")[metric]
            mean, std = curve.mean(), curve.std().fillna(0.0)
            (line,) = ax.plot(
                mean.index,
                mean.to_numpy(),
                color=colour[s],
                lw=2.6 if s == lead else 1.2,
                zorder=3 if s == lead else 2,
                label=s,
            )
            ax.fill_between(
                mean.index,
                (mean - std).to_numpy(),
                (mean + std).to_numpy(),
                color=colour[s],
                alpha=0.12 if s == lead else 0.05,
                lw=0,
            )
            handles.setdefault(s, line)
        if "majority_class_level" in sub:
            level = sub["majority_class_level"].mean()
            handles.setdefault(
                "majority-class level",
                ax.axhline(level, color="0.3", ls="--", lw=1, label="majority level"),
            )
        floor = "floor_worst_group_accuracy"
        if floor in sub and sub[floor].notna().any():
            curve = sub.groupby("n_labels")[floor].mean()
            handles.setdefault(
                "majority floor",
                ax.plot(
                    curve.index,
                    curve.to_numpy(),
                    color="black",
                    ls="-.",
                    lw=1,
                    label="majority floor",
                )[0],
            )
        n = sub.groupby("strategy")["seed"].nunique().max()
        ax.set_title(f"{d} (up to {n} seeds)", fontsize=10)
        ax.set_xlabel("labels used")
        ax.set_ylabel("WG robust accuracy")
        ax.grid(alpha=0.3)
    for ax in axes[len(datasets) :]:
        ax.set_visible(False)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(7, len(handles)),
        fontsize=8,
        frameon=False,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def update_readme(table, readme=README):
    """Replace the README block between the results-table markers."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(LEAD_BEGIN), text.index(LEAD_END)
    text = text[: start + len(LEAD_BEGIN)] + "\n" + table + "\n" + text[end:]
    readme.write_text(text, encoding="utf-8")


def report(args):
    if args.from_csv:
        df, incomplete = complete_rounds(pd.read_csv(args.from_csv))
        args.with_apgd, args.apgd_final = None, False  # those need the run folders
    else:
        df, incomplete = load_partial(args)
    if df is None or df.empty:
        return "No complete cell yet under --out."
    apgd = None
    if args.with_apgd:
        apgd, _ = load_partial(args, attack=args.with_apgd)
    final_apgd = apgd_final(args, df) if args.apgd_final else None
    parts = [
        f"Command: `python -m benchmarks.bench_quality {' '.join(sys.argv[1:])}`  ",
        machine_line(),
        "",
        f"Up to {args.seeds} paired seeds, {args.rounds} rounds of {args.budget} labels "
        f"after {args.initial_size}; PGD-AT (PGD-10) nets, PGD-20 evaluation on the "
        "test set. Each (strategy, seed) curve is reduced to its mean over rounds "
        "0..R (and its final round); the tables give the mean over seeds with a 95% "
        "percentile bootstrap CI (10,000 resamples of the seeds, seeded), paired "
        "differences by seed with their 95% t CI and a two-sided exact Wilcoxon "
        "signed-rank test, and wins / ties / losses. Only complete cells are used; "
        f"per-round values in results/{args.suite}_cells.csv. Query "
        "seconds are wall-clock times per query on the machine above, shared with "
        "other jobs while this ran: compare them within one table only.",
        "",
        f"Verdicts (skfral.experiment.verdict): {VERDICT_RULE}",
        "",
        *([args.note, ""] if args.note else []),
        "Completeness at the time of writing:",
        "",
        *completeness(df, incomplete, args),
        "",
        "Majority-class reference (worst-group accuracy of predicting each group's "
        "majority class), test set; the balanced trivial level is 1/k (0.5 for two "
        "classes, 0.1 on digits):",
        "",
    ]
    for name, level in reference_levels(df).items():
        parts.append(f"- {name}: {level:.3f}")
    if args.suite == "quality":
        for dataset, why in EXCLUDE.items():
            for strategy, reason in why.items():
                parts.append(f"\nNot run: {strategy} on {dataset}: {reason}.")
        parts.append(
            f"\nNot run on the two-class data sets ({', '.join(BINARY)}): "
            f"{', '.join(SAME_AS_ENTROPY_ON_TWO_CLASSES)}. On two classes they rank "
            "the pool exactly as entropy does (all three are monotone in |p - 1/2|, "
            "with the same seeded tie-breaks; the 5-seed run gave identical numbers), "
            "so entropy's rows stand for them there; they run on digits."
        )
        for dataset, over in OVERRIDES.items():
            for strategy, (_, reason) in over.items():
                parts.append(f"\nSetting: {strategy} on {dataset}: {reason}.")
        parts += [
            "",
            "#### JIN against every other strategy (mean over rounds; W/T/L out of "
            "the other strategies)",
            "",
            headline(df, args),
            "",
            bar_section(df, lead=args.lead),
        ]
    FIGURES.mkdir(parents=True, exist_ok=True)
    for dataset, sub in df.groupby("dataset", sort=False):
        sub_apgd = None if apgd is None else apgd[apgd["dataset"] == dataset]
        parts += [""] + dataset_section(sub, dataset, args, sub_apgd)
        if final_apgd is not None and len(final_apgd):
            parts += apgd_final_section(final_apgd, dataset)
        png = FIGURES / f"{args.suite}_{dataset}.png"
        plot_learning_curves(sub, png)
        parts += [f"![{dataset} learning curves](figures/{png.name})"]
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
    parser.add_argument(
        "--seeds", type=int, default=None, help="default: 10 (quality), 5 (ablation)"
    )
    parser.add_argument(
        "--seed-from",
        type=int,
        default=0,
        help="run only seeds SEED_FROM..SEEDS-1 (a second process on the same "
        "--out takes other seeds; the report always reads seeds 0..SEEDS-1)",
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--initial-size", type=int, default=40)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "runs"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--write", action="store_true", help="write benchmarks/results/<suite>.md"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute when --out holds another configuration",
    )
    parser.add_argument(
        "--eval-attack",
        choices=EVAL_ATTACKS,
        default="pgd",
        help="evaluation attack of this run (APGD runs go to their own folder)",
    )
    parser.add_argument(
        "--with-apgd",
        choices=EVAL_ATTACKS[1:],
        default=None,
        help="add the APGD column from a run made with --eval-attack",
    )
    parser.add_argument(
        "--apgd-final",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also attack every complete cell's final-round net with APGD-CE and "
        "APGD-T (reloaded from its checkpoint; cached under --out); default: on "
        "for the quality suite",
    )
    parser.add_argument(
        "--apgd-only",
        action="append",
        metavar="DATASET=STRATEGY,...[:SEEDS]",
        help="attack only these strategies' final nets (and only the first SEEDS "
        "seeds) on DATASET; repeatable. Cached cells are always reported. APGD-T "
        "tries 9 target classes on digits, about 1,000 attack steps per net",
    )
    parser.add_argument(
        "--reuse",
        action="append",
        metavar="FOLDER:SOURCE=NAME,...",
        help="copy finished cells of another run (FOLDER/DATASET/seed_N/SOURCE, "
        "e.g. a bench_jin_allocation run's jin_allocation folder) as strategy NAME "
        "instead of computing them, when their setting is this suite's; you state "
        "that SOURCE ran what NAME means here. Repeatable; the copies carry "
        "reused_from.json",
    )
    parser.add_argument("--note", default=None, help="a line added to the report")
    parser.add_argument(
        "--from-csv",
        default=None,
        help="report from a per-round CSV written by --write "
        "(benchmarks/results/<suite>_cells.csv) instead of the run folders; "
        "implies --report-only (no APGD columns: they need the saved nets)",
    )
    parser.add_argument(
        "--lead-summary",
        action="store_true",
        help="quality suite: rewrite README.rst's results tables (between the "
        "'.. begin-results-table' markers; the user guide includes them) and "
        "docs/_static/quality_summary.png",
    )
    parser.add_argument(
        "--lead", default="jin", help="the strategy of the lead tables (the default)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="report the complete cells under --out without running anything",
    )
    args = parser.parse_args(argv)
    args.reuse = _parse_reuse(args.reuse)
    if args.seeds is None:
        args.seeds = DEFAULT_SEEDS[args.suite]
    if args.apgd_final is None:
        args.apgd_final = args.suite == "quality"
    if args.from_csv:
        args.report_only = True
    if not args.report_only:
        run_suite(args)
        if args.eval_attack != "pgd":
            return
    text = report(args)
    print(text)
    if args.write:
        path = write_result_file(f"{args.suite}.md", text, title=TITLES[args.suite])
        print(f"wrote {path}", file=sys.stderr)
        if not args.from_csv:
            df, _ = load_partial(args)
            if df is not None and not df.empty:
                csv = path.with_name(f"{args.suite}_cells.csv")
                tmp = csv.with_name(f".{csv.name}.tmp")
                cell_values(df).to_csv(tmp, index=False)
                tmp.replace(csv)
                print(f"wrote {csv}", file=sys.stderr)
    if args.lead_summary:
        df, _ = (
            complete_rounds(pd.read_csv(args.from_csv))
            if args.from_csv
            else load_partial(args)
        )
        update_readme(lead_summary(df, lead=args.lead))
        from benchmarks.readme_table import main as copy_lead_table

        copy_lead_table([])
        print(
            f"updated {README} and {lead_figure(df, lead=args.lead)}", file=sys.stderr
        )


TITLES = {
    "quality": "Quality: JIN against the baselines",
    "ablation": "Ablation of JIN",
}


if __name__ == "__main__":
    main()
