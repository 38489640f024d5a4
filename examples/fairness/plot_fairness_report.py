"""
======================================
Fairness report and per-group accuracy
======================================

How to read a FRAL model's minimax fairness, on UCI Adult grouped by sex
(bundled with skfral). :func:`~skfral.metrics.fairness_report` puts every
number on one line: worst-group accuracy clean and under attack, the gaps,
the balanced versions, the worst (group, class) recall and the
majority-class level, all from fairlearn ``MetricFrame`` s.
"""

# %%
# A robust net on Adult
# ---------------------
# :func:`~skfral.datasets.load_adult` returns one-hot encoded, standardised
# features without the sex column (the model does not see the group) and the
# group of every person. A subsample keeps the example fast.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import recall_score

from skfral.datasets import fral_split, load_adult
from skfral.metrics import (
    fairness_report,
    majority_class_levels,
    plot_group_accuracy,
    robust_metric_frame,
    worst_group,
)
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier

X, y, s = load_adult(return_X_y=True)
d = fral_split(
    X, y, s, initial_size=3000, val_size=1000, test_size=2000, random_state=0
)
print("training rows by group:", pd.Series(d.s_initial).value_counts().to_dict())

net = RobustNeuralNetClassifier(
    MLP,
    module__n_features=X.shape[1],
    attack_eps=0.1,
    attack_n_steps=3,
    max_epochs=8,
    random_state=0,
).fit(d.X_initial, d.y_initial)

# %%
# The report
# ----------
# One PGD-20 attack (made with the true labels) gives the adversarial
# predictions; the clean ones are the net's plain predictions.
attack = PGD(eps=0.1, n_steps=20, random_state=0)
report = fairness_report(
    net, d.X_test, d.y_test, sensitive_features=d.s_test, attack=attack
)
print(report)

# %%
# Why the majority-class level matters
# ------------------------------------
# In Adult most people of either sex earn at most 50K a year, so a rule that
# predicts each group's majority class is right for about 69% of men and 89%
# of women: **about 69% worst-group accuracy without learning anything**.
# :func:`~skfral.metrics.majority_class_levels` gives these levels; read the
# worst-group accuracy against ``majority_class_level`` (the minimum), and
# look at the balanced accuracy and the worst (group, class) recall, which a
# constant prediction cannot game.
print(majority_class_levels(d.y_test, d.s_test).round(3))
summary = pd.Series(
    {
        "worst-group accuracy, clean": report["worst_group_standard_accuracy"],
        "worst-group accuracy, PGD-20": report["worst_group_robust_accuracy"],
        "trivial rule (majority class)": report["majority_class_level"],
        "worst-group balanced accuracy, PGD-20": report[
            "worst_group_robust_balanced_accuracy"
        ],
        "worst (group, class) recall, PGD-20": report[
            "worst_group_class_robust_recall"
        ],
    }
).astype(float)
print(summary.round(3))

# %%
# Per-group bars
# --------------
# The report keeps its per-group table in ``report.attrs["by_group"]``;
# :func:`~skfral.metrics.plot_group_accuracy` draws it, clean beside
# attacked, with each group's majority-class level as a dashed mark.
by_group = pd.DataFrame.from_dict(report.attrs["by_group"], orient="index")
print(by_group.round(3).to_string())

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_group_accuracy(report, ax=axes[0])
axes[0].set_title("accuracy per group")
plot_group_accuracy(report, ax=axes[1], metric="balanced_accuracy")
axes[1].set_title("balanced accuracy per group")
fig.tight_layout()

# %%
# Any metric, clean and under attack
# ----------------------------------
# :func:`~skfral.metrics.robust_metric_frame` returns the two fairlearn
# ``MetricFrame`` s for metrics of your choice, here the recall of the rare
# class (income above 50K) per group.
frames = robust_metric_frame(
    net,
    d.X_test,
    d.y_test,
    sensitive_features=d.s_test,
    attack=attack,
    metrics={
        "recall >50K": lambda t, p: recall_score(t, p, pos_label=1, zero_division=0)
    },
)
print(frames.by_group("recall >50K").round(3))

# %%
# Ranking the groups
# ------------------
# :func:`~skfral.metrics.worst_group` ranks the groups worst first, on the
# validation set, by a criterion; this is what JIN and worst-group sampling
# use to choose where to label. Intersectional groups come from several
# sensitive columns.
ranking = worst_group(net, d.X_val, d.y_val, sensitive_features=d.s_val, attack=attack)
print(ranking.round(3).to_string())

X2, y2, s2 = load_adult(sensitive=["sex", "race_binary"], return_X_y=True)
rows = np.random.RandomState(0).choice(len(y2), 2000, replace=False)
net2 = RobustNeuralNetClassifier(
    MLP, module__n_features=X2.shape[1], attack_n_steps=3, max_epochs=8, random_state=0
).fit(X2[rows[:1000]], y2[rows[:1000]])
intersectional = fairness_report(
    net2,
    X2[rows[1000:]],
    y2[rows[1000:]],
    sensitive_features=s2[rows[1000:]],
    attack=attack,
)
print(intersectional[["n_groups", "worst_group_robust", "worst_group_robust_accuracy"]])
plt.show()
