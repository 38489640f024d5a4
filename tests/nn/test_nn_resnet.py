"""ResNet18 (and torchvision's, where it imports) as the robust net: fit, attacks,
embeddings, strategies, metrics and the runner on tiny 16x16 images (issue 14)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from skfral.nn import (
    PGD,
    ResNet18,
    RobustNeuralNetClassifier,
    gradient_embedding,
    penultimate_embedding,
)


def tiny_faces(n=72, seed=0):
    """3x16x16 images in [0, 1]; the label is which half is brighter; two groups."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 3, 16, 16).astype(np.float32)
    y = X[:, :, :, :8].mean(axis=(1, 2, 3)) > X[:, :, :, 8:].mean(axis=(1, 2, 3))
    s = np.where(np.arange(n) % 3 == 0, "b", "a")
    return X, y.astype(np.int64), s


def resnet(**params):
    params = {
        "module__width": 4,
        "attack_eps": 8 / 255,
        "attack_n_steps": 1,
        "attack_clip_min": 0.0,
        "attack_clip_max": 1.0,
        "max_epochs": 1,
        "batch_size": 16,
        "random_state": 0,
        **params,
    }
    return RobustNeuralNetClassifier(ResNet18, **params)


@pytest.fixture(scope="module")
def data():
    return tiny_faces()


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _ = data
    return resnet().fit(X[:40], y[:40])


def test_resnet18_architecture():
    model = ResNet18(in_channels=3, n_classes=10)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    stem = convs[0]
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    # 1 stem + 4 stages x 2 blocks x 2 convs + 3 projection shortcuts
    assert len(convs) == 1 + 16 + 3
    widths = [stage[-1].conv2.out_channels for stage in model.stages]
    assert widths == [64, 128, 256, 512]
    assert model.head.in_features == 512 and model.head.out_features == 10
    n_params = sum(p.numel() for p in model.parameters())
    assert 11.1e6 < n_params < 11.2e6  # ResNet-18 for CIFAR-10: about 11.17M


def test_fit_predict_embed(fitted, data):
    X, _, _ = data
    assert fitted.module_.stem[0].in_channels == 3
    assert fitted.module_.head.out_features == 2
    assert fitted.predict_proba(X).shape == (len(X), 2)
    emb = fitted.embed(X)
    assert emb.shape == (len(X), 8 * 4)
    assert_allclose(penultimate_embedding(fitted, X), emb)
    assert gradient_embedding(fitted, X).shape == (len(X), 2 * 32)


def test_attack(fitted, data):
    X, y, _ = data
    X_adv = PGD(eps=8 / 255, n_steps=3, clip_min=0, clip_max=1, random_state=0).perturb(
        fitted, X, y
    )
    assert np.abs(X_adv - X).max() <= 8 / 255 + 1e-6
    assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_strategies_and_report(fitted, data):
    from modAL.models import ActiveLearner

    from skfral.metrics import fairness_report
    from skfral.query import CoreSetSampling, JINQueryStrategy

    X, y, s = data
    learner = ActiveLearner(estimator=fitted)
    pool = slice(40, 60)
    for strategy in (
        JINQueryStrategy(
            X_val=X[60:], y_val=y[60:], sensitive_features_val=s[60:], random_state=0
        ),
        CoreSetSampling(random_state=0),
    ):
        idx, scores = strategy(
            learner,
            X[pool],
            n_instances=4,
            sensitive_features=s[pool],
            X_labelled=X[:40],
            y_labelled=y[:40],
        )
        assert len(set(np.asarray(idx).tolist())) == 4 and np.isfinite(scores).all()
    report = fairness_report(
        fitted,
        X[60:],
        y[60:],
        sensitive_features=s[60:],
        attack=PGD(eps=8 / 255, n_steps=2, clip_min=0, clip_max=1, random_state=0),
    )
    clean, robust = (
        report["worst_group_standard_accuracy"],
        report["worst_group_robust_accuracy"],
    )
    assert 0 <= clean <= 1 and 0 <= robust <= 1
    assert report["worst_group_robust"] in ("a", "b")


def test_runner(data, tmp_path):
    from skfral.experiment import run_fral

    X, y, s = data
    rows = run_fral(
        {"tiny": (X, y, s)},
        ["jin"],
        seeds=1,
        n_rounds=1,
        budget=4,
        initial_size=16,
        estimator=resnet(),
        eval_attack=PGD(eps=8 / 255, n_steps=1, clip_min=0, clip_max=1),
        torch_threads=1,
        progress=False,
    )
    assert len(rows) == 2  # rounds 0 and 1
    assert np.isfinite(np.asarray(rows["worst_group_robust_accuracy"], float)).all()


# -------------------------------------------------------------- torchvision
def _torchvision():
    try:
        import torchvision.models
    except Exception as exc:  # not installed, or a CUDA build on a CPU torch
        pytest.skip(f"torchvision does not import here: {exc}")
    return torchvision.models


def test_torchvision_resnet18_recipe():
    models = _torchvision()
    X, y, _ = tiny_faces(n=24)
    net = RobustNeuralNetClassifier(
        models.resnet18,
        module__num_classes=2,  # torchvision takes it through **kwargs: pass it
        module__weights=None,
        attack_eps=8 / 255,
        attack_n_steps=1,
        max_epochs=1,
        batch_size=8,
        random_state=0,
    ).fit(X, y)
    assert net.predict_proba(X).shape == (24, 2)
    # no features(): the embedding is the input of the last Linear (fc)
    assert net.embed(X).shape == (24, net.module_.fc.in_features)
