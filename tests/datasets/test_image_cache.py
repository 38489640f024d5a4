"""The decoded-image cache (skfral.datasets._image_cache)."""

import pickle

import numpy as np
import pytest
from PIL import Image

from skfral.datasets import LazyImageArray
from skfral.datasets._image_cache import (
    CachedImageArray,
    cache_images,
    default_cache_dir,
)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.RandomState(0)
    root = tmp_path / "faces"
    root.mkdir()
    names = []
    for i in range(7):
        pixels = rng.randint(0, 256, size=(9 + i, 11, 3), dtype=np.uint8)
        name = f"{i}.png" if i % 2 else f"{i}.jpg"
        Image.fromarray(pixels).save(root / name)
        names.append(name)
    return root, names


def expected(root, name, size):
    """One image decoded by hand with PIL (independent of the loaders)."""
    with Image.open(root / name) as im:
        im.draft("RGB", (size[1], size[0]))
        im = im.convert("RGB").resize((size[1], size[0]), Image.Resampling.BILINEAR)
        return np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / np.float32(255)


def test_cached_values_equal_the_lazy_ones(folder, tmp_path):
    root, names = folder
    lazy = LazyImageArray(names, root=root, size=(5, 4))
    cached = cache_images(lazy, cache_dir=tmp_path / "cache")
    assert isinstance(cached, CachedImageArray)
    assert cached.shape == lazy.shape == (7, 3, 5, 4)
    assert cached.dtype == np.float32
    for key in ([6, 0, 3, 3], slice(1, 5), np.arange(7) % 2 == 0, 2, -1):
        got, want = cached[key], lazy[key]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want, err_msg=f"key {key!r}")
    np.testing.assert_array_equal(cached[4], expected(root, names[4], (5, 4)))
    np.testing.assert_array_equal(cached[2, 1], lazy[2][1])
    assert list(cached.filenames) == names


def test_cache_is_written_once_and_reused(folder, tmp_path, monkeypatch):
    root, names = folder
    lazy = LazyImageArray(names, root=root, size=(4, 4))
    calls = []
    first = cache_images(
        lazy, cache_dir=tmp_path / "c", progress=lambda d, n: calls.append(d)
    )
    assert calls == [7]
    files = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert files == [first.cache_file.name]  # no temporary file left
    stamp = first.cache_file.stat().st_mtime_ns
    # a second call decodes nothing: reading an image would fail
    monkeypatch.setattr(
        "skfral.datasets._images._load_image",
        lambda *a: pytest.fail("decoded again"),
    )
    again = cache_images(
        LazyImageArray(names, root=root, size=(4, 4)), cache_dir=tmp_path / "c"
    )
    assert again.cache_file == first.cache_file
    assert again.cache_file.stat().st_mtime_ns == stamp


def test_key_changes_with_contents_size_and_files(folder, tmp_path):
    root, names = folder
    a = cache_images(LazyImageArray(names, root=root, size=(4, 4)), cache_dir=tmp_path)
    b = cache_images(LazyImageArray(names, root=root, size=(5, 4)), cache_dir=tmp_path)
    c = cache_images(
        LazyImageArray(names[:-1], root=root, size=(4, 4)), cache_dir=tmp_path
    )
    assert len({a.cache_file, b.cache_file, c.cache_file}) == 3
    # rewrite one image with other pixels: a new file, and its new values
    Image.new("RGB", (11, 9), (1, 2, 3)).save(root / names[1])
    lazy = LazyImageArray(names, root=root, size=(4, 4))
    d = cache_images(lazy, cache_dir=tmp_path)
    assert d.cache_file != a.cache_file
    np.testing.assert_array_equal(d[1], expected(root, names[1], (4, 4)))


def test_interrupted_write_leaves_nothing(folder, tmp_path, monkeypatch):
    root, names = folder
    lazy = LazyImageArray(names, root=root, size=(4, 4))

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache_images(lazy, cache_dir=tmp_path / "c", progress=stop)
    assert list((tmp_path / "c").iterdir()) == []


def test_subset_and_pickle_keep_the_cache(folder, tmp_path):
    root, names = folder
    lazy = LazyImageArray(names, root=root, size=(4, 4))
    cached = cache_images(lazy, cache_dir=tmp_path)
    sub = cached.subset([5, 1, 2])
    assert isinstance(sub, CachedImageArray)
    np.testing.assert_array_equal(sub[[2, 0]], lazy[[2, 5]])
    assert list(sub.filenames) == [names[5], names[1], names[2]]
    back = pickle.loads(pickle.dumps(sub))
    np.testing.assert_array_equal(back[:], lazy[[5, 1, 2]])
    assert cache_images(back) is back


def test_bad_input_and_cache_dir(monkeypatch, tmp_path):
    with pytest.raises(
        TypeError, match="images has type ndarray: expected a LazyImage"
    ):
        cache_images(np.zeros((2, 3, 4, 4)))
    monkeypatch.setenv("SKFRAL_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("SKFRAL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "skfral" / "images"


def test_constructed_directly(folder, tmp_path):
    root, names = folder
    cached = CachedImageArray(names[:3], root=root, size=3, cache_dir=tmp_path / "c")
    assert cached.cache_file.parent == tmp_path / "c"
    np.testing.assert_array_equal(cached[[1]], [expected(root, names[1], (3, 3))])
