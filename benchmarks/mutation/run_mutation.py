"""Mutation testing of skfral's maths with mutmut (issue 17; ``make mutation``).

mutmut 3 copies ``skfral/`` into ``./mutants`` (git-ignored), rewrites every
function of the files listed in ``[tool.mutmut] only_mutate`` (pyproject.toml)
into its mutants, and runs, for each mutant, the fast unit tests of
``pytest_add_cli_args_test_selection`` that execute that function (stopping at
the first failure). This script runs mutmut on the scope below and writes a
summary: killed, survived, timeouts and mutants without tests, per file, and
the score ``killed / (all - equivalent)`` where ``equivalent.txt`` lists the
mutants that cannot change behaviour (one line each: name, a tab, the reason).

Scope: the maths of the issue's targets (``SCOPE`` below): the query
strategies' scores, selection and allocation (``skfral/query/``), the attack
maths (``skfral/nn/_attack_maths.py``), the adversarial training step
(``RobustNeuralNetClassifier.train_step_single`` and its ``_training_attack``)
and the fairness report (``skfral/metrics/_report.py`` and its group tables,
``_groups.py``). Validation and plumbing functions of those files are left
out: on two shared cores the whole files (about 4,800 mutants) take many hours.

Usage::

    python benchmarks/mutation/run_mutation.py               # run, then summarise
    python benchmarks/mutation/run_mutation.py --tree head   # on a clean export of HEAD
    python benchmarks/mutation/run_mutation.py --only "skfral.query._uncertainty.*"
    python benchmarks/mutation/run_mutation.py --tree head --where DIR --resume
    python benchmarks/mutation/run_mutation.py --summary-only --where DIR --also DIR2

It takes long (about an hour on two busy cores for the whole scope): it is not
part of ``make test``.
"""

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# The maths, in priority order (mutmut runs the cheapest mutants first anyway).
# Functions behind a decorator other than staticmethod/classmethod are never
# mutated by mutmut 3 (fairness_report, robust_metric_frame, worst_group carry
# @Substitution): their maths is in metrics._groups, which is in scope.
SCOPE = (
    # query strategies: scores, selection, allocation, divergences
    "skfral.query._uncertainty.*",
    "skfral.query._diversity.*",
    "skfral.query._base.x_entropy__mutmut_*",
    "skfral.query._base.x_top_k__mutmut_*",
    "skfral.query._base.x_rank_order__mutmut_*",
    "skfral.query._base.x_round_robin__mutmut_*",
    "skfral.query._allocation.x_allocate__mutmut_*",
    "skfral.query._jin_scores.x__kl__mutmut_*",
    "skfral.query._jin_scores.x_disagreement_scores__mutmut_*",
    "skfral.query._jin_scores.x__rank01__mutmut_*",
    "skfral.query._jin_scoring.xǁ_ScoringMixinǁ_combine__mutmut_*",
    "skfral.query._fair.xǁWorstGroupSamplingǁ_select__mutmut_*",
    # attack maths (PGD, TRADES; APGD is the attacks engineer's and newer)
    "skfral.nn._attack_maths.x__flat_norm__mutmut_*",
    "skfral.nn._attack_maths.x__unit_l2__mutmut_*",
    "skfral.nn._attack_maths.x__project__mutmut_*",
    "skfral.nn._attack_maths.x__clip__mutmut_*",
    "skfral.nn._attack_maths.x__linf_box__mutmut_*",
    "skfral.nn._attack_maths.x__random_start__mutmut_*",
    "skfral.nn._attack_maths.x_pgd_attack__mutmut_*",
    "skfral.nn._attack_maths.x_trades_attack__mutmut_*",
    # APGD (Croce and Hein 2020) and the attack estimators' batching
    "skfral.nn._apgd_maths.*",
    "skfral.nn._attacks.xǁ_BaseAttackǁperturb__mutmut_*",
    "skfral.nn._attacks.xǁPGDǁ_settings__mutmut_*",
    "skfral.nn._attacks.xǁPGDǁ_attack_batch__mutmut_*",
    "skfral.nn._attacks.xǁAPGDǁ_settings__mutmut_*",
    "skfral.nn._attacks.xǁAPGDǁ_attack_batch__mutmut_*",
    "skfral.nn._attacks.x_attack_from_net__mutmut_*",
    # the adversarial training step
    "skfral.nn._net_training.xǁ_NetTrainingǁtrain_step_single__mutmut_*",
    "skfral.nn._net_training.xǁ_NetTrainingǁ_training_attack__mutmut_*",
    # fairness report maths
    "skfral.metrics._groups.*",
    "skfral.metrics._report.*",
)

# mutmut's exit codes (mutmut/stats.py), grouped as this report counts them.
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "type check",
    None: "not checked",
}


def export_head(where):
    """A clean copy of the committed tree (others' uncommitted work left out)."""
    where.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)


def run_mutmut(where, globs, max_children):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    mutmut = Path(sys.executable).with_name("mutmut")
    cmd = [str(mutmut), "run", "--max-children", str(max_children), *globs]
    print("+", " ".join(cmd[:6]), f"... ({len(globs)} names, in {where})", flush=True)
    return subprocess.run(cmd, cwd=where, env=env).returncode


def read_equivalent(path=HERE / "equivalent.txt"):
    """``{mutant name: reason}`` from ``equivalent.txt``."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition("\t")
            out[name.strip()] = reason.strip()
    return out


def read_results(where, globs):
    """``{mutant name: status}`` for the mutants in scope."""
    results = {}
    for meta in sorted((where / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data["exit_code_by_key"].items():
            if any(fnmatch.fnmatchcase(name, g) for g in globs):
                results[name] = STATUS.get(code, "suspicious")
    return results


def module_of(name):
    return name.split(".x")[0]


def summarise(results, equivalent):
    """Per-module counts and the score killed / (all - equivalent)."""
    rows = {}
    for name, status in results.items():
        row = rows.setdefault(module_of(name), Counter())
        row["mutants"] += 1
        if name in equivalent and status != "killed":
            row["equivalent"] += 1
        else:
            row[status] += 1
    total = Counter()
    for row in rows.values():
        total.update(row)
    rows["TOTAL"] = total
    for row in rows.values():
        real = row["mutants"] - row["equivalent"] - row["not checked"]
        detected = row["killed"] + row["timeout"]
        row["score"] = round(100 * detected / real, 1) if real else float("nan")
    return rows


def table(rows):
    cols = ["mutants", "killed", "timeout", "survived", "no tests", "equivalent"]
    cols += ["not checked", "score"]
    lines = ["| module | " + " | ".join(cols) + " |"]
    lines.append("|---" * (len(cols) + 1) + "|")
    for module, row in rows.items():
        values = [str(row.get(c, 0)) for c in cols]
        lines.append(f"| {module} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def show(where, name):
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run(
        [str(mutmut), "show", name], cwd=where, capture_output=True, text=True
    ).stdout
    return "\n".join(
        line
        for line in out.splitlines()
        if line[:1] in "-+" and line[:3] not in ("---", "+++")
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", choices=("worktree", "head"), default="worktree")
    parser.add_argument("--where", type=Path, default=None)
    parser.add_argument(
        "--also",
        type=Path,
        nargs="*",
        default=(),
        help="later run folders (re-checks with newer tests, or more of the scope) "
        "merged into the summary: their checked results replace the first's",
    )
    parser.add_argument("--only", nargs="+", default=None, help="mutant name globs")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse ./mutants and rerun only the mutants in scope not yet killed",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse ./mutants and its results (only after changing tests, not code)",
    )
    args = parser.parse_args(argv)
    globs = tuple(args.only or SCOPE)
    where = args.where
    if where is None:
        where = (
            ROOT
            if args.tree == "worktree"
            else Path(tempfile.mkdtemp(prefix="skfral-mutation-"))
        )
    if not args.summary_only:
        if args.tree == "head" and not (where / "setup.py").exists():
            export_head(where)
        if args.tree == "head":
            shutil.copy2(ROOT / "pyproject.toml", where / "pyproject.toml")
        names = globs
        if args.resume:  # mutmut reruns every mutant named: name only the rest
            names = sorted(
                name
                for name, status in read_results(where, globs).items()
                if status != "killed"
            )
        elif not args.keep:  # mutmut never refreshes files it copied before
            shutil.rmtree(where / "mutants", ignore_errors=True)
        run_mutmut(where, names, args.max_children)
    results = read_results(where, globs)
    source = dict.fromkeys(results, where)  # the run whose result is kept
    for other in args.also:
        for name, status in read_results(other, globs).items():
            if status != "not checked":
                results[name] = status
                source[name] = other
    equivalent = read_equivalent()
    rows = summarise(results, equivalent)
    print(table(rows))
    survivors = sorted(n for n, s in results.items() if s == "survived")
    survivors = [n for n in survivors if n not in equivalent]
    out = HERE / "survivors.txt"
    with out.open("w", encoding="utf-8") as fh:
        for name in survivors:
            fh.write(f"{name}\n{show(source.get(name, where), name)}\n\n")
    (HERE / "results.json").write_text(
        json.dumps(
            {"scope": globs, "summary": rows, "status": results},
            indent=1,
            sort_keys=True,
        ),
        encoding="utf-8",
    )
    print(f"{len(survivors)} survivors (not marked equivalent) written to {out}")


if __name__ == "__main__":
    main()
