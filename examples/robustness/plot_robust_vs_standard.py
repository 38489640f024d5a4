"""
============================================
Robust versus standard training under attack
============================================

A net trained on clean data only (the "standard model" of JIN) loses more of
its accuracy under an L-inf attack than an adversarially trained one (PGD-AT
or TRADES). We train the three with
:class:`~skfral.nn.RobustNeuralNetClassifier` and attack each with
:class:`~skfral.nn.PGD` of growing radius, and with :class:`~skfral.nn.FGSM`.
"""

# %%
# Three nets, one switch
# ----------------------
# ``adversarial`` picks the training: ``None`` (standard), ``"pgd"`` (PGD-AT:
# every batch is replaced by its PGD examples) or ``"trades"`` (clean loss
# plus ``trades_beta`` times the KL divergence between clean and adversarial
# predictions). The attack settings are ``__init__`` arguments, so ``clone``
# and ``set_params`` keep them. Tiny settings here: 10 epochs and a 3-step
# training attack (the defaults are 30 epochs and PGD-10). So that a tiny
# example shows the effect, the radius is 0.3 instead of the default 0.1 for
# standardised tabular data.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skfral.datasets import fral_split, make_fral_classification
from skfral.metrics import fairness_report
from skfral.nn import FGSM, MLP, PGD, RobustNeuralNetClassifier

X, y, s = make_fral_classification(n_samples=1500, random_state=1)
d = fral_split(X, y, s, initial_size=600, val_size=0, test_size=400, random_state=1)
X_train, y_train = d.X_initial, d.y_initial
EPS = 0.3

nets = {}
for name, adversarial in [("standard", None), ("PGD-AT", "pgd"), ("TRADES", "trades")]:
    nets[name] = RobustNeuralNetClassifier(
        MLP,
        module__n_features=X.shape[1],
        adversarial=adversarial,
        attack_eps=EPS,
        attack_n_steps=3,
        max_epochs=10,
        random_state=0,
    ).fit(X_train, y_train)

# %%
# Accuracy against the attack radius
# ----------------------------------
# The evaluation attack is PGD-20 (step ``eps / 4``, random start), stronger
# than the 3-step training attack; it uses the true labels. ``eps=0`` is the
# clean accuracy.
radii = [0.0, 0.1, 0.2, 0.3, 0.4]
rows = []
for name, net in nets.items():
    for eps in radii:
        X_adv = PGD(eps=eps, n_steps=20, random_state=0).perturb(
            net, d.X_test, d.y_test
        )
        rows.append({"net": name, "eps": eps, "accuracy": net.score(X_adv, d.y_test)})
    X_fgsm = FGSM(eps=EPS).perturb(net, d.X_test, d.y_test)
    rows.append(
        {"net": name, "eps": f"FGSM {EPS}", "accuracy": net.score(X_fgsm, d.y_test)}
    )
table = pd.DataFrame(rows).pivot(index="eps", columns="net", values="accuracy")
print(table.round(3))

fig, ax = plt.subplots(figsize=(6, 4))
for name in nets:
    ax.plot(radii, [table.loc[eps, name] for eps in radii], "o-", label=name)
ax.axvline(EPS, color="0.6", ls=":", label="training eps")
ax.set_xlabel("PGD-20 radius eps (L-inf)")
ax.set_ylabel("test accuracy")
ax.legend()
fig.tight_layout()

# %%
# Robustness is not spread evenly
# -------------------------------
# The minority group of these data (group 1) has a smaller class margin: it
# is the worst group under attack for every net. FRAL's goal is that *worst
# group's* accuracy, clean and under attack;
# :func:`~skfral.metrics.fairness_report` gives both (and the gaps between
# groups) from one PGD-20 call.
attack = PGD(eps=EPS, n_steps=20, random_state=0)
reports = pd.DataFrame(
    {
        name: fairness_report(
            net, d.X_test, d.y_test, sensitive_features=d.s_test, attack=attack
        ).with_group_names()  # numbers and the worst groups' names in one column
        for name, net in nets.items()
    }
)
print(
    reports.loc[
        [
            "standard_accuracy",
            "robust_accuracy",
            "worst_group_standard_accuracy",
            "worst_group_robust_accuracy",
            "worst_group_robust",
            "robust_accuracy_gap",
        ]
    ]
)

# %%
# The same attack works on pipelines: for a ``Pipeline`` ending in the net,
# ``PGD.perturb`` attacks the net's input, after the transforms, and returns
# the adversarial examples there.
from sklearn.base import clone  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

pipe = make_pipeline(StandardScaler(), clone(nets["PGD-AT"]).set_params(max_epochs=3))
pipe.fit(X_train, y_train)
X_adv = PGD(eps=EPS, n_steps=10, random_state=0).perturb(pipe, d.X_test, d.y_test)
print("robust accuracy of the pipeline:", round(pipe[-1].score(X_adv, d.y_test), 3))
change = np.abs(X_adv - pipe[:-1].transform(d.X_test)).max()
print("largest change of a feature:", round(float(change), 4))
plt.show()
