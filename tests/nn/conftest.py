"""Shared fixtures for the skfral.nn tests (session scope: each net is trained once)."""

import numpy as np
import pytest
import torch

from skfral.nn import RobustNeuralNetClassifier, SmallCNN

from .nn_helpers import make_tabular, standard_net


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models run faster on one thread, and the test machine is shared."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tabular():
    return make_tabular()


@pytest.fixture(scope="session")
def fitted_net(tabular):
    X, y = tabular
    return standard_net(X.shape[1]).fit(X, y)


@pytest.fixture(scope="session")
def dropout_net(tabular):
    X, y = tabular
    return standard_net(X.shape[1], module__dropout=0.5, max_epochs=3).fit(X, y)


@pytest.fixture(scope="session")
def string_net(tabular):
    X, y = tabular
    labels = np.where(y == 1, "yes", "no")
    return standard_net(X.shape[1], max_epochs=3).fit(X, labels), labels


@pytest.fixture(scope="session")
def image_net():
    rng = np.random.RandomState(0)
    X = rng.rand(48, 1, 8, 8).astype(np.float32)
    y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    net = RobustNeuralNetClassifier(
        SmallCNN,
        module__width=4,
        module__embedding_size=16,
        adversarial=None,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    return net, X, y
