"""A user's own table end to end (issue 12): skfral run --data, [data] in the
config, --dry-run, raw DataFrames in run_fral, bad files."""

import hashlib
import warnings

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


# ---------------------------------------------------------------------------
# Small groups (issue 24 item 4): counts per split, warning, --min-group-size
# ---------------------------------------------------------------------------

SMALL_RUN = dict(
    seeds=1,
    n_rounds=1,
    budget=5,
    initial_size=20,
    val_size=0.25,
    test_size=0.25,
    estimator_params={"max_epochs": 1, "attack_n_steps": 1},
    eval_attack=1,
    torch_threads=1,
    progress=False,
)


def _with_tiny_group(n=600, n_tiny=37, seed=0):
    """A table whose group 'tiny' has 37 of 600 rows (and 'Other' 100)."""
    rng = np.random.RandomState(seed)
    race = np.array(
        ["white"] * (n - n_tiny - 100) + ["Other"] * 100 + ["tiny"] * n_tiny
    )
    rng.shuffle(race)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x": x,
            "job": rng.choice(["a", "b"], n),
            "race": race,
            "y": np.where(x + rng.normal(0, 1, n) > 0, "yes", "no"),
        }
    )
    return frame


@pytest.mark.slow
def test_run_fral_warns_about_a_tiny_group_naming_its_counts():
    from skfral.datasets import SmallGroupWarning, fral_split
    from skfral.experiment import derive_seed

    frame = _with_tiny_group()
    X, y, s = frame[["x", "job"]], frame["y"], frame["race"]
    with pytest.warns(SmallGroupWarning) as record:
        df = run_fral({"loans": (X, y, s)}, ["random"], **SMALL_RUN)
    # the split of seed 0, counted here by hand from its indices
    sp = fral_split(
        X, y, s, initial_size=20, val_size=0.25, test_size=0.25,
        random_state=derive_seed(0, 0, "split"),
    )  # fmt: skip
    n_test = int((s.to_numpy()[sp.test_idx] == "tiny").sum())
    n_val = int((s.to_numpy()[sp.val_idx] == "tiny").sum())
    assert n_test < 30 and n_val < 20  # the premise: 37 rows are too few
    text = " ".join(str(w.message) for w in record)
    assert f"group 'tiny': {n_test} test and {n_val} validation rows (37 in all)" in (
        text
    ), text
    assert "--min-group-size" in text and "min_group_size=N" in text
    assert "group 'white'" not in text  # the large group is not named
    assert df.attrs["merged_groups"] == {}


def test_run_fral_min_group_size_merges_and_says_so():
    from skfral.datasets import SmallGroupWarning

    frame = _with_tiny_group()
    before = frame.copy()
    X, y, s = frame[["x", "job"]], frame["y"], frame["race"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallGroupWarning)  # 137 rows: enough now
        df = run_fral({"loans": (X, y, s)}, ["random"], min_group_size=150, **SMALL_RUN)
    assert df.attrs["merged_groups"] == {"loans": {"tiny": 37, "Other": 100}}
    assert df["n_groups"].eq(2).all()  # white and merged_small_groups
    names = set(df["worst_group_standard"]) | set(df["worst_group_robust"])
    assert names <= {"white", "merged_small_groups"}, names
    pd.testing.assert_frame_equal(frame, before)  # the user's data untouched
    # the worst groups keep their test count: counted here from the split
    from skfral.datasets import fral_split
    from skfral.experiment import derive_seed

    sp = fral_split(
        X, y, s, initial_size=20, val_size=0.25, test_size=0.25,
        min_group_size=150, random_state=derive_seed(0, 0, "split"),
    )  # fmt: skip
    test_groups = np.where(
        np.isin(s.to_numpy()[sp.test_idx], ["tiny", "Other"]),
        "merged_small_groups",
        s.to_numpy()[sp.test_idx],
    )
    for kind in ("standard", "robust"):
        expected = [int((test_groups == g).sum()) for g in df[f"worst_group_{kind}"]]
        assert df[f"worst_group_{kind}_n_test"].tolist() == expected, kind


def test_min_group_size_bad_value_names_the_argument():
    frame = _with_tiny_group()
    data = {"loans": (frame[["x"]], frame["y"], frame["race"])}
    with pytest.raises(ValueError, match="min_group_size=0"):
        run_fral(data, ["random"], min_group_size=0, **SMALL_RUN)
    with pytest.raises(ValueError, match=r"min_group_size=1500 would merge every"):
        run_fral(data, ["random"], min_group_size=1500, **SMALL_RUN)


def _group_rows(text):
    """``{group: [all, pool, initial, validation, test]}`` from --dry-run text."""
    lines = text.splitlines()
    start = lines.index("  rows per group in the split:") + 2
    rows = {}
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        cells = line.split("<-")[0].split()
        rows[cells[0]] = [int(c) for c in cells[1:]]
    return rows


def test_dry_run_prints_group_counts_per_split_and_the_warning(tmp_path, capsys):
    frame = _with_tiny_group()
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "--data", str(path), "--target", "y", "--sensitive", "race"]
    argv += ["--initial-size", "20", "--val-size", "0.25", "--test-size", "0.25"]
    argv += ["--seeds", "1", "--dry-run"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    rows = _group_rows(text)
    # totals counted by hand from the file; parts add up to them
    assert {g: r[0] for g, r in rows.items()} == {
        "Other": 100,
        "tiny": 37,
        "white": 463,
    }
    for group, (total, pool, initial, val, test) in rows.items():
        assert pool + initial + val + test == total, group
    assert sum(r[4] for r in rows.values()) == 150  # test set: 25% of 600
    assert sum(r[3] for r in rows.values()) == 150
    tiny_line = next(line for line in text.splitlines() if line.startswith("    tiny"))
    assert "<- fewer than 30 test or 20 validation rows" in tiny_line
    assert "WARNING: data set 'loans'" in text and "group 'tiny'" in text

    assert main([*argv, "--min-group-size", "150"]) == 0
    text = capsys.readouterr().out
    assert (
        "min_group_size=150 merged 2 group(s) into 'merged_small_groups' (137 rows): "
        "'tiny' (37), 'Other' (100)." in text
    )
    rows = _group_rows(text)
    assert {g: r[0] for g, r in rows.items()} == {
        "merged_small_groups": 137,
        "white": 463,
    }


def test_min_group_size_config_key_matches_the_flag(tmp_path, capsys):
    frame = _with_tiny_group()
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    config = tmp_path / "exp.toml"
    config.write_text(
        f'min_group_size = 150\n[data]\npath = {str(path)!r}\ntarget = "y"\n'
        'sensitive = "race"\n'
    )
    assert main(["run", "--config", str(config), "--dry-run"]) == 0
    from_config = capsys.readouterr().out
    argv = ["run", "--data", str(path), "--target", "y", "--sensitive", "race"]
    assert main([*argv, "--min-group-size", "150", "--dry-run"]) == 0
    assert capsys.readouterr().out == from_config
    assert "merged_small_groups" in from_config


@pytest.mark.slow
def test_cli_run_with_min_group_size_states_the_merge(tmp_path, capsys):
    frame = _with_tiny_group()
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "--data", str(path), "--target", "y", "--sensitive", "race"]
    argv += ["--min-group-size", "150", *RUN_FLAGS]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "merged 2 group(s) into 'merged_small_groups' (137 rows)" in out


def test_min_group_size_on_bundled_and_image_folder_dry_runs(tmp_path, capsys):
    from skfral.datasets import make_face_folder

    # bundled German credit by age: groups counted in the printed table
    argv = ["run", "--datasets", "german_age", "--seeds", "1", "--dry-run"]
    assert main(argv) == 0
    rows = _group_rows(capsys.readouterr().out)
    smallest = min(rows, key=lambda g: rows[g][0])
    n = rows[smallest][0] + 1
    assert main([*argv, "--min-group-size", str(n)]) == 0
    text = capsys.readouterr().out
    assert "merged 1 group(s) into 'merged_small_groups'" in text
    assert f"'{smallest}' ({rows[smallest][0]})" in text

    folder = make_face_folder(tmp_path / "faces", n_images=120, random_state=0)
    argv = ["run", "--image-folder", str(folder), "--layout", "utkface"]
    argv += ["--target", "gender", "--sensitive", "race", "--image-size", "8"]
    argv += ["--seeds", "1", "--initial-size", "10", "--dry-run"]
    assert main(argv) == 0
    rows = _group_rows(capsys.readouterr().out)
    small = sorted(g for g in rows if rows[g][0] < 20)
    assert main([*argv, "--min-group-size", "20"]) == 0
    text = capsys.readouterr().out
    merged = _group_rows(text)
    assert merged["merged_small_groups"][0] == sum(rows[g][0] for g in small)
    assert not set(small) & set(merged)


# ---------------------------------------------------------------------------
# Misleading columns (issue 24 item 5) and the age hint (item 7) on the CLI
# ---------------------------------------------------------------------------


def test_dry_run_warns_about_misleading_columns(tmp_path, capsys):
    frame = _loans()
    frame["branch"] = "north"  # constant
    frame["paid_back"] = np.where(frame["approved"] == "yes", "paid", "none")  # leak
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "--data", str(path), "--target", "approved", "--sensitive", "race"]
    with pytest.warns(UserWarning):  # also issued as MisleadingColumnWarning
        assert main([*argv, "--dry-run", *RUN_FLAGS]) == 0
    lines = capsys.readouterr().out.splitlines()
    warned = [line for line in lines if line.startswith("  WARNING: column")]
    assert len(warned) == 3, warned
    assert "'id' holds a different whole number in every row" in warned[0]
    assert "--drop id" in warned[0]
    assert "'branch' holds the single value 'north'" in warned[1]
    assert "--drop branch" in warned[1]
    assert "'paid_back' alone predicts target 'approved'" in warned[2]
    assert "--drop paid_back" in warned[2]


def test_cli_refuses_a_text_identifier_and_a_numeric_age_group(tmp_path, capsys):
    frame = _loans()
    frame["id"] = [f"L{i:04d}" for i in range(len(frame))]
    frame["age"] = np.random.RandomState(1).randint(18, 80, len(frame))
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "--data", str(path), "--target", "approved", "--dry-run"]
    _fails(
        [*argv, "--sensitive", "race", "--quiet"],
        capsys,
        "column 'id' holds a different value in every row",
        "--drop id",
        "--categorical id",
    )
    _fails(
        [*argv, "--sensitive", "age", "--drop", "id", "--quiet"],
        capsys,
        "sensitive='age' is numeric with",
        'pd.cut(df["age"]',
        "--sensitive age_group",
    )
