"""
==========================================================
Images: FRAL on a face-image folder (UTKFace layout), lazy
==========================================================

The paper's setting is facial-attribute recognition on folders of face
images (UTKFace, CelebA). The real folders cannot ship with skfral, so
:func:`~skfral.datasets.make_face_folder` writes a small one in the UTKFace
layout (JPEG files named ``[age]_[gender]_[race]_[date&time].jpg.chip.jpg``,
as published) whose pictures carry a learnable pattern for every attribute,
fainter for the two rarest races. :func:`~skfral.datasets.load_image_folder`
reads it lazily, exactly as it reads the real folder:

.. code-block:: bash

   skfral run --image-folder ~/data/UTKFace --layout utkface \\
       --target gender --sensitive race --image-size 64

Here: 500 images of 32 x 32, random sampling against JIN, two query rounds,
tiny nets so that the example runs in well under a minute on a CPU.
"""

# %%
# A generated folder in the UTKFace layout
# ----------------------------------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skfral.datasets import load_image_folder, make_face_folder
from skfral.experiment import plot_learning_curves, run_fral, summarize

folder = make_face_folder(
    Path(tempfile.mkdtemp()) / "UTKFace",
    layout="utkface",
    n_images=500,
    image_size=32,
    random_state=0,
)
print(sorted(p.name for p in folder.iterdir())[:3])

# %%
# Load it lazily
# --------------
# ``data`` is a :class:`~skfral.datasets.LazyImageArray`: nothing is decoded
# until a batch is read, and a batch is decoded on a few threads. Unreadable
# files would be skipped with one warning (``faces.skipped`` lists them);
# images of another size are resized, grayscale ones converted to RGB.
faces = load_image_folder(
    folder, layout="utkface", target="gender", sensitive="race", image_size=24
)
print(faces.data, faces.target_names.tolist())
groups, counts = np.unique(faces.sensitive, return_counts=True)
print(dict(zip(groups.tolist(), counts.tolist())))

batch = faces.data[:8]  # decodes 8 images, shape (8, 3, 24, 24)
fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, image, label, group in zip(axes, batch, faces.target, faces.sensitive):
    ax.imshow(image.transpose(1, 2, 0))
    ax.set_title(f"{faces.target_names[label]}\n{group}", fontsize=7)
    ax.set_axis_off()
fig.tight_layout()

# %%
# Run FRAL on the folder
# ----------------------
# The runner splits the lazy array (it stays lazy), trains the default robust
# SmallCNN (PGD-AT at ``8/255``, inputs in ``[0, 1]``; here 6 epochs and a
# 3-step training attack) and evaluates every round, clean and under PGD-5,
# by race. One seed of a tiny run: no conclusion about the strategies.
results = run_fral(
    {"faces": faces},
    ["random", "jin"],
    seeds=1,
    n_rounds=2,
    budget=40,
    initial_size=60,
    val_size=100,
    test_size=120,
    estimator_params={"max_epochs": 6, "lr": 0.003, "attack_n_steps": 3},
    eval_attack=5,
    torch_threads=1,
    progress=False,
)
columns = ["strategy", "round", "n_labels", "standard_accuracy", "robust_accuracy"]
columns += ["worst_group_standard_accuracy", "worst_group_robust_accuracy"]
print(results[columns].round(3).to_string())

# %%
# Summary and learning curves
# ---------------------------
summary = summarize(results)
print(summary.filter(like="worst_group_robust_accuracy_final").round(3))
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_learning_curves(results, axes)
fig.tight_layout()
plt.show()
