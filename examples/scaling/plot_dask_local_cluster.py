"""
=======================================
Scaling out: run_fral on a dask cluster
=======================================

:func:`~skfral.experiment.run_fral` sends its cells (data set x strategy x
seed) through joblib, so the active joblib backend decides where they run.
Inside ``joblib.parallel_config("dask")`` they go to the workers of a
``dask.distributed`` cluster, unchanged. Here the cluster is a
``LocalCluster`` of 2 workers on this machine; on a real cluster,
connect the ``Client`` to its scheduler instead. The run is tiny.
"""

# %%
# Start a cluster
# ---------------
# Two workers with one thread each (every cell sets its own torch threads).
# ``processes=False`` runs the workers as threads of this process, which an
# example can start anywhere; in a script, leave it out to get worker
# processes, and create the cluster under ``if __name__ == "__main__":``
# (dask starts them with ``multiprocessing``'s spawn method).
# ``dashboard_address=":0"`` picks a free port.
import joblib
import matplotlib.pyplot as plt
from dask.distributed import Client, LocalCluster

from skfral.experiment import TIMING_COLUMNS, plot_learning_curves, run_fral

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
)
client = Client(cluster)
print(client)

# %%
# Run the cells on it
# -------------------
# The data set is a name of :data:`~skfral.experiment.DATASETS`, so each
# worker loads it itself and a cell ships only its settings. (Data of your
# own, ``{"mine": (X, y, s)}``, travel with the cells.) With ``out_dir`` the
# workers must share its file system; a rerun of the same call then resumes
# where an interrupted one stopped.
settings = dict(
    datasets=["synthetic"],
    strategies=["random", "worst_group", "jin"],
    seeds=2,
    n_rounds=2,
    budget=20,
    initial_size=40,
    val_size=200,
    test_size=300,
    pool_size=300,
    estimator_params={"max_epochs": 5, "attack_n_steps": 3},
    torch_threads=1,
    progress=False,
)
with joblib.parallel_config("dask"):
    on_dask = run_fral(**settings, n_jobs=-1)
print(on_dask[["strategy", "seed", "round", "worst_group_robust_accuracy"]].head())

# %%
# The same table as a local run
# -----------------------------
# Every random number comes from ``(seed, round, purpose)``
# (:func:`~skfral.experiment.derive_seed`), not from the order in which the
# cells run, so the backend does not change the results; only the wall-clock
# columns differ.
local = run_fral(**settings, n_jobs=1)
same = on_dask.drop(columns=list(TIMING_COLUMNS)).equals(
    local.drop(columns=list(TIMING_COLUMNS))
)
print("dask and local tables are equal:", same)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_learning_curves(on_dask, axes)
fig.tight_layout()

# %%
# Ray works the same way: ``ray.util.joblib.register_ray()``, then
# ``with joblib.parallel_config("ray"): run_fral(...)``.
client.close()
cluster.close()
plt.show()
