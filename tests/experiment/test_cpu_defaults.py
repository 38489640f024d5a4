"""CPU-sized image defaults and the image cache on the command line."""

import io

import numpy as np
import pytest
from PIL import Image

from skfral.datasets import CachedImageArray, LazyImageArray
from skfral.experiment._cpu_defaults import (
    IMAGE_CPU_DEFAULTS,
    apply_image_cpu_defaults,
    cache_image_data,
)


class FakeImages:
    """Only what the defaults read: ndim and shape."""

    ndim = 4

    def __init__(self, n):
        self.shape = (n, 3, 8, 8)


def kwargs_for(n, **extra):
    return {
        "datasets": {"faces": (FakeImages(n), None, None)},
        "strategies": "jin,random",
        "val_size": 0.15,
        "test_size": 0.2,
        **extra,
    }


def test_large_image_folder_is_capped_and_said():
    kwargs = kwargs_for(20500)
    note = apply_image_cpu_defaults({}, kwargs)
    # 15 % and 20 % of 20,500, by hand
    assert "validation 256 and test 512 images (instead of 3075 and 4100" in note
    assert "at most 1024 random pool candidates" in note
    assert kwargs["val_size"] == IMAGE_CPU_DEFAULTS["val_size"] == 256
    assert kwargs["test_size"] == 512
    assert kwargs["strategies"] == {
        "jin": ("jin", {"max_candidates": 1024}),
        "random": ("random", {"max_candidates": 1024}),
    }


def test_what_the_user_chose_is_kept():
    kwargs = kwargs_for(20500, val_size=0.5)
    kwargs["strategies"] = {"jin": ("jin", {"max_candidates": 50}), "random": "random"}
    note = apply_image_cpu_defaults({"val_size": 0.5}, kwargs)
    assert kwargs["val_size"] == 0.5
    assert kwargs["test_size"] == 512
    assert "test 512 images (instead of 4100" in note and "validation" not in note
    assert kwargs["strategies"]["jin"] == ("jin", {"max_candidates": 50})
    assert kwargs["strategies"]["random"] == ("random", {"max_candidates": 1024})


def test_small_folder_keeps_its_sizes_and_gets_small_batches():
    kwargs = kwargs_for(500)  # 75 and 100 images, 500 candidates: under every cap
    note = apply_image_cpu_defaults({}, kwargs)
    assert (kwargs["val_size"], kwargs["test_size"]) == (0.15, 0.2)
    assert kwargs["strategies"] == "jin,random"
    assert kwargs["eval_attack"] == {"batch_size": 64}
    assert kwargs["estimator_params"] == {"predict_batch_size": 64}
    assert note.endswith(
        "evaluation and predictions in batches of 64 images. Set val_size, "
        "test_size (--val-size, --test-size) or max_candidates (a [strategies] "
        "table) to change them."
    )
    assert "instead of" not in note and "candidates per round" not in note


def test_batches_keep_the_users_attack_steps_and_net_settings():
    kwargs = kwargs_for(20500, eval_attack=30, estimator_params={"max_epochs": 2})
    apply_image_cpu_defaults({"eval_steps": 30}, kwargs)
    assert kwargs["eval_attack"] == {"batch_size": 64, "n_steps": 30}
    assert kwargs["estimator_params"] == {"max_epochs": 2, "predict_batch_size": 64}
    kwargs = kwargs_for(20500, estimator_params={"predict_batch_size": 8})
    apply_image_cpu_defaults({}, kwargs)
    assert kwargs["estimator_params"] == {"predict_batch_size": 8}


@pytest.mark.parametrize(
    "kwargs",
    [
        kwargs_for(20500, estimator_params={"device": "cuda"}),
        {**kwargs_for(20500), "datasets": ["adult"]},
        {**kwargs_for(20500), "datasets": {"t": (np.zeros((20500, 5)), None, None)}},
    ],
)
def test_nothing_capped(kwargs):
    before = {k: v for k, v in kwargs.items() if k != "datasets"}
    assert apply_image_cpu_defaults({}, kwargs) is None
    assert {k: v for k, v in kwargs.items() if k != "datasets"} == before


def test_cache_image_data_swaps_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SKFRAL_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "img"
    root.mkdir()
    for i in range(3):
        Image.new("RGB", (5, 5), (40 * i, 0, 0)).save(root / f"{i}.png")
    lazy = LazyImageArray([f"{i}.png" for i in range(3)], root=root, size=(4, 4))
    y, s = np.array([0, 1, 0]), np.array(["a", "b", "a"])
    kwargs = {"datasets": {"faces": (lazy, y, s), "adult": "adult"}}
    out = io.StringIO()
    files = cache_image_data(kwargs, stream=out)
    X2, y2, s2 = kwargs["datasets"]["faces"]
    assert isinstance(X2, CachedImageArray) and y2 is y and s2 is s
    assert kwargs["datasets"]["adult"] == "adult"
    np.testing.assert_array_equal(X2[:], lazy[:])
    assert files == [X2.cache_file]
    assert "decoding and resizing 3 images once into the cache: 3/3" in out.getvalue()
    kwargs = {"datasets": {"faces": (lazy, y, s)}}
    out = io.StringIO()
    cache_image_data(kwargs, stream=out)
    assert "reused the image cache" in out.getvalue()
