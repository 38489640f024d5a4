"""Tiny data and nets shared by the skfral.nn tests."""

import numpy as np

from skfral.nn import MLP, RobustNeuralNetClassifier


def make_tabular(n_samples=200, n_features=6, seed=0):
    """Standardised-looking features, labels from a noisy linear rule."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features).astype(np.float32)
    w = rng.randn(n_features)
    y = (X @ w + 0.3 * rng.randn(n_samples) > 0).astype(np.int64)
    return X, y


def make_unit_box(n_samples=200, n_features=6, seed=0):
    """Data in [0, 1] (the image-like range), labels from a linear rule."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n_samples, n_features).astype(np.float32)
    w = rng.randn(n_features)
    y = ((X - 0.5) @ w > 0).astype(np.int64)
    return X, y


def standard_net(n_features, **params):
    """A small, seeded, standard (non-adversarial) MLP classifier."""
    params = {
        "module__hidden_sizes": (32,),
        "adversarial": None,
        "max_epochs": 15,
        "lr": 0.02,
        "batch_size": 32,
        "random_state": 0,
        **params,
    }
    return RobustNeuralNetClassifier(MLP, module__n_features=n_features, **params)


class CountingLazyArray:
    """A lazy array over ``X`` that records every read and refuses big ones.

    ``X[rows]`` returns the rows (in the order asked) and raises when more than
    ``limit`` rows are asked at once; ``np.asarray`` of it raises: a caller
    that materialises the whole array fails loudly.
    """

    def __init__(self, X, limit):
        self._X = X
        self.limit = limit
        self.reads = []

    @property
    def shape(self):
        return self._X.shape

    def __len__(self):
        return len(self._X)

    def __getitem__(self, rows):
        rows = np.asarray(rows)
        if rows.ndim != 1:
            raise AssertionError(f"unexpected key {rows!r}")
        if len(rows) > self.limit:
            raise AssertionError(
                f"{len(rows)} rows read at once (limit {self.limit}): not streamed"
            )
        self.reads.append(rows.copy())
        return self._X[rows]

    def __array__(self, *args, **kwargs):
        raise AssertionError("the lazy array was materialised whole")
