"""Property test (hypothesis) and a peer cross-check (torchattacks) for PGD."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skfral.nn import MLP, PGD, RobustNeuralNetClassifier, pgd_attack

from .nn_helpers import make_unit_box, standard_net


@st.composite
def attack_cases(draw):
    n_samples = draw(st.integers(1, 9))
    feature_shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    norm = draw(st.sampled_from(["linf", "l2"]))
    eps = draw(st.floats(0.0, 2.0, allow_nan=False))
    n_steps = draw(st.integers(1, 4))
    random_start = draw(st.booleans())
    clip = draw(st.sampled_from([None, "scalar", "per_feature"]))
    batch_size = draw(st.integers(1, 10))
    seed = draw(st.integers(0, 2**16))
    return (
        n_samples,
        feature_shape,
        norm,
        eps,
        n_steps,
        random_start,
        clip,
        batch_size,
        seed,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attack_cases())
def test_pgd_stays_in_the_ball_and_the_clip_range(case):
    (
        n_samples,
        feature_shape,
        norm,
        eps,
        n_steps,
        random_start,
        clip,
        batch_size,
        seed,
    ) = case
    rng = np.random.RandomState(seed)
    X = rng.rand(n_samples, *feature_shape).astype(np.float32)
    lo = hi = None
    if clip == "scalar":
        lo, hi = 0.0, 1.0
    elif clip == "per_feature":
        lo = X.min(axis=0) - rng.rand(*feature_shape).astype(np.float32) * 0.1
        hi = X.max(axis=0) + rng.rand(*feature_shape).astype(np.float32) * 0.1
    # An untrained but initialised net: the geometry must not depend on training.
    net = RobustNeuralNetClassifier(
        MLP,
        module__n_features=int(np.prod(feature_shape)),
        module__hidden_sizes=(8,),
        random_state=seed,
    ).initialize()
    attack = PGD(
        eps=eps,
        norm=norm,
        n_steps=n_steps,
        random_start=random_start,
        clip_min=lo,
        clip_max=hi,
        batch_size=batch_size,
        random_state=seed,
    )
    X_adv = attack.perturb(net, X)
    assert X_adv.shape == X.shape and X_adv.dtype == np.float32
    assert np.isfinite(X_adv).all()
    diff = (X_adv - X).reshape(n_samples, -1).astype(np.float64)
    dist = np.abs(diff).max(axis=1) if norm == "linf" else np.linalg.norm(diff, axis=1)
    assert (dist <= eps * (1 + 1e-5) + 1e-6).all()
    if lo is not None:
        assert (X_adv >= np.asarray(lo, dtype=np.float32)).all()
        assert (X_adv <= np.asarray(hi, dtype=np.float32)).all()


@pytest.mark.parametrize("random_start", [False, True])
def test_robust_accuracy_matches_torchattacks(random_start):
    """Same model, data in [0, 1], same eps / alpha / steps: within 1 point."""
    torchattacks = pytest.importorskip("torchattacks")
    X, y = make_unit_box(n_samples=600, n_features=20, seed=1)
    net = standard_net(
        20, module__hidden_sizes=(64, 64), max_epochs=20, batch_size=64
    ).fit(X, y)
    eps, alpha, steps = 0.05, 0.0125, 10
    ours = PGD(
        eps=eps,
        step_size=alpha,
        n_steps=steps,
        random_start=random_start,
        clip_min=0.0,
        clip_max=1.0,
        random_state=0,
    ).perturb(net, X, y)
    acc_ours = (net.predict(ours) == y).mean()

    module = net.module_.eval()
    peer = torchattacks.PGD(
        module, eps=eps, alpha=alpha, steps=steps, random_start=random_start
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        theirs = peer(torch.as_tensor(X), torch.as_tensor(y)).numpy()
    acc_theirs = (net.predict(theirs) == y).mean()

    clean = (net.predict(X) == y).mean()
    assert clean - acc_ours > 0.2  # the attack is not a no-op on this model
    assert abs(acc_ours - acc_theirs) <= 0.01, (clean, acc_ours, acc_theirs)
    assert np.abs(theirs - X).max() <= eps + 1e-6


def reference_pgd(forward, loss_fn, x, x0, eps, step_size, n_steps, lo, hi, norm):
    """FRAL.md section 2, written out: x_{t+1} = clip(proj(x_t + alpha * dir(grad)))."""
    x_adv = x0.clone()
    for _ in range(n_steps):
        x_adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(forward(x_adv), x_adv), [x_adv])
        x_adv = x_adv.detach()
        if norm == "linf":
            z = x_adv + step_size * grad.sign()
            delta = torch.clamp(z - x, -eps, eps)
        else:
            g = grad.flatten(1)
            z = x_adv + step_size * (g / g.norm(dim=1, keepdim=True)).view_as(grad)
            d = (z - x).flatten(1)
            delta = (d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1)).view_as(z)
        x_adv = torch.clamp(x + delta, lo, hi)
    return x_adv


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    norm=st.sampled_from(["linf", "l2"]),
    eps=st.floats(0.01, 1.0),
    outside=st.booleans(),
)
def test_pgd_attack_follows_the_formula(seed, norm, eps, outside):
    """Also where x lies outside [lo, hi] (only the pure function allows it)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(7, 5, generator=gen) * (3 if outside else 1) - (1 if outside else 0)
    w = torch.randn(5, 3, generator=gen)
    y = torch.randint(0, 3, (7,), generator=gen)

    def forward(t):
        return torch.tanh(t @ w)

    def loss_fn(out, _x):
        return torch.nn.functional.cross_entropy(out, y)

    lo, hi = torch.tensor(0.0), torch.tensor(1.0)
    ours = pgd_attack(
        forward,
        loss_fn,
        x,
        eps=eps,
        step_size=eps / 3,
        n_steps=4,
        norm=norm,
        random_start=False,
        clip_min=lo,
        clip_max=hi,
    )
    ref = reference_pgd(
        forward, loss_fn, x, torch.clamp(x, lo, hi), eps, eps / 3, 4, lo, hi, norm
    )
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-5)
