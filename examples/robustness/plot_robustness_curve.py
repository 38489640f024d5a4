"""
===========================
Per-group robustness curves
===========================

How fast does each group's accuracy fall as the attack grows?
:func:`~skfral.metrics.robustness_curve` attacks a fitted net at several radii
and returns a tidy table (one row per radius and group) that marks the worst
group at each radius; :func:`~skfral.metrics.plot_robustness_curve` draws it.
FRAL's goal is the worst group's accuracy, so the marked points are the ones to
watch. The worst group can change with the radius; here the minority group
stays worst at every radius.
"""

# %%
# A robust net on data with a minority group
# ------------------------------------------
# :func:`~skfral.datasets.make_fral_classification` gives a 20% minority group
# whose class boundary is rotated: a net fitted on the pooled data serves it
# worse. The net is trained with PGD-AT (3-step attack, radius 0.2; tiny
# settings so the example runs in seconds).
import matplotlib.pyplot as plt

from skfral.datasets import fral_split, make_fral_classification
from skfral.metrics import fairness_report, plot_robustness_curve, robustness_curve
from skfral.nn import MLP, PGD, RobustNeuralNetClassifier, attack_from_net

X, y, s = make_fral_classification(n_samples=1500, random_state=1)
d = fral_split(X, y, s, initial_size=800, val_size=0, test_size=500, random_state=1)
net = RobustNeuralNetClassifier(
    MLP,
    module__n_features=X.shape[1],
    adversarial="pgd",
    attack_eps=0.2,
    attack_n_steps=3,
    max_epochs=10,
    random_state=0,
).fit(d.X_initial, d.y_initial)

# %%
# The curve
# ---------
# ``attack=None`` would reuse the net's own training attack (its norm, steps,
# step-to-radius ratio and clip range) at each radius; for evaluation we ask
# for a stronger one, PGD-20, built from the same settings with
# :func:`~skfral.nn.attack_from_net`. ``eps=0`` is the clean accuracy. Each
# batch of test rows is read once and attacked at every radius.
radii = [0.0, 0.1, 0.2, 0.3, 0.4]
curve = robustness_curve(
    net,
    d.X_test,
    d.y_test,
    sensitive_features=d.s_test,
    eps=radii,
    attack=attack_from_net(net, n_steps=20, random_state=0),
)
print(curve.round(3).to_string(index=False))

# %%
# The worst group at each radius is one row per radius:
print(curve[curve["is_worst"]][["eps", "group", "accuracy"]].to_string(index=False))

# %%
# One line per group, the worst group ringed
# ------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
plot_robustness_curve(curve, ax=axes[0])
plot_robustness_curve(curve, ax=axes[1], metric="balanced_accuracy")
axes[1].set_title("Balanced accuracy per group")
fig.tight_layout()

# %%
# At one radius, the full report
# ------------------------------
# :func:`~skfral.metrics.fairness_report` gives every number at one radius;
# ``n_boot`` adds bootstrap confidence intervals of the group accuracies (the
# attack runs once; fairlearn resamples the predictions).
report = fairness_report(
    net,
    d.X_test,
    d.y_test,
    sensitive_features=d.s_test,
    attack=PGD(eps=0.2, n_steps=20, random_state=0),
    n_boot=30,
    random_state=0,
)
print(
    report.by_group[["standard", "robust", "robust_ci_low", "robust_ci_high"]].round(3)
)
plt.show()
