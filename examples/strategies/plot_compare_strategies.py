"""
============================================
Comparing JIN with the baselines, over seeds
============================================

:func:`~skfral.experiment.run_fral` runs every (data set, strategy, seed)
*cell*: the same split, the same model seeds and the same evaluation attack
for every strategy of a seed, so that the differences are paired. It returns
one tidy table, a row per round, that :func:`~skfral.experiment.summarize`
and :func:`~skfral.experiment.plot_learning_curves` turn into the summary
and the learning curves.

The settings here are tiny (3 seeds, 3 rounds, 10 epochs, a 3-step training
attack) so that the example runs in seconds: it shows the workflow, not
which strategy is best. The benchmark (``make bench``) uses real settings.
"""

# %%
# Run the cells
# -------------
# Data sets are names of :data:`~skfral.experiment.DATASETS` or your own
# ``(X, y, s)``; strategies are short names of
# :data:`~skfral.query.STRATEGIES` or labelled variants ``(name, params)``.
# ``estimator_params`` sets the default net's parameters; the evaluation
# attack defaults to PGD-20 at the training radius. ``torch_threads=1``
# suits tiny nets.
import matplotlib.pyplot as plt

from skfral.datasets import make_fral_classification
from skfral.experiment import (
    paired_differences,
    plot_learning_curves,
    run_fral,
    summarize,
)

X, y, s = make_fral_classification(n_samples=1200, random_state=0)
results = run_fral(
    {"synthetic": (X, y, s)},
    {
        "random": "random",
        "entropy": "entropy",
        "worst_group": "worst_group",
        "jin": "jin",
        "jin_js": ("jin", {"disagreement": "js"}),
    },
    seeds=3,
    n_rounds=3,
    budget=20,
    initial_size=40,
    val_size=200,
    test_size=300,
    pool_size=400,
    estimator_params={"max_epochs": 10, "attack_n_steps": 3},
    torch_threads=1,
    progress=False,
)
print(results.shape)
shown = [
    "strategy",
    "seed",
    "round",
    "n_labels",
    "worst_group_robust_accuracy",
    "majority_class_level",
    "query_seconds",
]
print(results[shown].head(8).round(4).to_string(index=False))

# %%
# Learning curves
# ---------------
# Mean over seeds with a band of one standard deviation; the dashed line is
# the majority-class level, what predicting each group's majority class
# scores.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_learning_curves(results, axes)
fig.tight_layout()

# %%
# Summary and paired differences
# ------------------------------
# :func:`~skfral.experiment.summarize` gives, per strategy, the final-round
# value and the mean over rounds (mean and std over seeds) of the worst-group
# accuracies, the query time, and the paired differences against ``random``
# and against worst-group entropy (``worst_group``) with the number of seeds
# in which the strategy was better. With 3 seeds, differences of a point or
# two are noise.
summary = summarize(results)
columns = [
    "strategy",
    "worst_group_robust_accuracy_final_mean",
    "worst_group_robust_accuracy_final_std",
    "worst_group_robust_accuracy_rounds_mean",
    "query_seconds_mean",
]
print(summary[columns].round(3).to_string(index=False))

diffs = paired_differences(
    results, baseline="worst_group", metrics=["worst_group_robust_accuracy"]
)
print(diffs[diffs["aggregate"] == "rounds"].round(3).to_string(index=False))

# %%
# What a query costs
# ------------------
# JIN fits a standard model (warm-started after the first query) and attacks
# the worst group's pool samples; entropy needs one forward pass. The
# ``query_seconds`` column records it for every round (timings of a few
# milliseconds are noisy, and the first cell to run also pays one-time
# start-up costs).
seconds = results.groupby("strategy", sort=False)["query_seconds"].mean()
fig, ax = plt.subplots(figsize=(5, 3))
seconds.plot.barh(ax=ax)
ax.set_xlabel("seconds per query (mean)")
fig.tight_layout()
plt.show()
