"""Streaming: arrays and lazy arrays are predicted, embedded and trained on in
batches whose size does not depend on the pool (issue 14)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from skfral.nn import (
    MLP,
    InputScaleWarning,
    RobustNeuralNetClassifier,
    SmallCNN,
    gradient_embedding,
    penultimate_embedding,
)
from skfral.nn._data import default_batch_size, is_lazy_array, iter_batches

from .nn_helpers import CountingLazyArray


def images(n, seed=0, n_classes=3, size=8):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 3, size, size).astype(np.float32)
    y = (X[:, 0].mean(axis=(1, 2)) * n_classes * 0.999).astype(np.int64) % n_classes
    y[:n_classes] = np.arange(n_classes)
    return X, y


def cnn(**params):
    params = {
        "module__width": 4,
        "module__embedding_size": 8,
        "attack_eps": 8 / 255,
        "attack_n_steps": 1,
        "max_epochs": 1,
        "batch_size": 16,
        "random_state": 0,
        **params,
    }
    return RobustNeuralNetClassifier(SmallCNN, **params)


@pytest.fixture(scope="module")
def image_data():
    return images(120)


@pytest.fixture(scope="module")
def cnn_net(image_data):
    X, y = image_data
    return cnn(predict_batch_size=25).fit(X, y)


def test_default_batch_size_rule():
    # 8 MiB of float32 inputs per batch, clamped to [1, 4096]
    assert default_batch_size((6,)) == 4096
    assert default_batch_size((3, 32, 32)) == 8 * 2**20 // (4 * 3 * 32 * 32)
    assert default_batch_size((3, 64, 64)) == 170
    assert default_batch_size((3, 2048, 2048)) == 1


def test_lazy_array_detection():
    X = np.zeros((4, 2), np.float32)
    assert not is_lazy_array(X)
    assert not is_lazy_array(torch.zeros(4, 2))
    assert is_lazy_array(CountingLazyArray(X, limit=4))


@pytest.mark.parametrize("order", [None, np.array([3, 0, 4, 1, 2])])
def test_iter_batches_reads_each_row_once_in_batches(order):
    X = np.arange(5 * 2, dtype=np.float32).reshape(5, 2)
    lazy = CountingLazyArray(X, limit=2)
    got = list(iter_batches(lazy, 2, order=order))
    expected_rows = np.arange(5) if order is None else order
    assert [len(r) for r, _ in got] == [2, 2, 1]
    assert_array_equal(np.concatenate([r for r, _ in got]), expected_rows)
    assert_array_equal(np.concatenate([b for _, b in got]), X[expected_rows])
    assert sorted(np.concatenate(lazy.reads).tolist()) == list(range(5))


def test_lazy_prediction_never_reads_the_whole_pool(cnn_net, image_data):
    X, _ = image_data
    lazy = CountingLazyArray(X, limit=25)
    proba = cnn_net.predict_proba(lazy)
    assert_allclose(proba, cnn_net.predict_proba(X), rtol=1e-6, atol=1e-7)
    assert max(len(r) for r in lazy.reads) == 25  # predict_batch_size
    assert sum(len(r) for r in lazy.reads) == len(X)  # each row read once
    assert_array_equal(cnn_net.predict(lazy), cnn_net.predict(X))


def test_lazy_embeddings_are_streamed(cnn_net, image_data):
    X, _ = image_data
    lazy = CountingLazyArray(X, limit=25)
    assert_allclose(cnn_net.embed(lazy), cnn_net.embed(X), rtol=1e-6, atol=1e-7)
    assert_allclose(
        penultimate_embedding(cnn_net, lazy), cnn_net.embed(X), rtol=1e-6, atol=1e-7
    )
    assert_allclose(
        gradient_embedding(cnn_net, lazy),
        gradient_embedding(cnn_net, X),
        rtol=1e-5,
        atol=1e-6,
    )


def test_forward_batches_do_not_grow_with_the_pool(image_data):
    """Structure, not timing: every forward pass of a prediction on a 4x larger
    pool has at most predict_batch_size rows."""
    X, y = image_data
    net = cnn(predict_batch_size=16).fit(X, y)
    sizes = []
    hook = net.module_.conv.register_forward_pre_hook(  # predict and embed use it
        lambda _m, inp: sizes.append(len(inp[0]))
    )
    try:
        big = np.concatenate([X] * 4)
        net.predict_proba(CountingLazyArray(big, limit=16))
        net.embed(big)
    finally:
        hook.remove()
    assert max(sizes) == 16 and len(sizes) == 2 * len(big) // 16


def test_fit_on_a_lazy_array_streams_and_matches_the_array_fit(image_data):
    X, y = image_data
    lazy = CountingLazyArray(X, limit=16)  # the training batch size
    a = cnn().fit(lazy, y)
    b = cnn().fit(X, y)
    assert max(len(r) for r in lazy.reads) <= 16
    # same data, same order, same seeds: the same net
    for p, q in zip(a.module_.parameters(), b.module_.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
    assert a.n_features_in_ == 3 and a.module_.head.out_features == 3


def test_shuffled_lazy_fit_reads_every_row_each_epoch(image_data):
    X, y = image_data
    lazy = CountingLazyArray(X, limit=16)
    net = cnn(iterator_train__shuffle=True, max_epochs=2).fit(lazy, y)
    training_reads = [r for r in lazy.reads if len(r) <= 16][-2 * 8 :]
    rows = np.concatenate(training_reads)
    assert sorted(rows.tolist()) == sorted(list(range(len(X))) * 2)
    assert not np.array_equal(rows[: len(X)], np.arange(len(X)))  # shuffled
    assert net.predict(X).shape == (len(X),)


def test_lazy_batch_with_nan_is_refused(cnn_net, image_data):
    X, _ = image_data
    X = X.copy()
    X[30, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or infinity in 1 sample.*30"):
        cnn_net.predict_proba(CountingLazyArray(X, limit=25))


def test_lazy_array_with_wrong_shape_or_unfitted_net(cnn_net):
    from sklearn.exceptions import NotFittedError

    lazy = CountingLazyArray(np.zeros((10, 2, 8, 8), np.float32), limit=10)
    with pytest.raises(ValueError, match=r"X has 2 features, but .* expecting 3"):
        cnn_net.predict_proba(lazy)
    with pytest.raises(NotFittedError):
        cnn().predict_proba(lazy)


def test_tabular_prediction_batches(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(50, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    net = RobustNeuralNetClassifier(
        MLP, adversarial=None, max_epochs=1, predict_batch_size=7, random_state=0
    ).fit(X, y)
    sizes = []
    net.module_.register_forward_pre_hook(lambda _m, inp: sizes.append(len(inp[0])))
    net.predict_proba(X)
    assert sizes == [7] * 7 + [1]


def test_lazy_batches_are_read_in_a_background_thread(image_data):
    """The next batch is read by the prefetching thread while the current one
    is computed on (fit and predict)."""
    import threading

    X, y = image_data

    class ThreadRecordingArray(CountingLazyArray):
        threads = []

        def __getitem__(self, rows):
            self.threads.append(threading.current_thread().name)
            return super().__getitem__(rows)

    lazy = ThreadRecordingArray(X, limit=25)
    net = cnn(predict_batch_size=25).fit(lazy, y)
    net.predict_proba(lazy)
    prefetched = [t.startswith("skfral-prefetch") for t in lazy.threads]
    assert sum(prefetched) == len(lazy.threads) - 1  # all but the scale sample


def test_a_lazy_array_needs_only_shape_and_getitem(image_data):
    X, y = image_data

    class Minimal:
        shape = X.shape

        def __getitem__(self, rows):
            return X[rows]

    net = cnn(predict_batch_size=32).fit(Minimal(), y)
    assert_allclose(net.predict_proba(Minimal()), net.predict_proba(X), atol=1e-7)
    assert net.embed(Minimal()).shape == (len(X), 8)


class NoFeatures(torch.nn.Module):
    """A user's module without features(): the embedding is the input of its
    last Linear layer."""

    def __init__(self, n_features=4, n_classes=2):
        super().__init__()
        self.body = torch.nn.Linear(n_features, 5)
        self.out = torch.nn.Linear(5, n_classes)

    def forward(self, x):
        return self.out(torch.tanh(self.body(x)))


def test_user_module_embedding_falls_back_to_the_last_linear_input():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    net = RobustNeuralNetClassifier(
        NoFeatures, adversarial=None, max_epochs=1, predict_batch_size=16
    ).fit(X, y)
    with torch.no_grad():
        expected = torch.tanh(net.module_.body(torch.from_numpy(X))).numpy()
    assert_allclose(
        net.embed(CountingLazyArray(X, limit=16)), expected, rtol=1e-5, atol=1e-6
    )
    assert_allclose(penultimate_embedding(net, X), expected, rtol=1e-5, atol=1e-6)


def test_lazy_images_outside_the_clip_range_are_refused_at_fit(image_data):
    X, y = image_data
    lazy = CountingLazyArray(X * 255, limit=16)  # images left in [0, 255]
    net = cnn(attack_clip_min=0.0, attack_clip_max=1.0)
    with (
        pytest.warns(InputScaleWarning, match="features look unscaled"),
        pytest.raises(ValueError, match=r"X has values outside \[attack_clip_min"),
    ):
        net.fit(lazy, y)
