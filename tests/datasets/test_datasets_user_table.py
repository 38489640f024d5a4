"""load_table and make_tabular_preprocessor: a user's own CSV/Parquet table."""

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline

from skfral.datasets import (
    MisleadingColumnWarning,
    fral_split,
    load_table,
    make_tabular_preprocessor,
)

LOANS = pd.DataFrame(
    {
        "income": [40.0, np.nan, 55.0, 31.0, 62.0, 28.0, np.nan, 47.0],
        "job": ["clerk", "nurse", None, "clerk", "chef", "nurse", "chef", None],
        "race": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "sex": ["f", "m", "f", "m", "f", "m", "f", "m"],
        "loan_id": [f"L{i}" for i in range(8)],
        "approved": ["yes", "no", "no", "yes", "yes", "no", "yes", "no"],
    }
)


def _write_csv(tmp_path, frame, name="loans.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# load_table: what it returns
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet", "tsv", "csv.gz"])
def test_load_table_returns_features_labels_groups(tmp_path, fmt):
    path = tmp_path / f"loans.{fmt}"
    if fmt == "parquet":
        LOANS.to_parquet(path)
    else:
        LOANS.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    before = _digest(path)
    X, y, s, info = load_table(
        path, target="approved", sensitive="race", drop="loan_id"
    )
    assert _digest(path) == before  # the file is untouched
    # Expected values written out from LOANS by hand, not by load_table.
    assert list(X.columns) == ["income", "job", "sex"]
    np.testing.assert_array_equal(X["income"].to_numpy(), LOANS["income"].to_numpy())
    assert X["job"].isna().tolist() == [False, False, True] + [False] * 4 + [True]
    assert y.tolist() == ["yes", "no", "no", "yes", "yes", "no", "yes", "no"]
    assert s.name == "race" and s.tolist() == list("abcabcab")
    assert info["format"] == ("tsv" if fmt == "tsv" else fmt.split(".")[0])
    assert info["n_samples"] == 8 and info["target"] == "approved"
    assert info["classes"] == {"no": 4, "yes": 4}
    assert info["groups"] == {"a": 3, "b": 3, "c": 2}
    assert info["features"] == {
        "income": "numeric",
        "job": "categorical",
        "sex": "categorical",
    }
    assert info["categorical"] == ["job", "sex"] and info["numeric"] == ["income"]
    assert info["missing"] == {"income": 2, "job": 2, "sex": 0}
    assert info["sensitive"] == ["race"] and info["dropped"] == ["loan_id"]


def test_load_table_several_sensitive_columns_make_intersections(tmp_path):
    path = _write_csv(tmp_path, LOANS)
    X, y, s, info = load_table(path, target="approved", sensitive=["race", "sex"])
    assert isinstance(s, pd.DataFrame) and list(s.columns) == ["race", "sex"]
    assert "race" not in X.columns and "sex" not in X.columns
    assert info["groups"] == {
        "a,f": 2,
        "a,m": 1,
        "b,f": 1,
        "b,m": 2,
        "c,f": 1,
        "c,m": 1,
    }


def test_load_table_categorical_codes(tmp_path):
    frame = pd.DataFrame(
        {
            "grade": [1, 2, 3, 1, 2, 3],
            "x": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            "g": list("ababab"),
            "y": [0, 1, 0, 1, 0, 1],
        }
    )
    path = _write_csv(tmp_path, frame)
    X, y, _, info = load_table(path, target="y", sensitive="g", categorical="grade")
    assert isinstance(X["grade"].dtype, pd.CategoricalDtype)
    assert X["grade"].astype(int).tolist() == [1, 2, 3, 1, 2, 3]
    assert info["features"] == {"grade": "categorical", "x": "numeric"}
    assert y.tolist() == [0, 1, 0, 1, 0, 1]
    # make_tabular_preprocessor finds the category dtype on its own: 3 + 1 columns
    assert make_tabular_preprocessor(X).fit_transform(X).shape == (6, 4)


def test_load_table_refuses_a_text_identifier_unless_named_categorical(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [f"row{i}" for i in range(60)],
            "x": np.arange(60.0) % 7,
            "g": ["a", "b"] * 30,
            "y": [0, 1, 1] * 20,
        }
    )
    path = _write_csv(tmp_path, frame)
    with pytest.raises(ValueError, match=r"column 'id' holds a different value in "
                       r"every row \(60 rows.*drop=\['id'\] \(--drop id\).*"
                       r"categorical=\['id'\] \(--categorical id\)"):  # fmt: skip
        load_table(path, target="y", sensitive="g")
    # named in categorical: encoded as asked, with a warning naming the fix
    with pytest.warns(MisleadingColumnWarning, match=r"'id'.*60 features.*--drop id"):
        X, _, _, info = load_table(path, target="y", sensitive="g", categorical="id")
    assert "id" in X.columns and len(info["warnings"]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, *_ = load_table(path, target="y", sensitive="g", drop=["id"])
    assert list(X.columns) == ["x"]


def test_load_table_warns_about_free_text_and_numeric_identifiers(tmp_path):
    n = 120
    frame = pd.DataFrame(
        {
            "note": [f"n{min(i, 80)}" for i in range(n)],  # 81 values in 120 rows
            "customer": np.arange(1000, 1000 + n),  # a whole number per row
            "height": np.linspace(150.0, 190.5, n),  # distinct measurements: fine
            "g": ["a", "b"] * (n // 2),
            "y": [0, 1, 1] * (n // 3),
        }
    )
    path = _write_csv(tmp_path, frame)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        X, _, _, info = load_table(path, target="y", sensitive="g")
    texts = [str(w.message) for w in record if w.category is MisleadingColumnWarning]
    assert texts == info["warnings"]
    assert len(texts) == 2, texts
    assert "column 'note' is categorical with 81 distinct values" in texts[0]
    assert "--drop note" in texts[0]
    assert "column 'customer' holds a different whole number" in texts[1]
    assert "--drop customer" in texts[1]
    assert list(X.columns) == ["note", "customer", "height"]  # warned, never dropped


def test_load_table_warns_about_constant_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "country": ["FR"] * 40,
            "empty": [np.nan] * 40,
            "x": np.arange(40.0) % 5,
            "g": ["a", "b"] * 20,
            "y": [0, 1] * 20,
        }
    )
    path = _write_csv(tmp_path, frame)
    with pytest.warns(MisleadingColumnWarning) as record:
        _, _, _, info = load_table(path, target="y", sensitive="g")
    texts = [str(w.message) for w in record]
    assert any(
        "column 'country' holds the single value 'FR' in every row" in t
        and "--drop country" in t
        for t in texts
    ), texts
    assert any("column 'empty' holds no value in every row" in t for t in texts)
    assert not any("'x'" in t for t in texts), texts


def _leak_frame(n=200, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.choice(["yes", "no"], n)
    return pd.DataFrame(
        {
            # recorded after the outcome: equals the label in 99% of rows
            "status": np.where(
                rng.rand(n) < 0.99, np.where(y == "yes", "paid", "late"), "paid"
            ),
            # a threshold on a number: > 50 exactly when approved
            "score": np.where(y == "yes", 50 + rng.rand(n) * 50, rng.rand(n) * 50),
            "noise": rng.normal(size=n),
            "job": rng.choice(["a", "b", "c"], n),
            "g": rng.choice(["f", "m"], n),
            "y": y,
        }
    )


def _held_out_balanced_accuracy(frame, column):
    """Brute force: the majority rule of every value (or every threshold for
    numbers) learnt on the even rows, scored on the odd ones, and back."""
    y = frame["y"].to_numpy()
    classes = np.unique(y)
    pred = np.empty(len(y), dtype=object)
    for learn in (0, 1):
        fit = np.arange(len(y)) % 2 == learn
        if not pd.api.types.is_numeric_dtype(frame[column]):
            # ties go to the class seen first in y (the rule's convention)
            order = list(pd.unique(y))
            majority = {}
            for v in frame[column][fit].unique():
                labels = list(y[fit][frame[column][fit] == v])
                top = max(labels.count(c) for c in order)
                majority[v] = next(c for c in order if labels.count(c) == top)
            pred[~fit] = [majority[v] for v in frame[column][~fit]]
        else:
            x = frame[column].to_numpy()
            best = (-1, None)
            for t in np.unique(x[fit]):
                for hi in classes:
                    lo = classes[classes != hi][0]
                    p = np.where(x[fit] > t, hi, lo)
                    ba = np.mean([np.mean(p[y[fit] == c] == c) for c in classes])
                    if ba > best[0]:
                        best = (ba, (t, hi, lo))
            t, hi, lo = best[1]
            pred[~fit] = np.where(x[~fit] > t, hi, lo)
    return np.mean([np.mean(pred[y == c] == c) for c in classes])


def test_load_table_warns_about_columns_that_alone_predict_the_target(tmp_path):
    frame = _leak_frame()
    for column in ("status", "score"):  # the premise, computed by brute force
        assert _held_out_balanced_accuracy(frame, column) >= 0.98, column
    for column in ("noise", "job"):
        assert _held_out_balanced_accuracy(frame, column) < 0.7, column
    path = _write_csv(tmp_path, frame)
    with pytest.warns(MisleadingColumnWarning) as record:
        load_table(path, target="y", sensitive="g")
    texts = [str(w.message) for w in record]
    assert len(texts) == 2, texts
    for column, text in zip(("status", "score"), texts):
        assert f"column {column!r} alone predicts target 'y'" in text, text
        assert f"--drop {column}" in text and "leak" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_table(path, target="y", sensitive="g", drop=["status", "score"])


@pytest.mark.parametrize("seed", range(5))
def test_single_column_balanced_accuracy_matches_brute_force(seed):
    from skfral.datasets._misleading_columns import single_column_balanced_accuracy

    frame = _leak_frame(n=60, seed=seed)
    y_codes, _ = pd.factorize(frame["y"])
    # the numeric rule also tries quantile bins, so it is at least the stump's
    for column, kind in (("status", "categorical"), ("job", "categorical")):
        got = single_column_balanced_accuracy(frame[column], y_codes, kind)
        assert got == pytest.approx(_held_out_balanced_accuracy(frame, column))
    got = single_column_balanced_accuracy(frame["noise"], y_codes, "numeric")
    assert got >= _held_out_balanced_accuracy(frame, "noise") - 1e-12


def test_load_table_numeric_sensitive_column_names_how_to_bin_it(tmp_path):
    rng = np.random.RandomState(0)
    age = rng.randint(17, 91, 300)
    frame = pd.DataFrame({"x": rng.normal(size=300), "age": age, "y": [0, 1] * 150})
    path = _write_csv(tmp_path, frame)
    n_distinct = len(np.unique(age))
    q = np.round(np.quantile(age, [0.25, 0.5, 0.75]))
    cuts = ", ".join(f"{c:g}" for c in q)
    with pytest.raises(ValueError) as err:
        load_table(path, target="y", sensitive="age")
    text = str(err.value)
    assert f"sensitive='age' is numeric with {n_distinct} distinct values" in text
    assert f'pd.cut(df["age"], bins=[-np.inf, {cuts}, np.inf], right=False)' in text
    assert "--sensitive age_group" in text
    # the suggested line works and gives 4 groups that load
    frame["age_group"] = pd.cut(
        frame["age"], bins=[-np.inf, *q, np.inf], right=False
    ).astype(str)
    path = _write_csv(tmp_path, frame.drop(columns="age"), "binned.csv")
    _, _, s, info = load_table(path, target="y", sensitive="age_group")
    assert len(info["groups"]) == 4


# ---------------------------------------------------------------------------
# load_table: bad input battery
# ---------------------------------------------------------------------------


def _bad_files(tmp_path):
    """name -> (path, kwargs) of files that load_table must refuse."""
    files = {}

    def csv(name, text):
        path = tmp_path / name
        path.write_text(text)
        return path

    ok = "x,race,approved\n1,a,yes\n2,b,no\n3,a,no\n"
    files["missing_target"] = (csv("t1.csv", ok), {"target": "aproved"})
    files["missing_sensitive"] = (csv("t2.csv", ok), {"sensitive": "rac"})
    files["missing_drop"] = (csv("t3.csv", ok), {"drop": ["y"]})
    files["one_class"] = (csv("t4.csv", "x,race,approved\n1,a,1\n2,b,1\n"), {})
    files["sensitive_nan"] = (
        csv("t5.csv", "x,race,approved\n1,a,1\n2,,0\n3,b,0\n"),
        {},
    )
    files["single_group"] = (csv("t6.csv", "x,race,approved\n1,a,1\n2,a,0\n"), {})
    files["target_nan"] = (csv("t7.csv", "x,race,approved\n1,a,1\n2,b,\n3,b,0\n"), {})
    files["empty"] = (csv("t8.csv", ""), {})
    files["header_only"] = (csv("t9.csv", "x,race,approved\n"), {})
    png = tmp_path / "image.csv"
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    files["png_as_csv"] = (png, {})
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    files["binary_as_csv"] = (binary, {})
    image = tmp_path / "photo.png"
    Image.new("RGB", (4, 4)).save(image)
    files["unknown_extension"] = (image, {})
    bad_parquet = tmp_path / "table.parquet"
    bad_parquet.write_text(ok)
    files["not_parquet"] = (bad_parquet, {})
    rng = np.random.RandomState(0)
    rows = "".join(f"{i},{'ab'[i % 2]},{rng.rand():.4f}\n" for i in range(50))
    files["regression_target"] = (csv("t10.csv", "x,race,approved\n" + rows), {})
    rows = "".join(
        f"{'unknown' if i == 7 else i},{'ab'[i % 2]},{i % 2}\n" for i in range(50)
    )
    files["text_in_numeric_column"] = (csv("t11.csv", "x,race,approved\n" + rows), {})
    rows = "".join(
        f"{i},{'ab'[i % 2]},{'yes' if i == 9 else i % 2}\n" for i in range(50)
    )
    files["text_in_numeric_target"] = (csv("t12.csv", "x,race,approved\n" + rows), {})
    files["target_is_sensitive"] = (csv("t13.csv", ok), {"sensitive": "approved"})
    files["drop_target"] = (csv("t14.csv", ok), {"drop": "approved"})
    files["no_feature_left"] = (csv("t15.csv", ok), {"drop": "x"})
    files["folder"] = (tmp_path, {})
    files["absent"] = (tmp_path / "absent.csv", {})
    return files


BAD = {
    "missing_target": (
        ValueError,
        r"target='aproved' is not a column of .*t1\.csv' \(did you mean 'approved'\?\): "
        r"expected one of 'x', 'race', 'approved'",
    ),
    "missing_sensitive": (
        ValueError,
        r"sensitive='rac' is not a column .*did you mean 'race'",
    ),
    "missing_drop": (ValueError, r"drop='y' is not a column"),
    "one_class": (ValueError, r"target='approved' has a single class \[1\]"),
    "sensitive_nan": (
        ValueError,
        r"sensitive='race' has 1 missing value\(s\) \(rows 1, counting from 0\)",
    ),
    "single_group": (ValueError, r"sensitive='race' has a single group \['a'\]"),
    "target_nan": (ValueError, r"target='approved' has 1 missing value\(s\) \(rows 1,"),
    "empty": (ValueError, r"t8\.csv' is empty: expected a CSV file with a header"),
    "header_only": (ValueError, r"t9\.csv' has 3 column\(s\) and no data row"),
    "png_as_csv": (ValueError, r"image\.csv' is a PNG image, not a CSV text file"),
    "binary_as_csv": (ValueError, r"blob\.csv' is a binary file, not a CSV text file"),
    "unknown_extension": (
        ValueError,
        r"photo\.png' has an unknown extension '\.png': expected a table file",
    ),
    "not_parquet": (ValueError, r"table\.parquet' could not be read as Parquet"),
    "regression_target": (
        ValueError,
        r"target='approved' is numeric with 50 distinct values .*regression target",
    ),
    "text_in_numeric_column": (
        ValueError,
        r"column 'x' holds numbers with 1 non-numeric value\(s\) mixed in \('unknown'\)"
        r".*categorical=\['x'\]",
    ),
    "text_in_numeric_target": (
        ValueError,
        r"target='approved' is a numeric column with non-numeric values mixed in "
        r"\('yes'\)",
    ),
    "target_is_sensitive": (ValueError, r"target='approved' is also in sensitive"),
    "drop_target": (ValueError, r"drop=\['approved'\] names the target column"),
    "no_feature_left": (ValueError, r"has no feature column left"),
    "folder": (ValueError, r"is a folder: expected a CSV or Parquet file"),
    "absent": (FileNotFoundError, r"absent\.csv' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_load_table_bad_input(tmp_path, case):
    path, overrides = _bad_files(tmp_path)[case]
    kwargs = {"target": "approved", "sensitive": "race", **overrides}
    before = _digest(path) if path.is_file() else None
    error, match = BAD[case]
    with pytest.raises(error, match=match) as excinfo:
        load_table(path, **kwargs)
    # our message only: no chained pandas / pyarrow traceback
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__
    if before is not None:
        assert _digest(path) == before


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"target": 3}, TypeError, r"target=3 has type int: expected the name"),
        ({"sensitive": None}, TypeError, r"sensitive=None has type NoneType"),
        ({"sensitive": []}, ValueError, r"sensitive=\[\] is empty"),
        ({"drop": 1}, TypeError, r"drop=1 has type int"),
        ({"categorical": ["zz"]}, ValueError, r"categorical='zz' is not a column"),
    ],
)
def test_load_table_bad_arguments(tmp_path, kwargs, error, match):
    path = _write_csv(tmp_path, LOANS)
    with pytest.raises(error, match=match):
        load_table(path, **{"target": "approved", "sensitive": "race", **kwargs})


def test_load_table_path_type():
    with pytest.raises(TypeError, match=r"path=3 has type int: expected a str"):
        load_table(3, target="a", sensitive="b")


def test_load_table_parquet_without_pyarrow(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "t.parquet"
    LOANS.to_parquet(path)
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match=r"needs pyarrow, which is not installed"):
        load_table(path, target="approved", sensitive="race")


# ---------------------------------------------------------------------------
# make_tabular_preprocessor
# ---------------------------------------------------------------------------


def test_preprocessor_matches_a_hand_computation():
    X = LOANS[["income", "job", "sex"]]
    Z = make_tabular_preprocessor(X).fit_transform(X)
    # categorical first (job: chef, clerk, nurse; sex: f, m), then numeric
    job = LOANS["job"].fillna("chef")  # chef, clerk and nurse tie: the first sorted
    expected_job = np.stack(
        [(job == c).to_numpy() for c in ("chef", "clerk", "nurse")], 1
    )
    expected_sex = np.stack([(LOANS["sex"] == c).to_numpy() for c in ("f", "m")], 1)
    income = LOANS["income"].to_numpy()
    filled = np.where(np.isnan(income), np.nanmedian(income), income)
    expected_income = (filled - filled.mean()) / filled.std()
    expected = np.column_stack([expected_job, expected_sex, expected_income])
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z, expected, atol=1e-12)


def test_preprocessor_width_does_not_depend_on_the_fitted_rows():
    X = LOANS[["income", "job", "sex"]]
    full = make_tabular_preprocessor(X).fit(X)
    # rows 2 and 7: job is missing in both, "nurse" and "chef" never seen
    few = make_tabular_preprocessor(X).fit(X.iloc[[2, 7]])
    assert few.transform(X).shape == full.transform(X).shape == (8, 6)
    assert few.get_feature_names_out().tolist() == full.get_feature_names_out().tolist()
    assert np.isfinite(few.transform(X)).all()
    unseen = X.iloc[:1].assign(job="pilot")
    assert few.transform(unseen)[0, :3].tolist() == [0.0, 0.0, 0.0]


def test_preprocessor_bad_input():
    with pytest.raises(TypeError, match=r"X has type ndarray: expected a pandas"):
        make_tabular_preprocessor(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"names 'jb'.*did you mean 'job'"):
        make_tabular_preprocessor(LOANS, categorical=["jb"])
    dates = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(ValueError, match=r"column 'd' of X has dtype datetime64"):
        make_tabular_preprocessor(dates)


@pytest.mark.slow
def test_raw_csv_to_robust_net_pipeline(tmp_path):
    """A raw CSV with categories and missing values fits with no manual step."""
    from skfral.nn import MLP, RobustNeuralNetClassifier

    rng = np.random.RandomState(0)
    n = 120
    frame = pd.DataFrame(
        {
            "income": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(50, 15, n)),
            "job": rng.choice(["clerk", "nurse", "chef", None], n),
            "race": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    frame["approved"] = np.where(frame["income"].fillna(50) > 50, "yes", "no")
    path = _write_csv(tmp_path, frame)
    X, y, s, info = load_table(path, target="approved", sensitive="race")
    split = fral_split(
        X, y, s, initial_size=20, val_size=20, test_size=20, random_state=0
    )
    pre = make_tabular_preprocessor(X)
    n_features = make_tabular_preprocessor(X).fit_transform(X).shape[1]
    assert n_features == 3 + 1  # chef, clerk, nurse (None is imputed); income
    pipe = make_pipeline(
        pre,
        RobustNeuralNetClassifier(
            MLP,
            module__n_features=n_features,
            max_epochs=2,
            batch_size=16,
            random_state=0,
        ),
    )
    pipe.fit(split.X_initial, split.y_initial)
    proba = pipe.predict_proba(split.X_pool)
    assert proba.shape == (len(split.X_pool), 2) and np.isfinite(proba).all()
    assert set(pipe.predict(split.X_test)) <= {"no", "yes"}
