"""Devices, mixed precision, channels-last and training-time augmentation (issue 14).

No GPU here: the cuda code paths are the same calls with another device; these
tests run them on the CPU (bfloat16 autocast works there).
"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from skfral.nn import MLP, PGD, RobustNeuralNetClassifier, SmallCNN
from skfral.nn._data import augment_batch


def images(n=32, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 2, 6, 6).astype(np.float32)
    return X, (
        X[:, 0, :, :3].mean(axis=(1, 2)) > X[:, 0, :, 3:].mean(axis=(1, 2))
    ).astype(int)


def cnn(**params):
    params = {
        "module__in_channels": 2,  # initialize() before a fit knows no data
        "module__width": 3,
        "module__embedding_size": 8,
        "adversarial": None,
        "max_epochs": 1,
        "batch_size": 8,
        "random_state": 0,
        **params,
    }
    return RobustNeuralNetClassifier(SmallCNN, **params)


# ---------------------------------------------------------- mixed precision
@pytest.mark.parametrize("adversarial", [None, "pgd", "trades"])
def test_bfloat16_autocast_on_cpu_in_training_and_prediction(adversarial):
    X, y = images()
    dtypes = []
    net = cnn(
        adversarial=adversarial,
        attack_eps=8 / 255,
        attack_n_steps=1,
        amp_dtype="bfloat16",
    )
    net.initialize()
    net.module_.head.register_forward_hook(
        lambda m, i, o: dtypes.append((m.training, o.dtype))
    )
    net.partial_fit(X, y)
    assert (True, torch.bfloat16) in dtypes  # training forward passes in bf16
    dtypes.clear()
    proba = net.predict_proba(X)
    assert dtypes and all(d == (False, torch.bfloat16) for d in dtypes)
    assert proba.dtype == np.float32 and np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    emb = net.embed(X)
    assert emb.dtype == np.float32 and emb.shape == (len(X), 8)


def test_float32_by_default():
    X, y = images()
    net = cnn().fit(X, y)
    dtypes = []
    net.module_.head.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    net.predict_proba(X)
    assert set(dtypes) == {torch.float32}


# ------------------------------------------------------------ channels last
def test_channels_last_changes_layout_not_results():
    X, y = images()
    plain = cnn(adversarial="pgd", attack_eps=8 / 255, attack_n_steps=1).fit(X, y)
    last = cnn(
        adversarial="pgd", attack_eps=8 / 255, attack_n_steps=1, channels_last=True
    )
    last.initialize()
    conv = last.module_.conv[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    layouts = []
    conv.register_forward_pre_hook(
        lambda m, i: layouts.append(
            i[0].is_contiguous(memory_format=torch.channels_last)
        )
    )
    last.partial_fit(X, y)
    assert layouts and all(layouts)
    assert_allclose(last.predict_proba(X), plain.predict_proba(X), rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------- augmentation
def shifts_of(x, padding):
    """Every crop of x (C, H, W) after zero padding, and their flips (numpy)."""
    c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    out = []
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            crop = padded[:, dy : dy + h, dx : dx + w]
            out += [crop, crop[:, :, ::-1]]
    return out


@pytest.mark.parametrize("kind", ["crop", "flip", "crop_flip"])
def test_training_batches_are_augmented_and_prediction_is_not(kind):
    X, y = images()
    net = cnn(augment=kind, augment_padding=2, max_epochs=1)
    net.initialize()
    seen = []
    net.module_.conv.register_forward_pre_hook(
        lambda m, i: seen.append((m.training, i[0].detach().clone().numpy()))
    )
    net.partial_fit(X, y)  # batches of 8, not shuffled: rows in order
    train = np.concatenate([b for training, b in seen if training])
    assert train.shape == X.shape
    assert not np.array_equal(train, X)  # something was transformed
    flips = crops = 0
    for got, x in zip(train, X):
        if kind == "flip":
            candidates = [x, x[:, :, ::-1]]
        else:
            candidates = shifts_of(x, 2)
            if kind == "crop":
                candidates = candidates[::2]  # no flips
        assert any(np.array_equal(got, c) for c in candidates)
        flips += np.array_equal(got, x[:, :, ::-1]) and not np.array_equal(
            x, x[:, :, ::-1]
        )
        crops += not (np.array_equal(got, x) or np.array_equal(got, x[:, :, ::-1]))
    if kind == "flip":
        assert 0 < flips < len(X)
    else:
        assert crops > 0
    seen.clear()
    net.predict_proba(X)
    assert_array_equal(np.concatenate([b for _, b in seen]), X)  # untouched


def test_augmentation_comes_before_the_training_attack():
    X, y = images()
    net = cnn(
        augment="flip",
        adversarial="pgd",
        attack_eps=0.05,
        attack_n_steps=1,
        batch_size=32,
    )
    net.initialize()
    seen = []
    net.module_.conv.register_forward_pre_hook(
        lambda m, i: seen.append(i[0].detach().clone().numpy())
    )
    net.partial_fit(X, y)
    attacked, trained = (
        seen[-2],
        seen[-1],
    )  # attack step's forward, then the training forward
    flipped = np.array([not np.allclose(a, x, atol=0.051) for a, x in zip(attacked, X)])
    assert flipped.any()  # the attack started from flipped images
    assert np.abs(trained - attacked).max() <= 0.05 + 1e-6


def test_seeded_augmentation_is_reproducible_and_leaves_the_global_rng_alone():
    X, y = images()
    state = torch.get_rng_state()
    a = cnn(augment="crop_flip", max_epochs=2).fit(X, y)
    b = cnn(augment="crop_flip", max_epochs=2).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())
    for p, q in zip(a.module_.parameters(), b.module_.parameters()):
        assert torch.equal(p, q)


def test_augment_batch_matches_a_numpy_crop():
    x = torch.arange(2 * 1 * 3 * 3, dtype=torch.float32).reshape(2, 1, 3, 3)
    gen = torch.Generator().manual_seed(0)
    out = augment_batch(x, "crop", 1, gen).numpy()
    for got, orig in zip(out, x.numpy()):
        assert any(np.array_equal(got, c) for c in shifts_of(orig, 1)[::2])


def test_augment_refuses_tabular_inputs():
    X = np.random.RandomState(0).randn(20, 4).astype(np.float32)
    net = RobustNeuralNetClassifier(MLP, augment="crop_flip", max_epochs=1)
    with pytest.raises(ValueError, match=r"augment='crop_flip' needs image inputs"):
        net.fit(X, np.arange(20) % 2)


# ------------------------------------------------------------------ devices
def test_cpu_device_everywhere():
    X, y = images()
    net = cnn(device="cpu", adversarial="pgd", attack_eps=0.05, attack_n_steps=1).fit(
        X, y
    )
    assert next(net.module_.parameters()).device.type == "cpu"
    X_adv = PGD(eps=0.05, n_steps=2, random_state=0).perturb(net, X, y)
    assert X_adv.shape == X.shape
    assert net.embed(X).shape == (len(X), 8)


def test_gradient_scaler_path_gives_the_unscaled_updates():
    """float16 training uses a GradScaler (cuda only); its code path is run here
    with a CPU scaler in float32: power-of-two loss scaling, unscaled before the
    step, gives the same weights as plain training."""

    class ScaledNet(RobustNeuralNetClassifier):
        def on_train_begin(self, net, X=None, y=None, **kwargs):
            super().on_train_begin(net, X=X, y=y, **kwargs)
            self._grad_scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)

        def on_train_end(self, net, X=None, y=None, **kwargs):
            self.scales_seen = self._grad_scaler.get_scale()
            super().on_train_end(net, X=X, y=y, **kwargs)

    X, y = images()
    params = {
        "module__in_channels": 2,
        "module__width": 3,
        "module__embedding_size": 8,
        "adversarial": "pgd",
        "attack_eps": 0.05,
        "attack_n_steps": 1,
        "max_epochs": 2,
        "batch_size": 8,
        "random_state": 0,
        "optimizer": torch.optim.SGD,  # not scale-invariant, unlike Adam
        "lr": 0.05,
    }
    scaled = ScaledNet(SmallCNN, **params).fit(X, y)
    plain = RobustNeuralNetClassifier(SmallCNN, **params).fit(X, y)
    assert scaled.scales_seen >= 2.0**10  # the scaler ran
    for p, q in zip(scaled.module_.parameters(), plain.module_.parameters()):
        assert torch.allclose(p, q, atol=1e-5)
