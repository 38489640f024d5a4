"""load_image_folder, make_face_folder, parallel lazy decoding and bad image folders."""

import pickle
import re
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import skfral.datasets._images as images_module
from skfral.datasets import (
    LazyImageArray,
    load_celeba,
    load_fairface,
    load_image_folder,
    load_utkface,
    make_face_folder,
)

UTK_NAME = re.compile(r"^(\d+)_([01])_([0-4])_(\d+)\.jpg\.chip\.jpg$")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    return {
        layout: make_face_folder(
            root / layout, layout=layout, n_images=40, image_size=12, random_state=0
        )
        for layout in ("utkface", "celeba", "fairface")
    }


# ---------------------------------------------------------------------------
# make_face_folder
# ---------------------------------------------------------------------------


def test_utkface_folder_names_follow_the_published_pattern(folders):
    names = sorted(p.name for p in folders["utkface"].iterdir())
    assert len(names) == 40 and all(UTK_NAME.match(n) for n in names)
    faces = load_image_folder(
        folders["utkface"], layout="utkface", target="age", sensitive="gender"
    )
    # target and groups re-derived from the file names, independently of the loader
    parsed = [UTK_NAME.match(n).groups() for n in faces.filenames]
    ages = np.array([int(p[0]) for p in parsed])
    np.testing.assert_array_equal(faces.target, (ages >= 30).astype(int))
    expected_groups = ["Male" if p[1] == "0" else "Female" for p in parsed]
    assert faces.sensitive.tolist() == expected_groups
    assert isinstance(faces.data, LazyImageArray)  # lazy by default
    assert faces.data.shape == (40, 3, 64, 64)  # image_size=64 by default


def test_celeba_folder_annotations(folders):
    root = folders["celeba"]
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    assert lines[0] == "40" and len(lines[1].split()) == 40 and len(lines) == 42
    assert lines[2].split()[0] == "000001.jpg"
    partition = (root / "list_eval_partition.txt").read_text().split()
    assert sorted(set(partition[1::2])) == ["0", "1", "2"]
    faces = load_image_folder(root, layout="celeba", target="Young", sensitive="Male")
    male_column = lines[1].split().index("Male") + 1
    males = [row.split()[male_column] == "1" for row in lines[2:]]
    assert faces.sensitive.tolist() == ["Male" if m else "Female" for m in males]
    train = load_image_folder(
        root, layout="celeba", target="Young", sensitive="Male", split="train"
    )
    assert len(train.target) == 32  # 80 %


def test_fairface_folder_annotations(folders):
    root = folders["fairface"]
    train = pd.read_csv(root / "fairface_label_train.csv")
    val = pd.read_csv(root / "fairface_label_val.csv")
    assert list(train.columns) == ["file", "age", "gender", "race", "service_test"]
    assert len(train) == 32 and len(val) == 8
    assert train["file"].str.match(r"^train/\d+\.jpg$").all()
    faces = load_image_folder(
        root, layout="fairface", target="gender", sensitive="race", image_size=12
    )
    expected = pd.concat([train, val])["gender"].eq("Female").astype(int)
    assert faces.target.tolist() == expected.tolist()


def test_generated_images_carry_the_target_signal(tmp_path):
    """A linear model beats the majority class on the generated gender labels."""
    from sklearn.linear_model import LogisticRegression

    folder = make_face_folder(
        tmp_path / "f", n_images=300, image_size=16, random_state=1
    )
    X, y, _ = load_image_folder(
        folder,
        layout="utkface",
        target="gender",
        sensitive="race",
        image_size=16,
        lazy=False,
        return_X_y=True,
    )
    X = X.reshape(len(X), -1)
    clf = LogisticRegression(max_iter=500).fit(X[:200], y[:200])
    majority = max(np.mean(y[200:]), 1 - np.mean(y[200:]))
    assert clf.score(X[200:], y[200:]) > majority + 0.2


def test_make_face_folder_is_reproducible(tmp_path):
    a = make_face_folder(tmp_path / "a", n_images=6, image_size=8, random_state=3)
    b = make_face_folder(tmp_path / "b", n_images=6, image_size=8, random_state=3)
    files_a = sorted(a.iterdir())
    assert [p.name for p in files_a] == sorted(p.name for p in b.iterdir())
    assert all(p.read_bytes() == (b / p.name).read_bytes() for p in files_a)


def test_make_face_folder_bad_input(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    with pytest.raises(
        FileExistsError, match=r"used' already exists and is not an empty"
    ):
        make_face_folder(tmp_path / "used")
    assert (tmp_path / "used" / "keep.txt").read_text() == "mine"
    with pytest.raises(
        ValueError, match=r"Unknown layout 'utk' \(did you mean 'utkface'"
    ):
        make_face_folder(tmp_path / "x", layout="utk")
    with pytest.raises(
        ValueError, match=r"n_images=1 is invalid: expected an integer >= 2"
    ):
        make_face_folder(tmp_path / "x", n_images=1)
    with pytest.raises(ValueError, match=r"image_size=4 is invalid"):
        make_face_folder(tmp_path / "x", image_size=4)
    with pytest.raises(TypeError, match=r"path=None has type NoneType"):
        make_face_folder(None)


# ---------------------------------------------------------------------------
# load_image_folder
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout, loader, target, sensitive",
    [
        ("utkface", load_utkface, "gender", "race"),
        ("celeba", load_celeba, "Smiling", "Male"),
        ("fairface", load_fairface, "age", "race"),
    ],
)
def test_load_image_folder_is_the_layout_loader(
    folders, layout, loader, target, sensitive
):
    got = load_image_folder(
        folders[layout], layout=layout, target=target, sensitive=sensitive, image_size=8
    )
    want = loader(
        folders[layout], size=8, target=target, sensitive=sensitive, lazy=True
    )
    np.testing.assert_array_equal(got.target, want.target)
    np.testing.assert_array_equal(got.sensitive, want.sensitive)
    np.testing.assert_array_equal(got.filenames, want.filenames)
    np.testing.assert_array_equal(got.data[:5], want.data[:5])
    eager = load_image_folder(
        folders[layout],
        layout=layout,
        target=target,
        sensitive=sensitive,
        image_size=8,
        lazy=False,
    )
    assert isinstance(eager.data, np.ndarray)
    np.testing.assert_array_equal(eager.data, got.data[:])


def test_load_image_folder_bad_arguments(folders):
    root = folders["utkface"]
    with pytest.raises(
        ValueError, match=r"Unknown layout 'celebA' \(did you mean 'celeba'"
    ):
        load_image_folder(root, layout="celebA", target="age", sensitive="gender")
    with pytest.raises(
        ValueError,
        match=r"Unknown option of the 'utkface' layout 'splt'.*'age_threshold'",
    ):
        load_image_folder(
            root, layout="utkface", target="age", sensitive="gender", splt=1
        )
    with pytest.raises(ValueError, match=r"target='gendr' is not valid"):
        load_image_folder(root, layout="utkface", target="gendr", sensitive="race")
    with pytest.raises(ValueError, match=r"n_jobs=0 is invalid"):
        load_image_folder(
            root, layout="utkface", target="age", sensitive="race", n_jobs=0
        )


# ---------------------------------------------------------------------------
# Bad folders: empty, unreadable files, mixed sizes, grayscale
# ---------------------------------------------------------------------------


def _utk(root, name, size=(10, 10), mode="RGB", value=128):
    root.mkdir(exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255 - value)).save(
        root / name, format="JPEG", quality=95
    )


def test_folder_without_images_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(
        FileNotFoundError, match=r"no UTKFace image in .*expected files"
    ):
        load_image_folder(tmp_path, layout="utkface", target="age", sensitive="race")


@pytest.mark.parametrize("lazy", [True, False])
def test_unreadable_files_are_skipped_with_one_warning(tmp_path, lazy):
    root = tmp_path / "UTKFace"
    for i in range(4):
        _utk(root, f"{20 + i}_{i % 2}_0_{i}.jpg", value=40 * i)
    (root / "31_0_1_90.jpg").write_bytes(b"")  # empty
    (root / "32_1_2_91.jpg").write_text("this is text, not a picture")
    good = (root / "20_0_0_0.jpg").read_bytes()
    (root / "33_0_3_92.jpg").write_bytes(good[: len(good) // 2])  # truncated download
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        faces = load_image_folder(
            root,
            layout="utkface",
            target="age",
            sensitive="race",
            image_size=8,
            lazy=lazy,
        )
    ours = [w for w in caught if "unreadable" in str(w.message)]
    assert len(ours) == 1  # ONE warning, counting and naming the files
    message = str(ours[0].message)
    assert "skipped 3 unreadable image file(s) of 7" in message
    for name in ("31_0_1_90.jpg", "32_1_2_91.jpg", "33_0_3_92.jpg"):
        assert name in message and name in faces.skipped
    assert "empty file" in faces.skipped["31_0_1_90.jpg"]
    assert "truncated JPEG" in faces.skipped["33_0_3_92.jpg"]
    assert len(faces.target) == 4 and len(faces.frame) == 4 and len(faces.data) == 4
    assert faces.frame["filename"].tolist() == faces.filenames.tolist()
    assert all(name not in faces.filenames for name in faces.skipped)
    assert faces.data[:].shape == (4, 3, 8, 8)


def test_first_few_unreadable_files_are_named_and_the_rest_counted(tmp_path):
    root = tmp_path / "UTKFace"
    _utk(root, "20_0_0_0.jpg")
    for i in range(8):
        (root / f"30_1_1_{i}.jpg").write_bytes(b"\x00" * 10)
    with pytest.warns(UserWarning, match=r"skipped 8 unreadable .*; and 3 more\."):
        faces = load_utkface(root)
    assert len(faces.skipped) == 8 and len(faces.target) == 1


def test_every_file_unreadable_is_an_error(tmp_path):
    (tmp_path / "20_0_0_1.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"no readable image in .*all 1 image file"):
        load_image_folder(tmp_path, layout="utkface", target="age", sensitive="race")


def test_damage_inside_a_file_is_named_when_a_lazy_batch_reads_it(tmp_path):
    root = tmp_path / "UTKFace"
    _utk(root, "20_0_0_0.jpg")
    _utk(root, "40_1_1_1.jpg")
    data = bytearray((root / "40_1_1_1.jpg").read_bytes())
    data[3:-10] = b"\x00" * (len(data) - 13)  # keeps the signature and the end marker
    (root / "40_1_1_1.jpg").write_bytes(bytes(data))
    faces = load_utkface(root, lazy=True)  # passes the cheap check
    with pytest.raises(ValueError, match=r"could not read image .*40_1_1_1\.jpg"):
        faces.data[:]
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable .*40_1_1_1\.jpg"):
        eager = load_utkface(root, lazy=False)  # eager loading decodes: skipped
    assert eager.filenames.tolist() == ["20_0_0_0.jpg"]


def test_mixed_sizes_and_grayscale_are_resized_and_converted(tmp_path):
    root = tmp_path / "UTKFace"
    _utk(root, "20_0_0_0.jpg", size=(40, 20), value=200)
    _utk(root, "30_1_1_1.jpg", size=(7, 9), mode="L", value=90)
    faces = load_image_folder(
        root, layout="utkface", target="age", sensitive="race", image_size=(6, 5)
    )
    batch = faces.data[:]
    assert batch.shape == (2, 3, 6, 5)
    gray = batch[1]
    np.testing.assert_allclose(gray[0], gray[1])  # grayscale -> three equal channels
    np.testing.assert_allclose(gray[0], gray[2])
    np.testing.assert_allclose(gray, 90 / 255, atol=3 / 255)


# ---------------------------------------------------------------------------
# Parallel decoding
# ---------------------------------------------------------------------------


def test_parallel_decoding_matches_serial_and_uses_threads(folders, monkeypatch):
    root = folders["utkface"]
    serial = load_utkface(root, size=12, lazy=True, n_jobs=1).data
    parallel = load_utkface(root, size=12, lazy=True, n_jobs=4).data
    threads = set()
    original = images_module._load_image

    def recording(*args, **kwargs):
        threads.add(threading.current_thread().name)
        time.sleep(0.005)  # a slow decode: one fast thread cannot drain the queue alone
        return original(*args, **kwargs)

    monkeypatch.setattr(images_module, "_load_image", recording)
    expected = serial[:]
    assert threads == {threading.current_thread().name}  # n_jobs=1: caller only
    threads.clear()
    np.testing.assert_array_equal(parallel[:], expected)
    assert len(threads) > 1 and all(t.startswith("skfral-decode") for t in threads)
    np.testing.assert_array_equal(parallel[[5, 3, 5]], expected[[5, 3, 5]])
    sub = parallel.subset(np.arange(10, 20))
    assert sub.n_jobs == 4
    np.testing.assert_array_equal(sub[:], expected[10:20])


def test_lazy_array_pickles_without_threads(folders):
    lazy = load_utkface(folders["utkface"], size=12, lazy=True, n_jobs=2).data
    lazy[:8]  # the shared pool now exists
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy.n_jobs == 2
    np.testing.assert_array_equal(copy[:8], lazy[:8])


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "4"])
def test_lazy_array_bad_n_jobs(tmp_path, n_jobs):
    Image.new("RGB", (4, 4)).save(tmp_path / "0.png")
    error = TypeError if not isinstance(n_jobs, int) else ValueError
    with pytest.raises(error, match=r"n_jobs="):
        LazyImageArray(["0.png"], root=tmp_path, n_jobs=n_jobs)
