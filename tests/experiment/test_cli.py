"""The command line: skfral run / report / demo, in-process and as python -m skfral."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from skfral.experiment import TIMING_COLUMNS
from skfral.experiment._cli import CONFIG_KEYS, DEMO_SETTINGS, demo_kwargs, main

ROOT = Path(__file__).resolve().parents[2]
TINY_FLAGS = [
    "--datasets",
    "synthetic",
    "--strategies",
    "jin,random",
    "--seeds",
    "2",
    "--rounds",
    "2",
    "--budget",
    "10",
    "--initial-size",
    "20",
    "--val-size",
    "60",
    "--test-size",
    "60",
    "--pool-size",
    "150",
    "--max-epochs",
    "2",
    "--attack-steps",
    "2",
    "--eval-steps",
    "3",
    "--torch-threads",
    "1",
    "--quiet",
]


def _env():
    path = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "results"
    assert main(["run", *TINY_FLAGS, "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_run_in_process_writes_results_and_report(run_dir):
    df = pd.read_csv(run_dir / "results.csv")
    assert len(df) == 2 * 2 * 3
    assert set(df["strategy"]) == {"jin", "random"}
    assert df["n_labels"].max() == 40
    for name in (
        "manifest.json",
        "summary.md",
        "summary.csv",
        "curves_synthetic.png",
        "curves_synthetic_balanced.png",
    ):
        assert (run_dir / name).is_file(), name


@pytest.mark.slow
def test_python_m_skfral_run_gives_the_same_table(run_dir, tmp_path):
    out = tmp_path / "sub"
    proc = subprocess.run(
        [sys.executable, "-m", "skfral", "run", *TINY_FLAGS, "--out", str(out)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    a = pd.read_csv(run_dir / "results.csv").drop(columns=list(TIMING_COLUMNS))
    b = pd.read_csv(out / "results.csv").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_report_writes_summary_and_pngs(run_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "## synthetic" in printed and "Paired difference against random" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert summary["strategy"].tolist() == ["jin", "random"]
    for col in (
        "worst_group_robust_accuracy_final_mean",
        "worst_group_robust_accuracy_rounds_std",
        "worst_group_standard_balanced_accuracy_final_mean",
        "worst_group_robust_accuracy_final_vs_random_mean",
        "worst_group_robust_accuracy_final_vs_random_n_better",
        "query_seconds_mean",
    ):
        assert col in summary.columns, col
    text = (out / "summary.md").read_text()
    assert "| jin |" in text and "±" in text
    for png in ("curves_synthetic.png", "curves_synthetic_balanced.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_config_file_mirrors_flags(run_dir, tmp_path):
    config = tmp_path / "experiment.toml"
    config.write_text(
        'datasets = ["synthetic"]\nstrategies = ["jin", "random"]\nseeds = 2\n'
        "rounds = 2\nbudget = 10\ninitial_size = 20\nval_size = 60\ntest_size = 60\n"
        "pool_size = 150\nmax_epochs = 2\nattack_steps = 2\neval_steps = 3\n"
        f"torch_threads = 1\nquiet = true\nout = {str(tmp_path / 'cfg')!r}\n"
    )
    assert main(["run", "--config", str(config)]) == 0
    a = pd.read_csv(run_dir / "results.csv").drop(columns=list(TIMING_COLUMNS))
    b = pd.read_csv(tmp_path / "cfg" / "results.csv").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(a, b)


def _fails(argv, capsys, match):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("skfral: error: ") and err.count("\n") == 1, err
    assert match in err, err
    return err


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    _fails(
        ["run", "--datasets", "adlt", "--quiet"],
        capsys,
        "Unknown data set 'adlt' (did you mean 'adult'?): expected one of synthetic",
    )
    _fails(
        ["run", "--datasets", "synthetic", "--strategies", "jin,foo", "--quiet"],
        capsys,
        "Unknown strategy 'foo'",
    )
    _fails(["run", *TINY_FLAGS, "--budget", "1000"], capsys, "exceed the pool")
    _fails(["run", *TINY_FLAGS, "--rounds", "0"], capsys, "n_rounds=0 is invalid")
    _fails(["run", *TINY_FLAGS, "--seeds", "0"], capsys, "seeds=0 is invalid")
    _fails(
        ["run", "--config", str(tmp_path / "missing.toml")],
        capsys,
        "missing.toml' does not exist",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('datasets = ["synthetic"]\nbudgett = 5\n')
    err = _fails(["run", "--config", str(bad)], capsys, "unknown key 'budgett'")
    assert "budget" in err.split("expected")[1]
    _fails(["run", "--quiet"], capsys, "no data set given")
    _fails(["report", str(tmp_path / "nowhere")], capsys, "does not exist")


def test_different_config_refused_without_overwrite(run_dir, capsys):
    flags = [f if f != "10" else "9" for f in TINY_FLAGS]  # budget 9
    _fails(["run", *flags, "--out", str(run_dir)], capsys, "--overwrite")


@pytest.mark.slow
def test_python_m_skfral_bad_input(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "skfral", "run", "--datasets", "nope", "--quiet"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("skfral: error: Unknown data set 'nope'")


def test_config_strategies_table_and_flag_override(tmp_path):
    from skfral.experiment._cli import config_to_kwargs, read_config

    path = tmp_path / "exp.toml"
    path.write_text(
        'datasets = "adult,german"\nseeds = [0, 4]\nbudget = 5\n'
        '[strategies]\nrandom = "random"\n'
        'jin_js = {strategy = "jin", disagreement = "js"}\n'
        "[estimator_params]\nlr = 0.005\n"
    )
    config = read_config(path)
    config["budget"] = 7  # a flag overrides the file
    kw = config_to_kwargs(config)
    assert kw["strategies"] == {
        "random": "random",
        "jin_js": ("jin", {"disagreement": "js"}),
    }
    assert (
        kw["seeds"] == [0, 4] and kw["budget"] == 7 and kw["datasets"] == "adult,german"
    )
    assert kw["estimator_params"] == {"lr": 0.005}
    assert kw["progress"] is True and kw["out_dir"] is None


def test_demo_settings_are_the_documented_job():
    kw = demo_kwargs("x")
    assert kw["datasets"] == ["adult"]
    assert list(kw["strategies"]) == ["jin", "random", "entropy", "worst_group", "fal"]
    assert kw["seeds"] == 3 and kw["n_jobs"] == 2
    assert set(DEMO_SETTINGS) >= {"pool_size", "val_size", "test_size"}
    assert "out" in CONFIG_KEYS and "initial_size" in CONFIG_KEYS
