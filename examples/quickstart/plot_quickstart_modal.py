"""
============================================
Quick start: JIN with modAL's ActiveLearner
============================================

Fair Robust Active Learning in a few lines: an adversarially trained skorch
net, the JIN query strategy and modAL's ``ActiveLearner``. After every round
we measure the worst-group accuracy on clean test inputs and under a PGD-20
attack with :func:`skfral.metrics.fairness_report`.
"""

# %%
# Data with a disadvantaged group
# -------------------------------
# :func:`~skfral.datasets.make_fral_classification` draws tabular data whose
# minority group (``s == 1``) is rarer, shifted, more class-imbalanced and
# more fragile under attack. :func:`~skfral.datasets.fral_split` makes the
# four parts of the task, stratified by group x class, so that even the 40
# initial labels hold every group and class.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from modAL.models import ActiveLearner

from skfral.datasets import fral_split, make_fral_classification
from skfral.metrics import fairness_report
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
from skfral.query import JINQueryStrategy

X, y, s = make_fral_classification(n_samples=1000, random_state=0)
d = fral_split(X, y, s, initial_size=40, val_size=0.15, test_size=0.2, random_state=0)
print({part: len(d[f"y_{part}"]) for part in ("initial", "pool", "val", "test")})
print("groups in the initial labels:", np.bincount(d.s_initial).tolist())

# %%
# A robust net and JIN
# --------------------
# :class:`~skfral.nn.RobustNeuralNetClassifier` trains with PGD adversarial
# examples (``adversarial="pgd"``, radius ``attack_eps=0.1`` on these
# standardised features). Here the training attack has 3 steps and the net
# 10 epochs to keep the example fast; the defaults are PGD-10 and 30 epochs.
#
# :class:`~skfral.query.JINQueryStrategy` needs the labelled validation set
# with its groups, to find the group the model serves worst.
net = RobustNeuralNetClassifier(
    MLP,
    module__n_features=X.shape[1],
    attack_eps=0.1,
    attack_n_steps=3,
    max_epochs=10,
    random_state=0,
)
jin = JINQueryStrategy(
    X_val=d.X_val, y_val=d.y_val, sensitive_features_val=d.s_val, random_state=0
)
learner = ActiveLearner(
    net, query_strategy=jin, X_training=d.X_initial, y_training=d.y_initial
)

# %%
# Query, teach, evaluate
# ----------------------
# Each round JIN picks 20 pool samples (the pool's groups are passed to
# ``query``), the oracle reveals their labels, ``teach`` retrains the robust
# net on every label so far, and the report measures it on the test set
# under a PGD-20 attack (stronger than the training attack).
attack = PGD(eps=0.1, n_steps=20, random_state=0)
pool = np.arange(len(d.y_pool))
rows = []
for round_ in range(5):
    if round_ > 0:
        idx, _ = learner.query(
            d.X_pool[pool], n_instances=20, sensitive_features=d.s_pool[pool]
        )
        picked = pool[idx]
        learner.teach(d.X_pool[picked], d.y_pool[picked])
        pool = np.delete(pool, idx)
        counts = np.bincount(d.s_pool[picked], minlength=2)
        print(f"round {round_}: queried {counts[0]} of group 0, {counts[1]} of group 1")
    report = fairness_report(
        learner.estimator,
        d.X_test,
        d.y_test,
        sensitive_features=d.s_test,
        attack=attack,
    )
    rows.append({"labels": len(learner.y_training), **report.to_dict()})

curve = pd.DataFrame(rows).set_index("labels")
columns = [
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "worst_group_robust_balanced_accuracy",
    "majority_class_level",
]
print(curve[columns].astype(float).round(3).to_string())

# %%
# JIN's default, ``group_allocation="auto"``, targets here: on validation the
# groups can be told from the features (``jin.targeting_auc_``, about 0.87,
# is above the gate's 0.85), so it split each batch by each group's
# probability of being the one the robust model serves worst on validation
# (a bootstrap of the validation set, ``jin.group_allocation_ ==
# "bootstrap"``), at most a fifth of a group's pool per query
# (``max_group_share=0.2``): mostly the minority.
# The curve below is one seed and tiny nets: the strategy comparison
# (:ref:`sphx_glr_auto_examples_strategies_plot_compare_strategies.py`) runs
# several seeds and baselines.
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(curve.index, curve["worst_group_standard_accuracy"], "o-", label="clean")
ax.plot(curve.index, curve["worst_group_robust_accuracy"], "o-", label="PGD-20")
ax.axhline(
    curve["majority_class_level"].iloc[0],
    color="0.4",
    ls="--",
    label="majority-class level",
)
ax.set_xlabel("labels used")
ax.set_ylabel("worst-group accuracy")
ax.set_title("JIN, one seed")
ax.legend()
fig.tight_layout()

# %%
# Inside a query
# --------------
# :meth:`~skfral.query.JINQueryStrategy.utilities` scores every pool sample:
# the robust inconsistency ``I_adv`` (the robust model on a sample against its
# PGD example), the standard inconsistency ``I_mod`` (a standard model against
# the robust one) and their sum. Only the candidates (``candidate``) are
# ranked: the pool samples of the groups that get a share of the batch (with
# ``group_allocation="worst"``, the validation-worst group alone).
table = jin.utilities(learner, d.X_pool[pool], sensitive_features=d.s_pool[pool])
print(table.groupby("group")[["I_adv", "I_mod", "score"]].mean().round(4))
print("candidates per group:", table.groupby("group")["candidate"].sum().to_dict())

# %%
# The scores only rank samples *inside* each group, for that group's share
# of the batch, so their scale across groups does not matter. Inside a group
# where the model is confident (right or wrong), both inconsistencies can
# be tiny and the ranking rests on small differences; the axes below are
# logarithmic near zero for that reason.
fig, ax = plt.subplots(figsize=(5, 4))
for group, part in table.groupby("group"):
    ax.scatter(part["I_mod"], part["I_adv"], s=10, alpha=0.6, label=f"group {group}")
ax.set_xscale("symlog", linthresh=1e-3)
ax.set_yscale("symlog", linthresh=1e-3)
ax.set_xlabel("standard inconsistency I_mod")
ax.set_ylabel("robust inconsistency I_adv")
ax.legend()
fig.tight_layout()
plt.show()
