"""
=================================================
Images: a SmallCNN on digits with a shifted group
=================================================

:func:`~skfral.datasets.load_group_digits` builds an image benchmark from
scikit-learn's bundled 8x8 digits (nothing is downloaded): a random fifth of
the images forms a minority group that is inverted, blurred, noisy and
class-imbalanced. We train a robust :class:`~skfral.nn.SmallCNN` at the image
attack radius ``8/255`` and let JIN and random sampling each spend the same
labels.
"""

# %%
# The two groups
# --------------
# Images are float32 NCHW arrays in ``[0, 1]``.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from modAL.models import ActiveLearner

from skfral.datasets import fral_split, load_group_digits
from skfral.metrics import fairness_report
from skfral.nn import PGD, RobustNeuralNetClassifier, SmallCNN
from skfral.query import JINQueryStrategy, RandomSampling

digits = load_group_digits(random_state=0)
X, y, s = digits.data, digits.target, digits.sensitive
print(
    X.shape,
    X.dtype,
    "groups:",
    np.bincount(s).tolist(),
    digits.sensitive_names.tolist(),
)

fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for row, group in enumerate([0, 1]):
    for col, i in enumerate(np.flatnonzero(s == group)[:8]):
        axes[row, col].imshow(X[i, 0], cmap="gray", vmin=0, vmax=1)
        axes[row, col].set_axis_off()
        axes[row, col].set_title(str(y[i]), fontsize=8)
axes[0, 0].text(-6, 4, "group 0", rotation=90, va="center", fontsize=8)
axes[1, 0].text(-6, 4, "group 1", rotation=90, va="center", fontsize=8)
fig.tight_layout()

# %%
# A robust SmallCNN
# -----------------
# The image defaults: L-inf radius ``8/255``, step ``2/255``, inputs clipped
# to ``[0, 1]``. ``classes`` lists every label, so that a small labelled set
# missing a digit still gives ``predict_proba`` a column for each. Tiny
# settings for the example: a narrow net, 10 epochs, a 3-step training
# attack.
d = fral_split(X, y, s, initial_size=100, val_size=300, test_size=400, random_state=0)


def make_net():
    return RobustNeuralNetClassifier(
        SmallCNN,
        module__in_channels=1,
        module__n_classes=10,
        module__width=16,
        module__embedding_size=32,
        classes=list(range(10)),
        attack_eps=8 / 255,
        attack_step_size=2 / 255,
        attack_n_steps=3,
        attack_clip_min=0.0,
        attack_clip_max=1.0,
        lr=1e-2,
        batch_size=32,
        max_epochs=10,
        random_state=0,
    )


# %%
# JIN against random, same labels
# -------------------------------
# Both start from the same 100 labels and query 3 batches of 40. The
# evaluation attack is PGD-20 at the same radius, clipped to ``[0, 1]``.
attack = PGD(eps=8 / 255, n_steps=20, clip_min=0.0, clip_max=1.0, random_state=0)
strategies = {
    "random": RandomSampling(random_state=0),
    "jin": JINQueryStrategy(
        X_val=d.X_val, y_val=d.y_val, sensitive_features_val=d.s_val, random_state=0
    ),
}
rows = []
for name, strategy in strategies.items():
    learner = ActiveLearner(
        make_net(),
        query_strategy=strategy,
        X_training=d.X_initial,
        y_training=d.y_initial,
    )
    pool = np.arange(len(d.y_pool))
    minority_picks = 0
    for round_ in range(4):
        if round_ > 0:
            idx, _ = learner.query(
                d.X_pool[pool], n_instances=40, sensitive_features=d.s_pool[pool]
            )
            minority_picks += int(d.s_pool[pool[idx]].sum())
            learner.teach(d.X_pool[pool[idx]], d.y_pool[pool[idx]])
            pool = np.delete(pool, idx)
        report = fairness_report(
            learner.estimator,
            d.X_test,
            d.y_test,
            sensitive_features=d.s_test,
            attack=attack,
        )
        rows.append(
            {
                "strategy": name,
                "labels": len(learner.y_training),
                "minority picks": minority_picks,
                "wg clean": report["worst_group_standard_accuracy"],
                "wg PGD-20": report["worst_group_robust_accuracy"],
                "wg balanced PGD-20": report["worst_group_robust_balanced_accuracy"],
            }
        )
curves = pd.DataFrame(rows)
print(curves.round(3).to_string(index=False))

fig, ax = plt.subplots(figsize=(6, 4))
for name, part in curves.groupby("strategy", sort=False):
    ax.plot(part["labels"], part["wg clean"], "o-", label=f"{name}, clean")
    ax.plot(part["labels"], part["wg PGD-20"], "s--", label=f"{name}, PGD-20")
ax.set_xlabel("labels used")
ax.set_ylabel("worst-group accuracy")
ax.set_title("One seed, tiny nets: an illustration, not a result")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# What the attack does to an image
# --------------------------------
# Four minority test images, with the last robust net (JIN's): an ``8/255``
# perturbation is barely visible to us; magnified (bottom row), it is mostly
# plus or minus ``8/255`` per pixel, kept inside the ``[0, 1]`` range.
net = learner.estimator
x, x_true = d.X_test[d.s_test == 1][:4], d.y_test[d.s_test == 1][:4]
x_adv = attack.perturb(net, x, x_true)
fig, axes = plt.subplots(3, 4, figsize=(6, 4.6))
for j in range(4):
    axes[0, j].imshow(x[j, 0], cmap="gray", vmin=0, vmax=1)
    axes[1, j].imshow(x_adv[j, 0], cmap="gray", vmin=0, vmax=1)
    axes[2, j].imshow(
        x_adv[j, 0] - x[j, 0], cmap="coolwarm", vmin=-8 / 255, vmax=8 / 255
    )
    pred = net.predict(x[j : j + 1])[0]
    axes[0, j].set_title(f"true {x_true[j]}, pred {pred}", fontsize=8)
    axes[1, j].set_title(f"pred {net.predict(x_adv[j : j + 1])[0]}", fontsize=8)
for ax in axes.ravel():
    ax.set_axis_off()
axes[0, 0].text(-5, 4, "clean", rotation=90, va="center", fontsize=8)
axes[1, 0].text(-5, 4, "PGD-20", rotation=90, va="center", fontsize=8)
axes[2, 0].text(-5, 4, "difference", rotation=90, va="center", fontsize=8)
fig.tight_layout()
plt.show()
