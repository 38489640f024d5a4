"""
=====================================================
A plain active-learning loop, recorded and summarised
=====================================================

No framework needed: every skfral strategy is a callable
``strategy(estimator, X_pool, n_instances, sensitive_features=...,
X_labelled=..., y_labelled=...)`` that returns ``(indices, scores)``, so a
loop of a few lines drives it. :class:`~skfral.experiment.FRALRecorder`
evaluates the model after every round (worst-group accuracy, clean and under
a PGD-20 attack) and stores the rows of :func:`~skfral.experiment.run_fral`'s
table, so the learning curves, the summaries with confidence intervals and
``skfral report`` work on a hand-written loop too.
"""

# %%
# Data with a disadvantaged group
# -------------------------------
# A small synthetic table whose minority group is rarer, shifted and harder;
# :func:`~skfral.datasets.fral_split` gives the initial labels, the pool, a
# validation set (JIN finds the worst group on it) and a test set. Each seed
# gets its own split and model seed; every strategy sees the same ones, so
# the comparisons below are paired by seed.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from skfral.datasets import fral_split, make_fral_classification
from skfral.experiment import FRALRecorder, paired_comparisons, plot_learning_curves
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
from skfral.query import EntropySampling, JINQueryStrategy, RandomSampling

torch.set_num_threads(1)
X, y, s = make_fral_classification(n_samples=900, random_state=0)


def make_strategy(name, d, seed):
    if name == "random":
        return RandomSampling(random_state=seed)
    if name == "entropy":
        return EntropySampling(random_state=seed)
    return JINQueryStrategy(
        X_val=d.X_val, y_val=d.y_val, sensitive_features_val=d.s_val, random_state=seed
    )


# %%
# The loop
# --------
# Fit the robust net on the labelled set, record the round, query 20 pool
# samples, reveal their labels, repeat. The recorder's ``attack`` is the
# evaluation attack (PGD-20, stronger than the 3-step training attack).
n_rounds, budget = 3, 20
frames = []
for seed in (0, 1):
    d = fral_split(
        X, y, s, initial_size=40, val_size=0.2, test_size=0.25, random_state=seed
    )
    for name in ("random", "entropy", "jin"):
        strategy = make_strategy(name, d, seed)
        recorder = FRALRecorder(strategy=name, seed=seed, dataset="synthetic")
        X_lab, y_lab = d.X_initial, d.y_initial
        pool = np.arange(len(d.y_pool))
        net = RobustNeuralNetClassifier(
            MLP,
            module__n_features=X.shape[1],
            attack_n_steps=3,
            max_epochs=10,
            random_state=seed,
        )
        for round_ in range(n_rounds + 1):
            net.fit(X_lab, y_lab)
            recorder.record(
                net,
                d.X_test,
                d.y_test,
                sensitive_features=d.s_test,
                n_labels=len(y_lab),
                y_labelled=y_lab,  # the majority floor beside the curves
                attack=PGD(eps=0.1, n_steps=20),
                n_pool=len(pool),
            )
            if round_ == n_rounds:
                break
            idx, _ = strategy(
                net,
                d.X_pool[pool],
                budget,
                sensitive_features=d.s_pool[pool],
                X_labelled=X_lab,
                y_labelled=y_lab,
            )
            picked = pool[idx]
            X_lab = np.concatenate([X_lab, d.X_pool[picked]])
            y_lab = np.concatenate([y_lab, d.y_pool[picked]])
            pool = np.delete(pool, idx)
        frames.append(recorder.to_frame())

results = pd.concat(frames, ignore_index=True)
print(results[["strategy", "seed", "round", "n_labels", "worst_group_robust_accuracy"]])

# %%
# Learning curves
# ---------------
# The same plot as for :func:`~skfral.experiment.run_fral`'s table: mean over
# seeds with a +-std band, and the trivial rule's level as a reference line
# (the majority-class level on plain accuracy; ``1/k`` on balanced accuracy).
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
plot_learning_curves(results, axes)
plt.show()

# %%
# Paired comparisons
# ------------------
# JIN minus each baseline, paired by seed, on the mean over rounds: the
# mean difference, its t interval over seeds, the Wilcoxon test and the
# verdict of :func:`~skfral.experiment.verdict` (a win needs both the interval
# above 0 and p < 0.05). With two seeds the verdict is always a tie, "too few
# seeds" (the ``note`` column says so): use ten seeds for claims, as the
# benchmark does.
comparisons = paired_comparisons(
    results, metrics=["worst_group_robust_accuracy"], aggregates="rounds", n_boot=2000
)
jin = comparisons[comparisons["strategy"] == "jin"]
columns = ["baseline", "n_seeds", "mean", "ci_low", "ci_high", "outcome", "note"]
print(jin[columns].round(3).to_string(index=False))

# %%
# The same table goes to :func:`~skfral.experiment.write_report` (the
# Markdown summary with intervals and win/tie/loss counts, CSV and learning
# curves) or, saved with ``results.to_csv``, to any pandas workflow.
