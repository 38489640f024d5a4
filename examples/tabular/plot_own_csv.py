"""
======================================================
Your own CSV: categories, missing values, three groups
======================================================

A raw loan table (numeric and categorical columns, missing values, a binary
label and a 3-group ``race`` column) goes from the file to a FRAL comparison
and learning curves with no preprocessing by hand:

1. :func:`~skfral.datasets.load_table` reads and checks the file;
2. :func:`~skfral.experiment.run_fral` takes the raw DataFrame and builds the
   default pipeline: :func:`~skfral.datasets.make_tabular_preprocessor`
   (impute, one-hot encode, standardise), fitted on the labelled set at every
   round, then a PGD-AT MLP;
3. :func:`~skfral.experiment.plot_learning_curves` draws the worst-group
   accuracies.

The command line does the same::

    skfral run --data loans.csv --target approved --sensitive race --out loans/

The settings are tiny (2 seeds, 3 rounds, 5 epochs) so that the example runs
in well under a minute: it shows the workflow, not which strategy is best.
"""

# %%
# A raw table on disk
# -------------------
# Stand-in for your file: income (with missing values), a job category
# (with missing values), a yes/no flag, a ``race`` group column that is rarer
# for one group, and the label ``approved``.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skfral.datasets import load_table
from skfral.experiment import plot_learning_curves, run_fral, summarize

rng = np.random.RandomState(0)
n = 900
race = rng.choice(["white", "black", "asian"], n, p=[0.6, 0.28, 0.12])
income = rng.normal(50, 15, n) - 8 * (race == "asian")
job = rng.choice(["clerk", "nurse", "chef", "driver"], n)
owns_home = rng.rand(n) < 0.4
logit = (income - 45) / 10 + 0.8 * (job == "nurse") + 0.5 * owns_home
approved = np.where(logit + rng.normal(0, 1, n) > 0, "yes", "no")
table = pd.DataFrame(
    {
        "income": income,
        "job": job,
        "owns_home": owns_home,
        "race": race,
        "approved": approved,
    }
)
table.loc[rng.rand(n) < 0.1, "income"] = np.nan
table.loc[rng.rand(n) < 0.1, "job"] = None
folder = Path(tempfile.mkdtemp())
csv = folder / "loans.csv"
table.to_csv(csv, index=False)
print(csv.read_text().splitlines()[:4])

# %%
# Read it and see what was inferred
# ---------------------------------
# ``info`` is what ``skfral run --dry-run`` prints: columns and their kinds,
# missing values, classes and groups with their sizes.
X, y, s, info = load_table(csv, target="approved", sensitive="race")
print(info["features"])
print("missing:", info["missing"])
print("classes:", info["classes"], "groups:", info["groups"])

# %%
# Run FRAL on the raw DataFrame
# -----------------------------
# No encoding or imputing by hand: the runner puts the preprocessing in front
# of the net. The validation split ranks the groups for JIN and worst-group
# sampling.
results = run_fral(
    {"loans": (X, y, s)},
    ["random", "entropy", "jin"],
    seeds=2,
    n_rounds=3,
    budget=20,
    initial_size=40,
    val_size=150,
    test_size=200,
    estimator_params={"max_epochs": 5, "attack_n_steps": 5},
    eval_attack=10,
    torch_threads=1,
    progress=False,
)
print(results[["strategy", "seed", "round", "n_labels", "worst_group_robust_accuracy"]])

# %%
# Summary and learning curves
# ---------------------------
summary = summarize(results)
print(summary.filter(like="worst_group_robust_accuracy_final").round(3))
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_learning_curves(results, axes)
fig.tight_layout()
plt.show()
