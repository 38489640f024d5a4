"""Face loaders and LazyImageArray on tiny generated folders (PIL 4x4 images)."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from skfral.datasets import (
    LazyImageArray,
    fral_split,
    load_celeba,
    load_fairface,
    load_utkface,
)

UTK_NAMES = [
    "25_0_0_20170101000000001.jpg",
    "61_1_2_20170101000000002.jpg.chip.jpg",
    "8_1_1_20170101000000003.jpg",
    "30_0_3_20170101000000004.jpg",
    "45_1_4_20170101000000005.jpg",
    "19_0_0_20170101000000006.jpg",
]


def _image(path, value=(255, 128, 0), size=(4, 4)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, value).save(path)


@pytest.fixture
def utk(tmp_path):
    root = tmp_path / "UTKFace"
    for i, name in enumerate(UTK_NAMES):
        _image(root / name, (40 * i, 255, 0))
    (root / "README.txt").write_text("not an image")
    (root / "sub").mkdir()
    return root


@pytest.fixture
def count_opens(monkeypatch):
    """Count PIL.Image.open calls (the loaders call Image.open through the module)."""
    calls = []
    original = Image.open

    def counting_open(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return calls


def _can_symlink(tmp_path):
    try:
        os.symlink(tmp_path, tmp_path / "probe_link")
    except (OSError, NotImplementedError):
        return False
    os.unlink(tmp_path / "probe_link")
    return True


# ---------------------------------------------------------------------------
# UTKFace
# ---------------------------------------------------------------------------


def test_utkface_default(utk):
    faces = load_utkface(utk)
    assert faces.data.shape == (6, 3, 32, 32) and faces.data.dtype == np.float32
    assert faces.data.min() >= 0.0 and faces.data.max() <= 1.0
    assert faces.filenames.tolist() == sorted(UTK_NAMES)
    by_name = dict(zip(faces.filenames, zip(faces.target, faces.sensitive)))
    assert by_name["25_0_0_20170101000000001.jpg"] == (0, "Male")
    assert by_name["61_1_2_20170101000000002.jpg.chip.jpg"] == (1, "Female")
    assert by_name["30_0_3_20170101000000004.jpg"] == (1, "Male")  # 30 >= age_threshold
    assert faces.target_names.tolist() == ["young", "old"]
    assert faces.sensitive_names.tolist() == ["Male", "Female"]
    assert list(faces.frame.columns) == ["filename", "age", "gender", "race"]
    assert len(faces.feature_names) == 3 * 32 * 32
    assert "non-commercial" in faces.DESCR
    # RGB order and [0, 1] scaling: every image has green 255
    np.testing.assert_allclose(faces.data[:, 1], 1.0, atol=0.02)


def test_utkface_targets_sizes_and_return_X_y(utk):
    X, y, s = load_utkface(
        utk,
        size=(8, 6),
        target="race",
        sensitive="age",
        age_threshold=20,
        return_X_y=True,
    )
    assert X.shape == (6, 3, 8, 6)
    names = sorted(UTK_NAMES)
    assert y.tolist() == [int(n.split("_")[2]) for n in names]
    assert s.tolist() == ["<20" if int(n.split("_")[0]) < 20 else ">=20" for n in names]
    bunch = load_utkface(utk, size=5, target="gender", sensitive="race")
    assert bunch.data.shape == (6, 3, 5, 5)
    assert set(bunch.sensitive) <= {"White", "Black", "Asian", "Indian", "Others"}


def test_utkface_malformed_name(utk):
    _image(utk / "39_1_20170116174525125.jpg.chip.jpg")  # race missing (real case)
    with pytest.raises(
        ValueError,
        match=r"39_1_20170116174525125\.jpg\.chip\.jpg.*malformed"
        r"|malformed.*39_1_20170116174525125",
    ):
        load_utkface(utk)
    with pytest.warns(UserWarning, match="skipped"):
        faces = load_utkface(utk, on_malformed="skip")
    assert len(faces.target) == 6


def test_utkface_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not an existing folder"):
        load_utkface(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no UTKFace image"):
        load_utkface(tmp_path)
    with pytest.raises(TypeError, match="path=3 has type int"):
        load_utkface(3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"target": "gender", "sensitive": "gender"}, ValueError, "same attribute"),
        (
            {"target": "smile"},
            ValueError,
            "target='smile' is not valid: expected one of 'age'",
        ),
        ({"sensitive": "sex"}, ValueError, "sensitive='sex' is not valid"),
        ({"size": (0, 4)}, ValueError, r"size\[0\] \(height\)=0 is invalid"),
        ({"size": "big"}, ValueError, "size='big' is invalid"),
        ({"lazy": "yes"}, TypeError, "lazy='yes'"),
        ({"on_malformed": "ignore"}, ValueError, "on_malformed='ignore' is not valid"),
    ],
)
def test_utkface_bad_arguments(utk, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_utkface(utk, **kwargs)


def test_utkface_refuses_symlink_escaping(utk, tmp_path):
    if not _can_symlink(tmp_path):
        pytest.skip("symbolic links not supported here")
    outside = tmp_path / "secret" / "50_0_0_20170101000000009.jpg"
    _image(outside)
    os.symlink(outside, utk / "50_0_0_20170101000000009.jpg")
    with pytest.raises(ValueError, match="outside the data folder"):
        load_utkface(utk)


def test_utkface_accepts_symlink_inside(utk):
    if not _can_symlink(utk.parent):
        pytest.skip("symbolic links not supported here")
    os.symlink(utk / UTK_NAMES[0], utk / "70_1_1_20170101000000010.jpg")
    assert load_utkface(utk, size=4).data.shape == (7, 3, 4, 4)


# ---------------------------------------------------------------------------
# LazyImageArray
# ---------------------------------------------------------------------------


def test_lazy_loading_is_lazy(utk, count_opens):
    eager = load_utkface(utk, size=6).data
    count_opens.clear()
    lazy = load_utkface(utk, size=6, lazy=True).data
    assert count_opens == []  # nothing read yet
    assert isinstance(lazy, LazyImageArray)
    assert lazy.shape == (6, 3, 6, 6) and lazy.dtype == np.float32 and lazy.ndim == 4
    assert len(lazy) == 6 and count_opens == []
    first = lazy[0]
    assert first.shape == (3, 6, 6) and len(count_opens) == 1
    np.testing.assert_allclose(first, eager[0])
    np.testing.assert_allclose(lazy[[0, 2, -1]], eager[[0, 2, -1]])
    assert len(count_opens) == 4
    np.testing.assert_allclose(lazy[1:4], eager[1:4])
    np.testing.assert_allclose(lazy[np.array([True, False] * 3)], eager[::2])
    np.testing.assert_allclose(lazy[2, 1], eager[2, 1])
    np.testing.assert_allclose(lazy[:, 0, 0, 0], eager[:, 0, 0, 0])
    assert lazy[[]].shape == (0, 3, 6, 6)
    count_opens.clear()
    sub = lazy.subset([4, 1])
    assert count_opens == [] and sub.shape == (2, 3, 6, 6)
    np.testing.assert_allclose(np.asarray(sub), eager[[4, 1]])
    np.testing.assert_allclose(np.asarray(lazy), eager)


def test_lazy_index_errors(utk):
    lazy = load_utkface(utk, lazy=True).data
    with pytest.raises(IndexError, match="out of range"):
        lazy[6]
    with pytest.raises(IndexError, match="out of range"):
        lazy[[0, 9]]
    with pytest.raises(IndexError, match="boolean index"):
        lazy[np.array([True, False])]
    with pytest.raises(IndexError, match="cannot index"):
        lazy["a"]


def test_lazy_rechecks_paths_when_reading(utk, tmp_path):
    if not _can_symlink(tmp_path):
        pytest.skip("symbolic links not supported here")
    lazy = load_utkface(utk, lazy=True).data
    outside = tmp_path / "elsewhere.jpg"
    _image(outside)
    target = utk / lazy.filenames[0]
    target.unlink()
    os.symlink(outside, target)
    with pytest.raises(ValueError, match="outside the data folder"):
        lazy[0]


def test_lazy_image_array_direct(tmp_path):
    for i in range(3):
        _image(tmp_path / f"{i}.png", (0, 0, 255))
    images = LazyImageArray(
        ["0.png", "1.png", str(tmp_path / "2.png")], root=tmp_path, size=2
    )
    assert images.shape == (3, 3, 2, 2)
    np.testing.assert_allclose(images[:, 2], 1.0)
    assert "n_images=3" in repr(images)
    assert sum(1 for _ in images) == 3
    with pytest.raises(ValueError, match="outside the data folder"):
        LazyImageArray(["../x.png"], root=tmp_path)
    with pytest.raises(FileNotFoundError, match="'9.png'"):
        LazyImageArray(["9.png"], root=tmp_path)
    with pytest.raises(TypeError, match="single path"):
        LazyImageArray("0.png", root=tmp_path)


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "20_0_0_1.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"could not read image .*20_0_0_1\.jpg"):
        load_utkface(tmp_path)


def test_fral_split_keeps_lazy(utk, count_opens):
    lazy = load_utkface(utk, lazy=True)
    count_opens.clear()
    split = fral_split(
        lazy.data,
        lazy.target,
        lazy.sensitive,
        initial_size=2,
        val_size=1,
        test_size=1,
        random_state=0,
    )
    assert isinstance(split.X_pool, LazyImageArray) and count_opens == []
    assert len(split.X_initial) == 2 and set(split.s_initial) == {"Male", "Female"}
    np.testing.assert_array_equal(
        split.X_initial.filenames, lazy.filenames[split.initial_idx]
    )


# ---------------------------------------------------------------------------
# CelebA
# ---------------------------------------------------------------------------

CELEBA_ATTRS = ["Eyeglasses", "Male", "Smiling", "Young"]
CELEBA_ROWS = [
    ("000001.jpg", [-1, 1, 1, 1]),
    ("000002.jpg", [-1, -1, 1, 1]),
    ("000003.jpg", [1, -1, -1, -1]),
    ("000004.jpg", [-1, 1, -1, 1]),
    ("000005.jpg", [1, -1, 1, -1]),
]


def _write_attr(root, rows=CELEBA_ROWS, names=CELEBA_ATTRS, count=None):
    lines = [str(len(rows) if count is None else count), " ".join(names)]
    lines += [f"{f}  " + " ".join(f"{v:2d}" for v in vals) for f, vals in rows]
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def celeba(tmp_path):
    root = tmp_path / "celeba"
    for i, (name, _) in enumerate(CELEBA_ROWS):
        _image(root / "img_align_celeba" / name, (10 * i, 0, 0), size=(4, 5))
    _write_attr(root)
    (root / "list_eval_partition.txt").write_text(
        "000001.jpg 0\n000002.jpg 0\n000003.jpg 1\n000004.jpg 2\n000005.jpg 2\n"
    )
    return root


def test_celeba_default(celeba):
    faces = load_celeba(celeba, size=(6, 4))
    assert faces.data.shape == (5, 3, 6, 4) and faces.data.dtype == np.float32
    assert faces.target.tolist() == [1, 1, 0, 0, 1]  # Smiling
    assert faces.sensitive.tolist() == ["Male", "Female", "Female", "Male", "Female"]
    assert faces.target_names.tolist() == ["not_Smiling", "Smiling"]
    assert faces.frame.shape == (5, 5) and faces.frame["Young"].tolist() == [
        1,
        1,
        -1,
        1,
        -1,
    ]
    assert faces.filenames[0] == "img_align_celeba/000001.jpg"


def test_celeba_options(celeba):
    X, y, s = load_celeba(
        celeba, target="Young", sensitive="Eyeglasses", split="test", return_X_y=True
    )
    assert len(y) == 2 and y.tolist() == [1, 0]
    assert s.tolist() == ["not_Eyeglasses", "Eyeglasses"]
    lazy = load_celeba(celeba, split="train", lazy=True)
    assert isinstance(lazy.data, LazyImageArray) and len(lazy.data) == 2


def test_celeba_unknown_attribute_lists_valid(celeba):
    with pytest.raises(
        ValueError,
        match=r"target='smiling' is not valid: expected one of "
        r"'Eyeglasses', 'Male', 'Smiling', 'Young'\. Did you mean 'Smiling'\?",
    ):
        load_celeba(celeba, target="smiling")
    with pytest.raises(ValueError, match="same attribute"):
        load_celeba(celeba, target="Male")


def test_celeba_missing_files(celeba):
    (celeba / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="'img_align_celeba/000003.jpg'"):
        load_celeba(celeba)
    (celeba / "list_eval_partition.txt").unlink()
    with pytest.raises(FileNotFoundError, match="list_eval_partition.txt"):
        load_celeba(celeba, split="valid")
    (celeba / "list_attr_celeba.txt").unlink()
    with pytest.raises(FileNotFoundError, match="list_attr_celeba.txt not found"):
        load_celeba(celeba)


@pytest.mark.parametrize(
    "writer, match",
    [
        (lambda r: _write_attr(r, count=9), "announces 9 images but 5 rows"),
        (
            lambda r: _write_attr(r, names=CELEBA_ATTRS[:3]),
            "expected a file name and 3 values",
        ),
        (
            lambda r: _write_attr(r, rows=[("000001.jpg", [0, 1, 1, 1])], count=1),
            r"line 3 \('000001.jpg'\) has a value other than 1 or -1",
        ),
        (
            lambda r: (r / "list_attr_celeba.txt").write_text("many\nMale\n"),
            "line 1 is 'many'",
        ),
    ],
)
def test_celeba_malformed_attribute_file(celeba, writer, match):
    writer(celeba)
    with pytest.raises(ValueError, match=match):
        load_celeba(celeba)


def test_celeba_refuses_escaping_names(celeba, tmp_path):
    _image(tmp_path / "escape.jpg")
    _write_attr(celeba, rows=[("../../escape.jpg", [1, 1, 1, 1])])
    with pytest.raises(ValueError, match="outside the data folder"):
        load_celeba(celeba)


# ---------------------------------------------------------------------------
# FairFace
# ---------------------------------------------------------------------------

FAIRFACE_TRAIN = [
    ("train/1.jpg", "20-29", "Male", "East Asian"),
    ("train/2.jpg", "50-59", "Female", "Black"),
    ("train/3.jpg", "3-9", "Female", "White"),
    ("train/4.jpg", "more than 70", "Male", "Indian"),
]
FAIRFACE_VAL = [
    ("val/1.jpg", "30-39", "Male", "Latino_Hispanic"),
    ("val/2.jpg", "10-19", "Female", "Middle Eastern"),
]


def _write_labels(root, name, rows):
    lines = ["file,age,gender,race,service_test"]
    lines += [",".join(row) + ",True" for row in rows]
    (root / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def fairface(tmp_path):
    root = tmp_path / "fairface"
    for rel, *_ in FAIRFACE_TRAIN + FAIRFACE_VAL:
        _image(root / rel)
    _write_labels(root, "fairface_label_train.csv", FAIRFACE_TRAIN)
    _write_labels(root, "fairface_label_val.csv", FAIRFACE_VAL)
    return root


def test_fairface_default(fairface):
    faces = load_fairface(fairface, size=4)
    assert faces.data.shape == (6, 3, 4, 4) and faces.data.dtype == np.float32
    assert faces.target.tolist() == [0, 1, 0, 1, 1, 0]  # age bin starts at >= 30
    assert faces.sensitive.tolist() == [
        "Male",
        "Female",
        "Female",
        "Male",
        "Male",
        "Female",
    ]
    assert faces.frame["split"].tolist() == ["train"] * 4 + ["val"] * 2
    assert "CC BY 4.0" in faces.DESCR


def test_fairface_options(fairface):
    X, y, s = load_fairface(
        fairface,
        split="val",
        target="race",
        sensitive="age",
        age_threshold=20,
        return_X_y=True,
        size=2,
    )
    assert X.shape == (2, 3, 2, 2)
    assert y.tolist() == [2, 6] and s.tolist() == [">=20", "<20"]
    bunch = load_fairface(
        fairface, split="train", target="gender", sensitive="race", lazy=True
    )
    assert bunch.target.tolist() == [0, 1, 1, 0] and len(bunch.sensitive_names) == 7


def test_fairface_errors(fairface, tmp_path):
    with pytest.raises(
        ValueError, match=r"age_threshold=25 is not a FairFace age-bin boundary"
    ):
        load_fairface(fairface, age_threshold=25)
    with pytest.raises(ValueError, match="split='test' is not valid"):
        load_fairface(fairface, split="test")
    _write_labels(
        fairface, "fairface_label_val.csv", [("val/1.jpg", "30-39", "Male", "Martian")]
    )
    with pytest.raises(
        ValueError,
        match=r"line 2 \('val/1.jpg'\) has race='Martian': "
        r"expected one of 'White'",
    ):
        load_fairface(fairface)
    (fairface / "fairface_label_val.csv").write_text(
        "file,age,gender\nval/1.jpg,3-9,Male\n"
    )
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['race'\]"):
        load_fairface(fairface, split="val")
    (fairface / "fairface_label_val.csv").unlink()
    with pytest.raises(FileNotFoundError, match="fairface_label_val.csv not found"):
        load_fairface(fairface)
    _write_labels(
        fairface, "fairface_label_val.csv", [("val/9.jpg", "3-9", "Male", "White")]
    )
    with pytest.raises(FileNotFoundError, match="'val/9.jpg'"):
        load_fairface(fairface, split="val")


@pytest.mark.parametrize("bad_path", ["../outside.jpg", "ABSOLUTE"])
def test_fairface_refuses_paths_outside(fairface, tmp_path, bad_path):
    outside = tmp_path / "outside.jpg"
    _image(outside)
    bad_path = str(outside) if bad_path == "ABSOLUTE" else bad_path
    _write_labels(
        fairface, "fairface_label_val.csv", [(bad_path, "3-9", "Male", "White")]
    )
    with pytest.raises(ValueError, match="outside the data folder"):
        load_fairface(fairface, split="val")


def test_loaders_do_not_warn(utk, celeba, fairface):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_utkface(utk, size=2)
        load_celeba(celeba, size=2)
        load_fairface(fairface, size=2)
