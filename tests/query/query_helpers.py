"""Small data and nets shared by the query tests."""

import numpy as np

import skfral  # noqa: F401  (applies the modAL shim)
from skfral.nn import MLP, RobustNeuralNetClassifier

# JINQueryStrategy's defaults before issue 25 made the preset "jin_auto" the
# default (the preset "jin_bootstrap" spells out the same values). The
# hand-computed answers of the JIN tests about one mechanism (weighted sum,
# class balance, bootstrap allocation, ...) assume them: bootstrap allocation,
# no shrinkage, every validation group ranked, no per-query cap.
PRE_ISSUE_25 = dict(
    group_allocation="bootstrap",
    shrinkage_prior=0.0,
    min_val_count=1,
    max_group_share=None,
)


def make_data(n=240, n_features=4, seed=0):
    """Two groups; the minority (1) is shifted and noisier."""
    rng = np.random.RandomState(seed)
    s = (rng.rand(n) < 0.3).astype(int)
    X = rng.randn(n, n_features).astype(np.float32)
    X[s == 1] += 0.7
    logits = X[:, 0] + 0.5 * X[:, 1] - 0.7 * s
    y = (logits + 0.6 * rng.randn(n) * (1 + s) > 0).astype(int)
    return X, y, s


def make_net(n_features=4, **kw):
    params = dict(
        module__n_features=n_features,
        max_epochs=3,
        attack_n_steps=2,
        batch_size=32,
        random_state=0,
    )
    params.update(kw)
    return RobustNeuralNetClassifier(MLP, **params)
