"""fral_split: sizes, stratification, types, determinism, errors, properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skfral.datasets import fral_split, make_fral_classification

PARTS = ("initial", "pool", "val", "test")


def _data(n=200, seed=0):
    return make_fral_classification(n_samples=n, n_features=3, random_state=seed)


def _check_partition(split, n):
    idx = np.concatenate([split[f"{p}_idx"] for p in PARTS])
    assert np.array_equal(np.sort(idx), np.arange(n))
    for p in PARTS:
        assert split[f"{p}_idx"].dtype == np.int64
        assert np.all(np.diff(split[f"{p}_idx"]) > 0)


def test_sizes_counts_and_fractions():
    X, y, s = _data()
    split = fral_split(
        X, y, s, initial_size=10, val_size=0.2, test_size=30, random_state=0
    )
    sizes = {p: len(split[f"{p}_idx"]) for p in PARTS}
    assert sizes == {"initial": 10, "pool": 120, "val": 40, "test": 30}
    _check_partition(split, 200)
    for p in PARTS:
        idx = split[f"{p}_idx"]
        np.testing.assert_array_equal(split[f"X_{p}"], X[idx])
        np.testing.assert_array_equal(split[f"y_{p}"], y[idx])
        np.testing.assert_array_equal(split[f"s_{p}"], s[idx])


def test_fraction_rounds_up_and_defaults():
    X, y, s = _data(n=101)
    split = fral_split(X, y, s, random_state=0)  # 0.05, 0.15, 0.2 of 101
    assert [len(split[f"{p}_idx"]) for p in ("initial", "val", "test")] == [6, 16, 21]


def test_tiny_initial_set_has_every_group_and_cell():
    X, y, s = _data(n=400)
    groups = fral_split(X, y, s, initial_size=2, random_state=0)
    assert set(groups.s_initial) == {0, 1}
    cells = fral_split(X, y, s, initial_size=4, random_state=0)
    assert set(zip(cells.s_initial, cells.y_initial)) == {
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    }
    for p in ("pool", "val", "test"):
        assert set(zip(cells[f"s_{p}"], cells[f"y_{p}"])) == {
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
        }


def test_proportions_follow_the_cells():
    X, y, s = _data(n=1000)
    split = fral_split(
        X, y, s, initial_size=100, val_size=200, test_size=200, random_state=0
    )
    for p, n_part in (("initial", 100), ("val", 200), ("test", 200)):
        for g in (0, 1):
            for c in (0, 1):
                share = np.mean((s == g) & (y == c))
                got = np.sum((split[f"s_{p}"] == g) & (split[f"y_{p}"] == c))
                assert abs(got - share * n_part) <= 1.5


def test_determinism():
    X, y, s = _data()
    a = fral_split(X, y, s, initial_size=6, random_state=3)
    b = fral_split(X, y, s, initial_size=6, random_state=np.random.RandomState(3))
    c = fral_split(X, y, s, initial_size=6, random_state=4)
    for p in PARTS:
        np.testing.assert_array_equal(a[f"{p}_idx"], b[f"{p}_idx"])
    assert not np.array_equal(a.pool_idx, c.pool_idx)


def test_pandas_inputs_keep_their_type_and_index_on_request():
    X, y, s = _data(n=60)
    index = np.arange(1000, 1060)
    Xf = pd.DataFrame(X, index=index)
    ys = pd.Series(y, index=index, name="y")
    sf = pd.Series(np.where(s == 0, "a", "b"), index=index, name="group")
    before = (Xf.copy(), ys.copy(), sf.copy())
    split = fral_split(
        Xf,
        ys,
        sf,
        initial_size=4,
        val_size=10,
        test_size=10,
        reset_index=False,
        random_state=0,
    )
    assert isinstance(split.X_pool, pd.DataFrame) and isinstance(split.s_val, pd.Series)
    np.testing.assert_array_equal(split.X_initial.index, index[split.initial_idx])
    assert set(split.s_initial) == {"a", "b"}
    pd.testing.assert_frame_equal(Xf, before[0])
    pd.testing.assert_series_equal(ys, before[1])
    pd.testing.assert_series_equal(sf, before[2])


def test_lists_and_intersectional_groups():
    X, y, s = _data(n=80)
    s2 = pd.DataFrame({"g": s, "h": np.arange(80) % 2})
    split = fral_split(
        X.tolist(),
        y.tolist(),
        s2,
        initial_size=4,
        val_size=0,
        test_size=0,
        stratify="group",
        random_state=0,
    )
    assert isinstance(split.X_initial, list) and len(split.X_initial) == 4
    assert len(set(map(tuple, split.s_initial.to_numpy()))) == 4  # 4 intersections
    assert len(split.val_idx) == 0 and len(split.test_idx) == 0


@pytest.mark.parametrize("stratify", ["group_class", "group", "class", None])
def test_stratify_options(stratify):
    X, y, s = _data(n=100)
    split = fral_split(X, y, s, initial_size=5, stratify=stratify, random_state=0)
    _check_partition(split, 100)
    if stratify in ("group_class", "group"):
        assert set(split.s_initial) == {0, 1}


def test_string_and_mixed_labels():
    X = np.zeros((20, 2))
    y = np.array(["no", "yes"] * 10, dtype=object)
    s = np.array([1, "b"] * 10, dtype=object)  # mixed types cannot be sorted
    split = fral_split(X, y, s, initial_size=2, val_size=2, test_size=2, random_state=0)
    assert {str(v) for v in split.s_initial} == {"1", "b"}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"initial_size": 1},
            ValueError,
            "initial_size=1 gives 1 sample.*fewer than the 2 groups",
        ),
        (
            {"initial_size": 1.5},
            ValueError,
            r"initial_size=1.5 is invalid: expected a float "
            r"fraction in \(0, 1\)",
        ),
        (
            {"initial_size": 0},
            ValueError,
            r"initial_size=0 is invalid: expected an int count in "
            r"\[1, 50\]",
        ),
        ({"val_size": -2}, ValueError, "val_size=-2 is invalid"),
        ({"test_size": True}, TypeError, "test_size=True has type bool"),
        ({"test_size": "10%"}, TypeError, "test_size='10%'"),
        (
            {"initial_size": 20, "val_size": 20, "test_size": 10},
            ValueError,
            r"20 \+ 20 \+ 10 = 50 samples, leaving no unlabelled pool out of "
            r"n_samples=50",
        ),
        ({"stratify": "groups"}, ValueError, "stratify='groups' is not valid"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    X, y, s = _data(n=50)
    params = {"initial_size": 4, "val_size": 5, "test_size": 5, **kwargs}
    with pytest.raises(error, match=match):
        fral_split(X, y, s, **params)


def test_bad_inputs():
    X, y, s = _data(n=50)
    with pytest.raises(ValueError, match="Inconsistent lengths"):
        fral_split(X, y[:-1], s, initial_size=4)
    with pytest.raises(ValueError, match="y contains missing values"):
        fral_split(X, np.where(y == 0, np.nan, 1.0), s, initial_size=4)
    with pytest.raises(ValueError, match="sensitive contains missing values"):
        fral_split(X, y, np.where(s == 0, None, "b"), initial_size=4)
    with pytest.raises(ValueError, match="expected at least 2"):
        fral_split(X[:1], y[:1], s[:1], initial_size=1)


@st.composite
def _problem(draw):
    n_groups = draw(st.integers(1, 4))
    n_classes = draw(st.integers(1, 3))
    cell_sizes = draw(
        st.lists(
            st.integers(4, 25),
            min_size=n_groups * n_classes,
            max_size=n_groups * n_classes,
        )
    )
    n = sum(cell_sizes)
    sizes = []
    budget = n - n_groups  # keep room for a pool of >= n_groups
    for _ in range(3):
        k = draw(st.integers(n_groups, max(n_groups, budget // 4)))
        sizes.append(k)
        budget -= k
    seed = draw(st.integers(0, 2**31 - 1))
    return n_groups, n_classes, cell_sizes, sizes, seed


@settings(max_examples=60, deadline=None, database=None)
@given(_problem())
def test_split_property_every_group_everywhere(problem):
    n_groups, n_classes, cell_sizes, (n_init, n_val, n_test), seed = problem
    cells = np.repeat(np.arange(n_groups * n_classes), cell_sizes)
    order = np.random.RandomState(seed).permutation(len(cells))
    cells = cells[order]
    s, y = cells // n_classes, cells % n_classes
    X = np.arange(len(cells))[:, None]
    split = fral_split(
        X,
        y,
        s,
        initial_size=n_init,
        val_size=n_val,
        test_size=n_test,
        random_state=seed,
    )
    _check_partition(split, len(cells))
    assert [len(split.initial_idx), len(split.val_idx), len(split.test_idx)] == [
        n_init,
        n_val,
        n_test,
    ]
    for p in PARTS:  # every part is at least n_groups large: every group is in it
        assert set(split[f"s_{p}"]) == set(range(n_groups))
        np.testing.assert_array_equal(split[f"X_{p}"][:, 0], split[f"{p}_idx"])
    if n_init >= n_groups * n_classes:  # and every (group, class) cell is initial
        assert len(set(zip(split.s_initial, split.y_initial))) == n_groups * n_classes


# ---------------------------------------------------------------------------
# Positional parts and the column-name form (issue 12)
# ---------------------------------------------------------------------------


def _shuffled_frame(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X, y, s = _data(n=n, seed=seed)
    index = rng.permutation(np.arange(500, 500 + n))  # shuffled, non-default
    frame = pd.DataFrame(X, columns=["f0", "f1", "f2"], index=index)
    frame["row"] = np.arange(n)  # the position, to check rows independently
    frame["approved"] = y
    frame["race"] = np.where(s == 0, "a", "b")
    return frame


def test_pandas_parts_are_positional_with_a_shuffled_index():
    frame = _shuffled_frame()
    before = frame.copy()
    X = frame[["f0", "f1", "f2", "row"]]
    y = frame["approved"]
    s = frame["race"]
    split = fral_split(
        X, y, s, initial_size=4, val_size=10, test_size=10, random_state=0
    )
    for p in PARTS:
        idx = split[f"{p}_idx"]
        Xp, yp, sp = split[f"X_{p}"], split[f"y_{p}"], split[f"s_{p}"]
        assert list(Xp.index) == list(range(len(idx)))
        assert list(sp.index) == list(range(len(idx)))
        for i in range(len(idx)):  # positional and label access agree
            position = idx[i]
            assert Xp["row"][i] == position
            assert sp[i] == frame["race"].to_numpy()[position]
            assert yp[i] == frame["approved"].to_numpy()[position]
        np.testing.assert_array_equal(Xp["row"].to_numpy(), idx)
    pd.testing.assert_frame_equal(frame, before)  # the input is untouched


def test_numpy_inputs_give_numpy_parts():
    X, y, s = _data(n=40)
    split = fral_split(X, y, s, initial_size=2, random_state=0)
    assert all(isinstance(split[f"{k}_pool"], np.ndarray) for k in "Xys")


@pytest.mark.parametrize("form", ["keywords", "positional"])
def test_column_name_form(form):
    frame = _shuffled_frame()
    before = frame.copy()
    kwargs = dict(initial_size=4, val_size=10, test_size=10, random_state=0)
    if form == "keywords":
        split = fral_split(frame, target="approved", sensitive="race", **kwargs)
    else:
        split = fral_split(frame, "approved", "race", **kwargs)
    arrays = fral_split(
        frame.drop(columns=["approved", "race"]),
        frame["approved"].to_numpy(),
        frame["race"].to_numpy(),
        **kwargs,
    )
    for p in PARTS:
        np.testing.assert_array_equal(split[f"{p}_idx"], arrays[f"{p}_idx"])
        assert list(split[f"X_{p}"].columns) == ["f0", "f1", "f2", "row"]
        rows = split[f"X_{p}"]["row"].to_numpy()
        np.testing.assert_array_equal(rows, split[f"{p}_idx"])
        assert split[f"y_{p}"].name == "approved"
        np.testing.assert_array_equal(
            split[f"s_{p}"].to_numpy(), frame["race"].to_numpy()[rows]
        )
    pd.testing.assert_frame_equal(frame, before)


def test_column_name_form_several_sensitive_columns():
    frame = _shuffled_frame(n=80)
    frame["sex"] = np.where(np.arange(80) % 3 == 0, "f", "m")
    split = fral_split(
        frame,
        target="approved",
        sensitive=["race", "sex"],
        initial_size=4,
        stratify="group",
        random_state=0,
    )
    assert isinstance(split.s_initial, pd.DataFrame)
    assert list(split.s_initial.columns) == ["race", "sex"]
    assert "sex" not in split.X_pool.columns and "race" not in split.X_pool.columns
    assert len({tuple(r) for r in split.s_initial.to_numpy()}) == 4  # every group


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda f: fral_split(f, target="aproved", sensitive="race"),
            ValueError,
            r"target='aproved' is not a column of X \(did you mean 'approved'\?\)",
        ),
        (
            lambda f: fral_split(f, "approved", ["race", "rce"]),
            ValueError,
            r"sensitive='rce' is not a column of X \(did you mean 'race'\?\)",
        ),
        (
            lambda f: fral_split(f, f["approved"], "race", target="approved"),
            TypeError,
            r"got both y \(positional\) and target='approved'",
        ),
        (
            lambda f: fral_split(f.to_numpy(), "approved", "race"),
            TypeError,
            r"y='approved' is a column name, but X is a ndarray, not a DataFrame",
        ),
        (
            lambda f: fral_split(f, target="approved"),
            TypeError,
            r"fral_split needs sensitive",
        ),
        (
            lambda f: fral_split(f, sensitive="race"),
            TypeError,
            r"fral_split needs the labels",
        ),
        (
            lambda f: fral_split(f, target="race", sensitive="race"),
            ValueError,
            r"sensitive='race' and the label column 'race' are the same column",
        ),
        (
            lambda f: fral_split(f, target="approved", sensitive="race", reset_index=1),
            TypeError,
            r"reset_index=1 has type int: expected True or False",
        ),
    ],
)
def test_column_name_form_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(_shuffled_frame())


def test_a_list_of_labels_is_not_read_as_column_names():
    frame = pd.DataFrame({"x": np.arange(6.0), "g": list("aabbab"), "y": [0, 1] * 3})
    labels = ["u", "u", "v", "v", "u", "v"]  # one group label per row
    split = fral_split(
        frame, "y", labels, initial_size=2, val_size=0, test_size=0, random_state=0
    )
    assert list(split.X_pool.columns) == ["x", "g"]  # only the label column left X
    np.testing.assert_array_equal(
        split.s_pool, np.asarray(labels, dtype=object)[split.pool_idx]
    )
    by_name = fral_split(
        frame, "y", ["g"], initial_size=2, val_size=0, test_size=0, random_state=0
    )
    assert list(by_name.X_pool.columns) == ["x"] and by_name.s_pool.name == "g"


# ---------------------------------------------------------------------------
# min_group_size: small groups merged into "merged_small_groups" (issue 24)
# ---------------------------------------------------------------------------


def _groups_37():
    # 400 rows: groups of 300, 37, 40 and 23 rows, counted by hand
    s = np.array(["big"] * 300 + ["tiny"] * 37 + ["Other"] * 40 + ["rare"] * 23)
    y = np.arange(400) % 2
    X = np.arange(800.0).reshape(400, 2)
    return X, y, s


def test_min_group_size_merges_groups_smaller_than_n_in_the_whole_data():
    X, y, s = _groups_37()
    before = s.copy()
    sp = fral_split(X, y, s, initial_size=8, min_group_size=40, random_state=0)
    # groups under 40 rows in all: tiny (37) and rare (23); "Other" (40) stays
    assert sp.merged_groups == {"rare": 23, "tiny": 37}
    np.testing.assert_array_equal(s, before)  # the user's array is not mutated
    every = np.concatenate([sp.s_initial, sp.s_pool, sp.s_val, sp.s_test])
    names, counts = np.unique(every, return_counts=True)
    assert dict(zip(names.tolist(), counts.tolist())) == {
        "Other": 40,
        "big": 300,
        "merged_small_groups": 60,
    }
    # the merged labels are those of the rows, position by position
    for part in ("initial", "pool", "val", "test"):
        expected = np.where(
            np.isin(s[sp[f"{part}_idx"]], ["tiny", "rare"]),
            "merged_small_groups",
            s[sp[f"{part}_idx"]],
        )
        np.testing.assert_array_equal(sp[f"s_{part}"].astype(str), expected)
    # stratified on the merged groups: 60 of 400 rows -> 12 of the 80 test rows
    assert (sp.s_test == "merged_small_groups").sum() == 12


def test_min_group_size_none_or_small_changes_nothing():
    X, y, s = _groups_37()
    plain = fral_split(X, y, s, initial_size=8, random_state=0)
    same = fral_split(X, y, s, initial_size=8, min_group_size=23, random_state=0)
    assert plain.merged_groups == {} and same.merged_groups == {}
    for key in ("initial_idx", "pool_idx", "val_idx", "test_idx", "s_test"):
        np.testing.assert_array_equal(plain[key], same[key])


def test_min_group_size_keeps_pandas_and_joins_intersections():
    n = 200
    frame = pd.DataFrame(
        {
            "race": ["a"] * 150 + ["b"] * 50,
            "sex": (["f", "m"] * 100),
            "x": np.arange(n, dtype=float),
            "y": np.arange(n) % 2,
        }
    )
    frame.loc[190:, "race"] = "c"  # c: 10 rows (5 f, 5 m)
    copy = frame.copy()
    sp = fral_split(
        frame,
        target="y",
        sensitive=["race", "sex"],
        initial_size=6,
        min_group_size=10,
        random_state=0,
    )
    pd.testing.assert_frame_equal(frame, copy)
    assert sp.merged_groups == {"c,f": 5, "c,m": 5}
    assert isinstance(sp.s_test, pd.Series) and sp.s_test.name == "race,sex"
    every = pd.concat([sp.s_initial, sp.s_pool, sp.s_val, sp.s_test])
    assert every.value_counts().to_dict() == {
        "a,f": 75,
        "a,m": 75,
        "b,f": 20,
        "b,m": 20,
        "merged_small_groups": 10,
    }


@pytest.mark.parametrize(
    "min_group_size, s, error, match",
    [
        (0, ["a", "b"] * 10, ValueError, "min_group_size=0"),
        ("5", ["a", "b"] * 10, TypeError, "min_group_size"),
        (11, ["a", "b"] * 10, ValueError, r"merge every group .*'a' \(10\)"),
        (
            3,
            ["a"] * 18 + ["merged_small_groups"] * 2,
            ValueError,
            "already has a group named 'merged_small_groups'",
        ),
    ],
)
def test_min_group_size_bad_values(min_group_size, s, error, match):
    X, y = np.zeros((20, 1)), np.arange(20) % 2
    with pytest.raises(error, match=match):
        fral_split(X, y, np.array(s), initial_size=4, min_group_size=min_group_size)
