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
