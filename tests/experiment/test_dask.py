"""The same run on a dask.distributed LocalCluster gives the local table."""

import joblib
import pandas as pd
import pytest

from skfral.datasets import make_fral_classification
from skfral.experiment import TIMING_COLUMNS, run_fral

from ..small_run import small_run_settings

distributed = pytest.importorskip("distributed")

KWARGS = small_run_settings(
    seeds=2,
    n_rounds=2,
    budget=10,
    estimator_params={"max_epochs": 2, "attack_n_steps": 2},
    eval_attack=3,
    torch_threads=None,
)


@pytest.mark.slow
def test_dask_localcluster_matches_local_processes():
    data = {"toy": make_fral_classification(n_samples=300, random_state=0)}
    local = run_fral(data, ["jin", "random"], n_jobs=2, **KWARGS)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config("dask"), distributed.get_task_stream(client) as ts:
            remote = run_fral(data, ["jin", "random"], **KWARGS)
        assert len(ts.data) >= 4  # every cell ran on the cluster
        pids = client.run(lambda: __import__("os").getpid())
        assert len(pids) == 2
    cols = [c for c in local.columns if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(remote[cols], local[cols])
