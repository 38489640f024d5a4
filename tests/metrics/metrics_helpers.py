"""Small data, a clean net and a deterministic attack shared by the metrics tests."""

import numpy as np

from skfral.nn import MLP, RobustNeuralNetClassifier


class FlipAttack:
    """Deterministic: the adversarial input of x is -x (no randomness)."""

    def perturb(self, net, X, y=None):
        return -np.asarray(X)


def make_data(n, seed=0):
    """``n`` samples of 4 features, a linear label and groups "min" (30%) / "maj"."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    group = np.where(rng.rand(n) < 0.3, "min", "maj")
    return X, y, group


def fit_clean_net(X, y, max_epochs):
    """A seeded standard (no attack) MLP fitted on ``X, y``."""
    return RobustNeuralNetClassifier(
        MLP,
        module__n_features=4,
        adversarial=None,
        max_epochs=max_epochs,
        random_state=0,
    ).fit(X, y)
