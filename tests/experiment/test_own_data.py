"""A user's own table end to end (issue 12): skfral run --data, [data] in the
config, --dry-run, raw DataFrames in run_fral, bad files."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from skfral.experiment import TIMING_COLUMNS, run_fral
from skfral.experiment._cli import main

from ..small_run import small_run_settings

RUN_FLAGS = [
    "--strategies", "random,entropy", "--seeds", "1", "--rounds", "2",
    "--budget", "8", "--initial-size", "30", "--val-size", "60",
    "--test-size", "60", "--max-epochs", "1", "--attack-steps", "1",
    "--eval-steps", "2", "--torch-threads", "1", "--quiet",
]  # fmt: skip


def _loans(n=240, seed=0):
    """A raw loan table: numbers, categories, missing values, 3 race groups."""
    rng = np.random.RandomState(seed)
    race = rng.choice(["white", "black", "asian"], n, p=[0.6, 0.25, 0.15])
    income = rng.normal(50, 15, n)
    job = rng.choice(["clerk", "nurse", "chef", "driver"], n)
    logit = (income - 50) / 10 + (job == "nurse") - 0.5 * (race == "asian")
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "income": income,
            "job": job,
            "owns_home": rng.rand(n) < 0.4,
            "race": race,
            "sex": rng.choice(["f", "m"], n),
            "approved": np.where(logit + rng.normal(0, 1, n) > 0, "yes", "no"),
        }
    )
    frame.loc[rng.rand(n) < 0.1, "income"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "job"] = None
    return frame


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("own") / "loans.csv"
    _loans().to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_cli_raw_csv_to_report_and_curves(csv, tmp_path, capsys):
    before = _sha(csv)
    out = tmp_path / "out"
    argv = ["run", "--data", str(csv), "--target", "approved", "--sensitive", "race"]
    assert main([*argv, "--drop", "id", *RUN_FLAGS, "--out", str(out)]) == 0
    df = pd.read_csv(out / "results.csv")
    assert set(df["dataset"]) == {"loans"}
    assert df["n_labels"].tolist() == [30, 38, 46] * 2
    assert df["n_groups"].eq(3).all()
    for png in ("curves_loans.png", "curves_loans_balanced.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| entropy |" in (out / "summary.md").read_text()
    assert _sha(csv) == before  # the user's file is untouched


def test_dry_run_prints_what_was_inferred(csv, tmp_path, capsys):
    before = _sha(csv)
    out = tmp_path / "never"
    argv = ["run", "--data", str(csv), "--target", "approved", "--sensitive", "race"]
    argv += [
        "--sensitive",
        "sex",
        "--categorical",
        "id",
        "--dry-run",
        "--out",
        str(out),
    ]
    assert main([*argv, *RUN_FLAGS]) == 0
    text = capsys.readouterr().out
    frame = _loans()
    counts = frame.groupby(["race", "sex"]).size()
    # intersectional groups with their sizes, counted here independently
    assert f"asian,f ({counts['asian', 'f']})" in text
    assert f"white,m ({counts['white', 'm']})" in text
    n_yes = int((frame["approved"] == "yes").sum())
    assert f"no ({len(frame) - n_yes}), yes ({n_yes})" in text
    assert f"income: numeric, {frame['income'].isna().sum()} missing" in text
    assert (
        f"job: categorical, 4 categories, {frame['job'].isna().sum()} missing" in text
    )
    assert "id: categorical" in text and "owns_home: categorical" in text
    assert "split (seed 0): initial 30, pool 90, validation 60, test 60" in text
    assert "2 rounds x 8 = 16 labels" in text
    assert not out.exists() and _sha(csv) == before


def test_config_data_table_mirrors_flags(csv, tmp_path, capsys):
    config = tmp_path / "exp.toml"
    config.write_text(
        f'[data]\npath = {str(csv)!r}\ntarget = "approved"\n'
        'sensitive = ["race", "sex"]\ncategorical = "id"\n'
    )
    assert main(["run", "--config", str(config), "--dry-run", *RUN_FLAGS]) == 0
    from_config = capsys.readouterr().out
    argv = ["run", "--data", str(csv), "--target", "approved", "--sensitive", "race"]
    argv += ["--sensitive", "sex", "--categorical", "id", "--dry-run"]
    assert main([*argv, *RUN_FLAGS]) == 0
    assert capsys.readouterr().out == from_config


def test_parquet_works_like_csv(csv, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "loans.parquet"
    pd.read_csv(csv).to_parquet(parquet)
    common = ["--target", "approved", "--sensitive", "race", "--dry-run", *RUN_FLAGS]
    assert main(["run", "--data", str(parquet), *common]) == 0
    a = capsys.readouterr().out
    assert main(["run", "--data", str(csv), *common]) == 0
    b = capsys.readouterr().out
    assert "(parquet, 240 rows)" in a and "(csv, 240 rows)" in b
    assert a.splitlines()[1:] == b.splitlines()[1:]  # same columns, groups, split


def _fails(argv, capsys, *needles):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("skfral: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def test_bad_files_and_columns_fail_with_one_line(csv, tmp_path, capsys):
    before = _sha(csv)
    base = ["run", "--data", str(csv), "--dry-run", "--quiet"]
    _fails([*base, "--target", "aproved", "--sensitive", "race"], capsys, "aproved")
    _fails([*base, "--target", "approved", "--sensitive", "rase"], capsys, "rase")
    one_class = tmp_path / "one.csv"
    _loans().assign(approved="yes").to_csv(one_class, index=False)
    _fails(
        [
            "run",
            "--data",
            str(one_class),
            "--target",
            "approved",
            "--sensitive",
            "race",
        ],
        capsys,
        "approved",
        "class",
    )
    nan_group = tmp_path / "nan_group.csv"
    frame = _loans()
    frame.loc[3, "race"] = None
    frame.to_csv(nan_group, index=False)
    _fails(
        [
            "run",
            "--data",
            str(nan_group),
            "--target",
            "approved",
            "--sensitive",
            "race",
        ],
        capsys,
        "race",
        "missing",
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _fails(
        ["run", "--data", str(empty), "--target", "approved", "--sensitive", "race"],
        capsys,
        "empty.csv",
    )
    png = tmp_path / "picture.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    _fails(
        ["run", "--data", str(png), "--target", "approved", "--sensitive", "race"],
        capsys,
        "picture.csv",
    )
    _fails(["run", "--target", "approved", "--quiet"], capsys, "--target needs --data")
    _fails(
        ["run", "--data", str(csv), "--target", "approved", "--quiet"],
        capsys,
        "data has no sensitive: pass --sensitive",
    )
    assert _sha(csv) == before


@pytest.mark.slow
def test_run_fral_takes_a_raw_dataframe_and_leaves_it_alone():
    frame = _loans(seed=1)
    frame.index = np.random.RandomState(0).permutation(len(frame)) + 1000
    X = frame.drop(columns=["id", "race", "sex", "approved"])
    y, s = frame["approved"], frame[["race", "sex"]]
    copies = X.copy(), y.copy(), s.copy()
    kw = small_run_settings(seeds=1, n_rounds=1, budget=8, initial_size=30)
    df = run_fral({"loans": (X, y, s)}, ["random"], **kw)
    assert df["n_groups"].eq(6).all()  # race x sex, intersectional
    assert df["worst_group_standard_accuracy"].between(0, 1).all()
    pd.testing.assert_frame_equal(X, copies[0])
    pd.testing.assert_series_equal(y, copies[1])
    pd.testing.assert_frame_equal(s, copies[2])
    # The user's own Pipeline is used as given (here: the same steps, by hand).
    from sklearn.pipeline import make_pipeline

    from skfral.datasets import make_tabular_preprocessor
    from skfral.experiment import default_estimator

    width = make_tabular_preprocessor(X).fit(X).transform(X).shape[1]
    pipe = make_pipeline(make_tabular_preprocessor(X), default_estimator(width, 2))
    mine = run_fral({"loans": (X, y, s)}, ["random"], estimator=pipe, **kw)
    cols = [c for c in df.columns if c not in TIMING_COLUMNS]
    pd.testing.assert_frame_equal(mine[cols], df[cols])


def test_numpy_with_nan_still_names_the_fix():
    X = np.zeros((50, 3))
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN.*pass a pandas DataFrame"):
        run_fral(
            {"t": (X, np.arange(50) % 2, np.arange(50) % 2)},
            ["random"],
            seeds=1,
            n_rounds=1,
            budget=2,
            initial_size=10,
        )
