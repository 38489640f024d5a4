"""
================================================
Label your own data: query, merge, fit, audit
================================================

A loan table where only 30 rows have a label. skfral picks which rows a
person should label next and says why; the answers are merged back; after a
few rounds the final robust model is fitted, saved as a safe model folder,
used for predictions and audited for fairness on clean and attacked inputs.
This is the Python side of ``skfral query | merge | fit | predict | audit``
(user guide: :ref:`labelling`); here the hidden ground truth plays the
person.

The nets are tiny (3 epochs) so that the example runs in well under a
minute: it shows the workflow, not a good model.
"""

# %%
# A table with blank labels
# -------------------------
# Rows with an empty ``approved`` cell are the unlabelled pool. Group ``b``
# is a minority with a shifted decision boundary.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skfral.experiment import audit, fit_model, merge_labels, predict, query_batch

rng = np.random.RandomState(0)
n = 400
race = np.where(rng.rand(n) < 0.3, "b", "a")
income = rng.normal(0, 1, n)
job = rng.choice(["clerk", "nurse", "chef"], n)
approved = np.where(
    income + 0.6 * (race == "b") + 0.3 * (job == "nurse") > 0, "yes", "no"
)
table = pd.DataFrame({"income": income.round(2), "job": job, "race": race})
table["approved"] = approved
truth = table["approved"].copy()  # what the person would answer
table.loc[30:, "approved"] = ""
folder = Path(tempfile.mkdtemp())
data = folder / "loans.csv"
holdout = folder / "holdout.csv"
table.iloc[300:].assign(approved=truth.iloc[300:]).to_csv(holdout, index=False)
table.iloc[:300].to_csv(data, index=False)
print(f"{(table['approved'].iloc[:300] != '').sum()} of 300 rows labelled")

# %%
# Three rounds of query and merge
# -------------------------------
# Each query fits the robust model on the labelled rows (holding out part of
# them to rank the groups for JIN) and writes ``to_label.csv``: id, columns,
# group, score and its parts, a reason, and an empty ``approved`` column.
net = {"max_epochs": 3, "attack_n_steps": 3}
for _ in range(3):
    batch = query_batch(
        data,
        target="approved",
        sensitive="race",
        budget=15,
        net_params=net,
        strategy_params={"n_boot": 100},
    )
    print(batch.message)
    print(
        batch.batch[["row", "group", "score", "reason"]].head(3).to_string(index=False)
    )
    filled = batch.batch.copy()
    filled["approved"] = truth[filled["row"].astype(int)].to_numpy()  # the person
    filled.to_csv(batch.to_label, index=False)
    merged = merge_labels(data, batch.to_label, target="approved")
    print(f"merged {merged.n_merged} labels\n")

# %%
# Fit, predict, audit
# -------------------
# The final model is saved as a folder that loads without unpickling code.
# The audit evaluates labelled rows: a held-out table here.
model = folder / "model"
fit_model(data, target="approved", sensitive="race", save=model, net_params=net)
print(predict(model, holdout).head())
report = audit(model, holdout, attack="pgd", out=folder / "audit", n_boot=100)
print(
    report[
        [
            "worst_group_standard_accuracy",
            "worst_group_robust_accuracy",
            "floor_worst_group_accuracy",
        ]
    ].round(3)
)

# %%
# The audit's figure: accuracy per group, clean beside attacked, the
# majority-class floor dotted.
image = plt.imread(folder / "audit" / "audit.png")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.imshow(image)
ax.axis("off")
plt.show()
