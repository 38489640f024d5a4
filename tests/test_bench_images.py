"""The report of benchmarks/bench_images.py from made-up child records (no torch run).

Issue 28: ``--sections`` / ``--ops`` pick what runs; the report says what ran and
lists targets only for what was measured; JIN's sizes past the candidate cap and
below it are fitted separately.
"""

import pytest

from benchmarks import bench_images as bi

OPS_NO_CAPPED = ("entropy", "jin", "report")


def _jin(n, scored, cpu, peak, allocation="bootstrap"):
    return {
        "op": "jin",
        "pool": n,
        "seconds": 2 * cpu,
        "cpu_seconds": cpu,
        "attacked_rows": 512 + scored,
        "attack_calls": [512, scored],
        "val_rows": 512,
        "scored_rows": scored,
        "allocation": allocation,
        "targeting_auc": 0.99,
        "prepare_cpu_s": 5.0,
        "scoring_cpu_s": cpu - 5.0,
        "rss_before_mb": 500.0,
        "rss_peak_mb": peak,
        "ru_maxrss_mb": peak,
    }


def _scaling_only():
    args = bi.parse(
        "--sizes 10000,20000,40000,80000,160000 --sections scaling --ops jin "
        "--max-candidates 4096".split()
    )
    # below the cap: 10 ms of CPU per scored row at 10k and 20k; past it:
    # 4096 rows, 45 s flat, peak RSS +100 MB
    ops = {
        ("jin", 10000): _jin(10000, 1400, 14.0, 1500.0),
        ("jin", 20000): _jin(20000, 2800, 28.0, 1550.0),
        ("jin", 40000): _jin(40000, 4096, 45.0, 1600.0),
        ("jin", 80000): _jin(80000, 4096, 45.0, 1650.0),
        ("jin", 160000): _jin(160000, 4096, 45.0, 1700.0),
    }
    setup = {"fit_s": 1.0, "fit_cpu_s": 1.0, "n_fit": 512}
    return args, bi.to_markdown(args, setup, ops, None, "cmd", 1)


def test_sections_and_ops_are_checked_and_default_to_everything():
    args = bi.parse([])
    assert args.sections == bi.SECTIONS and args.ops == bi.OPS
    assert bi.ops_run(args) == bi.OPS
    args = bi.parse(["--ops", "jin,entropy", "--sections", "scaling"])
    assert bi.ops_run(args) == ("entropy", "jin")
    assert bi.ops_run(bi.parse(["--sections", "throughput,resnet"])) == ()
    assert bi.ops_run(bi.parse(["--capped-candidates", "0"])) == OPS_NO_CAPPED
    for bad in (["--ops", "jin,pgd"], ["--sections", "all"], ["--ops", ","]):
        with pytest.raises(SystemExit):
            bi.parse(bad)
    # the children get the same choice
    args = bi.parse(["--ops", "jin", "--sections", "scaling"])
    assert "--ops=jin" in args.passthrough and "--sections=scaling" in args.passthrough


def test_scaling_only_report_says_what_ran_and_shows_only_measured_targets():
    _, text = _scaling_only()
    assert "Sections run: scaling; operations: jin" in text
    assert "not run: throughput, resnet" in text
    assert "### Throughput" not in text and "ResNet" not in text
    assert "torchattacks" not in text
    # the per-size JIN table: allocation, scored rows, cap binding, ms per row
    assert "| 160000 | bootstrap | 4608 (512 + 4096) | 4096 | yes |" in text
    assert "| 10000 | bootstrap | 1912 (512 + 1400) | 1400 | no |" in text
    assert "| 10.0 |" in text  # 14 s / 1400 rows
    targets = text.split("### Targets")[1]
    past = next(r for r in targets.splitlines() if "past the cap (40000-160000" in r)
    assert "0.000" in past and past.endswith("| yes |")
    growth = next(r for r in targets.splitlines() if "RSS growth" in r)
    assert "+100 MB" in growth and growth.endswith("| yes |")
    whole, scoring = [r for r in targets.splitlines() if "below the cap" in r]
    assert "whole query" in whole and "ratio 1.00" in whole
    assert whole.endswith("| yes |")
    # (14 - 5) s / 1400 rows against (28 - 5) s / 2800 rows: 6.4 and 8.2 ms
    assert "scoring phase" in scoring and "ratio 1.28" in scoring
    assert scoring.endswith("| **no** |")
    # the validation rows split over several attack calls are still found
    assert bi._validation_rows([256, 256, 4096], 512) == 512
    assert bi._validation_rows([4096], 512) == 0


def test_growth_past_the_cap_is_reported_as_not_met():
    args, _ = _scaling_only()
    ops = {
        ("jin", n): _jin(n, 4096, 10.0 * n / 40000, 1500.0 + n / 100)
        for n in (40000, 80000, 160000)
    }
    args.sizes = (40000, 80000, 160000)
    text = bi.to_markdown(args, {"n_fit": 512}, ops, None, "cmd", 1)
    rows = text.split("### Targets")[1].splitlines()
    past = next(r for r in rows if "past the cap" in r)
    assert "1.000" in past and past.endswith("| **no** |")
    growth = next(r for r in rows if "RSS growth" in r)
    assert "+1200 MB" in growth and growth.endswith("| **no** |")
    # no size below the cap: no ratio, and no target for it
    assert "no ratio" in text
    assert not any("below the cap" in r for r in rows)


@pytest.mark.parametrize(
    "allocation, threshold",
    [("soft", 0.85), ("auto", 1.0), ("bootstrap", 0.85), ("auto", 0.5)],
)
def test_the_candidate_cap_bounds_the_scored_rows_under_every_allocation(
    allocation, threshold
):
    # What the benchmark measures: past max_candidates, JIN attacks the
    # validation set and at most max_candidates pool rows, whatever the
    # allocation ("soft", and "auto" going soft, used to fail with a cap).
    import numpy as np

    from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    from skfral.query import JINQueryStrategy

    rows = []

    class CountingPGD(PGD):
        def perturb(self, net, X, y=None):
            rows.append(len(X))
            return super().perturb(net, X, y)

    rng = np.random.RandomState(0)
    X = rng.randn(2600, 4).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    s = rng.choice(["a", "b", "c"], len(y), p=[0.6, 0.3, 0.1])
    net = RobustNeuralNetClassifier(
        MLP, module__n_features=4, max_epochs=1, attack_n_steps=1, random_state=0
    ).fit(X[:100], y[:100])
    jin = JINQueryStrategy(
        X_val=X[100:400],
        y_val=y[100:400],
        sensitive_features_val=s[100:400],
        attack=CountingPGD(eps=0.1, step_size=0.05, n_steps=1),
        group_allocation=allocation,
        predictability_threshold=threshold,
        max_candidates=100,
        random_state=0,
    )
    idx, _ = jin(
        net,
        X[400:],
        8,
        sensitive_features=s[400:],
        X_labelled=X[:100],
        y_labelled=y[:100],
    )
    assert len(set(idx.tolist())) == 8
    assert rows == [300, 100]  # the validation set once, then 100 candidates
    assert jin.last_query_["n_scored"].max() <= 100
    if jin.group_allocation_ == "soft":
        assert (jin.last_query_["n_scored"] == 100).all()
