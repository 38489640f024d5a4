"""
=====================================
JIN inside a scikit-activeml loop
=====================================

scikit-activeml is the maintained scikit-learn active-learning library. Its
pool-based loop keeps *every* sample in ``X`` and marks the unlabelled ones in
``y`` with ``MISSING_LABEL``; a query strategy returns indices into ``X``.
:func:`skfral.query.to_skactiveml` turns JIN (or any skfral baseline) into
such a strategy, so a scikit-activeml user keeps their loop and gets fair
robust active learning. Here JIN and scikit-activeml's own uncertainty
sampling run side by side for a few rounds, and we compare the worst-group
accuracy on clean inputs and under a PGD attack.
"""

# %%
# Data and the scikit-activeml conventions
# ----------------------------------------
# :func:`~skfral.datasets.make_fral_classification` draws tabular data with a
# disadvantaged minority group. The validation part (with its groups) is what
# JIN ranks the groups on; the rest is the active-learning set: 30 labels to
# start, every other label missing.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from skactiveml.classifier import SklearnClassifier
from skactiveml.pool import UncertaintySampling
from skactiveml.utils import MISSING_LABEL, is_labeled

from skfral.datasets import fral_split, make_fral_classification
from skfral.metrics import fairness_report
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
from skfral.query import JINQueryStrategy, to_skactiveml

X_all, y_all, s_all = make_fral_classification(n_samples=700, random_state=0)
d = fral_split(
    X_all, y_all, s_all, initial_size=30, val_size=0.15, test_size=0.2, random_state=0
)
X = np.concatenate([d.X_initial, d.X_pool])
y_true = np.concatenate([d.y_initial, d.y_pool]).astype(float)
s = np.concatenate([d.s_initial, d.s_pool])
y_start = np.full(len(y_true), MISSING_LABEL)
y_start[: len(d.y_initial)] = y_true[: len(d.y_initial)]
print(f"{int(is_labeled(y_start).sum())} labelled of {len(X)}; groups:", np.bincount(s))

# %%
# The classifier and the two strategies
# -------------------------------------
# scikit-activeml's :class:`~skactiveml.classifier.SklearnClassifier` wraps
# the adversarially trained net: it fits the net on the labelled rows only.
# ``to_skactiveml(jin)`` accepts it (a bare net or a Pipeline ending in one
# work too); the query needs the group of every row of ``X``.
net = RobustNeuralNetClassifier(
    MLP,
    module__n_features=X.shape[1],
    attack_eps=0.1,
    attack_n_steps=3,
    max_epochs=8,
    random_state=0,
)
jin = JINQueryStrategy(
    X_val=d.X_val, y_val=d.y_val, sensitive_features_val=d.s_val, random_state=0
)
strategies = {
    "JIN (skfral)": to_skactiveml(jin),
    "uncertainty (skactiveml)": UncertaintySampling(method="entropy", random_state=0),
}

# %%
# The loop, exactly as scikit-activeml writes it
# ----------------------------------------------
# ``query`` returns indices into ``X``; the oracle fills those labels in
# ``y`` and the classifier is refitted. After each round the robust model is
# measured on the test set, clean and under PGD-10.
attack = PGD(eps=0.1, n_steps=10, random_state=0)
rows = []
for name, qs in strategies.items():
    y = y_start.copy()
    clf = SklearnClassifier(net, classes=[0.0, 1.0], missing_label=MISSING_LABEL)
    clf.fit(X, y)
    for round_ in range(4):
        if round_ > 0:
            if name.startswith("JIN"):
                idx = qs.query(X, y, clf, sensitive_features=s, batch_size=15)
            else:
                idx = qs.query(X, y, clf, batch_size=15)
            y[idx] = y_true[idx]
            clf.fit(X, y)
        report = fairness_report(
            clf.estimator_,
            d.X_test,
            d.y_test,
            sensitive_features=d.s_test,
            attack=attack,
        )
        rows.append(
            {
                "strategy": name,
                "labels": int(is_labeled(y).sum()),
                "minority labels": int((is_labeled(y) & (s == 1)).sum()),
                "worst-group clean": float(report["worst_group_standard_accuracy"]),
                "worst-group PGD": float(report["worst_group_robust_accuracy"]),
            }
        )

table = pd.DataFrame(rows)
print(table.round(3).to_string(index=False))

# %%
# JIN spends its labels on the group the robust model serves worst on
# validation (see the "minority labels" column); plain uncertainty spreads
# them over the whole pool. One seed and tiny nets: the project's benchmark
# (``benchmarks/RESULTS.md``) compares strategies over several seeds.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for name, part in table.groupby("strategy"):
    axes[0].plot(part["labels"], part["worst-group clean"], "o-", label=name)
    axes[1].plot(part["labels"], part["worst-group PGD"], "o-", label=name)
axes[0].set_title("worst-group accuracy, clean")
axes[1].set_title("worst-group accuracy, PGD-10")
for ax in axes:
    ax.set_xlabel("labels used")
axes[0].set_ylabel("accuracy")
axes[1].legend()
fig.tight_layout()
