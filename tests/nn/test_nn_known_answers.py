"""Known answers for the attack maths, each computed independently inside the test.

Projections against their closed forms; a PGD step on a linear model against
the hand-computed sign-gradient step; TRADES' inner maximisation against the
gradient of KL(p_clean || p_adv) (a cross-entropy-on-predicted-labels mutant
must fail) and its training loss against CE + beta * KL by hand; APGD's
checkpoints against the paper's formula in exact arithmetic, its step-size
schedule, and a whole run against a per-sample transcription of Algorithm 1
of Croce and Hein (2020).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose, assert_array_equal

import skfral.nn._net_training as net_module
from skfral.nn import (
    FGSM,
    PGD,
    RobustNeuralNetClassifier,
    apgd_attack,
    dlr_loss,
    pgd_attack,
    trades_attack,
)
from skfral.nn._apgd_maths import apgd_checkpoints
from skfral.nn._attack_maths import _project


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def linear():
    """A fixed 4 -> 3 linear model in float64, its weights as numpy arrays."""
    rng = np.random.RandomState(0)
    W, b = rng.randn(3, 4), rng.randn(3)
    model = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(W))
        model.bias.copy_(torch.as_tensor(b))
    return model, W, b


# -------------------------------------------------------------- projections
def test_linf_projection_is_the_coordinate_clip():
    delta = torch.as_tensor(np.random.RandomState(1).randn(6, 2, 3) * 2)
    eps = 0.7
    expected = np.minimum(np.maximum(delta.numpy(), -eps), eps)
    assert_array_equal(_project(delta, eps, "linf").numpy(), expected)


def test_l2_projection_is_the_radial_scaling():
    rng = np.random.RandomState(2)
    delta = rng.randn(6, 2, 3)
    delta[0] *= 0.01  # inside the ball: unchanged
    eps = 1.5
    expected = []
    for d in delta:
        norm = math.sqrt(float((d**2).sum()))
        expected.append(d if norm <= eps else d * (eps / norm))
    out = _project(torch.as_tensor(delta), eps, "l2").numpy()
    assert_allclose(out, np.array(expected), rtol=1e-12)
    assert_allclose(out[0], delta[0])
    norms = np.linalg.norm(out.reshape(6, -1), axis=1)
    assert_allclose(norms[1:], eps, rtol=1e-12)


def test_one_long_l2_step_lands_on_the_sphere_along_the_gradient(linear):
    model, W, b = linear
    x = torch.as_tensor(np.random.RandomState(3).randn(5, 4))
    y = torch.tensor([0, 1, 2, 0, 1])
    x_adv = pgd_attack(
        model,
        lambda out, _x: F.cross_entropy(out, y),
        x,
        eps=0.5,
        step_size=10.0,
        n_steps=1,
        norm="l2",
        random_start=False,
    )
    xn = x.numpy()
    g = (softmax(xn @ W.T + b) - np.eye(3)[y.numpy()]) @ W
    expected = xn + 0.5 * g / np.linalg.norm(g, axis=1, keepdims=True)
    assert_allclose(x_adv.numpy(), expected, rtol=1e-10)


def hand_pgd_l2(x, y, W, b, eps, alpha, n_steps, lo=-np.inf, hi=np.inf):
    """L2 PGD by hand: steps of length ``alpha`` along the gradient of the mean
    CE, projected onto the eps-ball around x (radial scaling), then clipped."""
    onehot = np.eye(W.shape[0])[y]
    z = x.copy()
    for _ in range(n_steps):
        g = (softmax(z @ W.T + b) - onehot) @ W
        d = z + alpha * g / np.linalg.norm(g, axis=1, keepdims=True) - x
        norm = np.linalg.norm(d, axis=1, keepdims=True)
        d = d * np.minimum(1.0, eps / norm)
        z = np.clip(x + d, lo, hi)
    return z


@pytest.mark.parametrize("n_steps", [1, 3])
def test_short_l2_steps_have_the_step_length_along_the_gradient(linear, n_steps):
    """Steps shorter than eps stay inside the ball, so the projection cannot
    hide a wrong step length: each step moves exactly ``step_size``."""
    model, W, b = linear
    x = np.random.RandomState(13).randn(6, 4)
    y = np.array([0, 1, 2, 2, 1, 0])
    yt = torch.as_tensor(y)
    x_adv = pgd_attack(
        model,
        lambda out, _x: F.cross_entropy(out, yt),
        torch.as_tensor(x),
        eps=1.0,
        step_size=0.15,
        n_steps=n_steps,
        norm="l2",
        random_start=False,
    ).numpy()
    expected = hand_pgd_l2(x, y, W, b, 1.0, 0.15, n_steps)
    assert_allclose(x_adv, expected, rtol=1e-10)
    if n_steps == 1:
        assert_allclose(np.linalg.norm(x_adv - x, axis=1), 0.15, rtol=1e-10)


def test_l2_steps_with_a_clip_range_equal_the_hand_computation(linear):
    """Several long L2 steps, projected onto the ball and then clipped to a
    per-feature range that binds."""
    model, W, b = linear
    x = np.random.RandomState(14).rand(8, 4)
    y = np.arange(8) % 3
    yt = torch.as_tensor(y)
    lo, hi = np.array([0.0, 0.1, 0.0, 0.2]), np.array([1.0, 0.9, 0.8, 1.0])
    x = np.clip(x, lo, hi)
    x_adv = pgd_attack(
        model,
        lambda out, _x: F.cross_entropy(out, yt),
        torch.as_tensor(x),
        eps=0.6,
        step_size=0.4,
        n_steps=4,
        norm="l2",
        random_start=False,
        clip_min=torch.as_tensor(lo),
        clip_max=torch.as_tensor(hi),
    ).numpy()
    expected = hand_pgd_l2(x, y, W, b, 0.6, 0.4, 4, lo, hi)
    free = hand_pgd_l2(x, y, W, b, 0.6, 0.4, 4)
    assert not np.allclose(expected, free)  # the clip range binds
    assert_allclose(x_adv, expected, rtol=1e-10, atol=1e-12)


def random_start(x, eps, seed, **kwargs):
    """PGD's random start: zero steps of PGD return it."""
    return pgd_attack(
        lambda z: z,
        lambda out, _x: out.sum(),
        x,
        eps=eps,
        step_size=0.1,
        n_steps=0,
        generator=torch.Generator().manual_seed(seed),
        **kwargs,
    )


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_random_starts_follow_their_documented_distributions(norm):
    """L-inf: each coordinate uniform on [-eps, eps]. L2: a uniform direction at
    a radius uniform on [0, eps]. (Zero steps of PGD return the start.)"""
    from scipy import stats

    eps, n = 0.5, 4000
    x = torch.zeros(n, 3, dtype=torch.float64)
    start = random_start(x, eps, 0, norm=norm).numpy()
    if norm == "linf":
        u = (start.ravel() + eps) / (2 * eps)
        assert stats.kstest(u, "uniform").pvalue > 1e-3
        return
    radius = np.linalg.norm(start, axis=1)
    assert radius.max() <= eps + 1e-12
    assert stats.kstest(radius / eps, "uniform").pvalue > 1e-3
    directions = start / radius[:, None]
    assert np.abs(directions.mean(axis=0)).max() < 0.05  # no preferred direction
    assert_allclose((directions**2).mean(axis=0), 1 / 3, atol=0.03)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_random_starts_come_from_the_generator_only(norm):
    """The same generator seed, the same start, whatever torch's global RNG
    holds; another seed, another start."""

    def start(seed, global_seed):
        torch.manual_seed(global_seed)
        return random_start(
            torch.zeros(6, 3, dtype=torch.float64), 0.5, seed, norm=norm
        )

    assert torch.equal(start(0, global_seed=1), start(0, global_seed=2))
    assert not torch.equal(start(0, global_seed=1), start(1, global_seed=1))


def test_a_random_start_respects_the_clip_range():
    """Zero steps return the random start: already inside [clip_min, clip_max]."""
    x = torch.full((200, 2), 0.05, dtype=torch.float64)
    x[:, 1] = 0.95
    for norm in ("linf", "l2"):
        start = random_start(
            x,
            0.3,
            0,
            norm=norm,
            clip_min=torch.tensor([0.0, 0.0], dtype=torch.float64),
            clip_max=torch.tensor([1.0, 1.0], dtype=torch.float64),
        ).numpy()
        assert start.min() >= 0.0 and start.max() <= 1.0
        # the range binds: about half of the draws were pushed back onto it
        assert (start[:, 0] == 0.0).mean() > 0.2 and (start[:, 1] == 1.0).mean() > 0.2
    # one bound alone binds as well
    for bound in ("clip_min", "clip_max"):
        bounds = {bound: torch.tensor([0.0, 1.0], dtype=torch.float64)}
        start = random_start(x, 0.3, 0, **bounds).numpy()
        if bound == "clip_min":
            assert start[:, 0].min() == 0.0 and start[:, 1].max() > 1.0
        else:
            assert start[:, 1].max() == 1.0 and start[:, 0].min() < 0.0


# --------------------------------------------------------------------- PGD
def hand_pgd_linf(x, y, W, b, eps, alpha, n_steps):
    """Sign-gradient ascent on the mean cross-entropy of softmax(W x + b)."""
    onehot = np.eye(W.shape[0])[y]
    z = x.copy()
    for _ in range(n_steps):
        grad = (softmax(z @ W.T + b) - onehot) @ W / len(x)  # d mean CE / d x
        z = np.clip(z + alpha * np.sign(grad), x - eps, x + eps)
    return z


@pytest.mark.parametrize("n_steps", [1, 3])
def test_pgd_steps_on_a_linear_model_equal_the_hand_computation(linear, n_steps):
    model, W, b = linear
    x = np.random.RandomState(4).randn(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    yt = torch.as_tensor(y)
    x_adv = pgd_attack(
        model,
        lambda out, _x: F.cross_entropy(out, yt),
        torch.as_tensor(x),
        eps=0.3,
        step_size=0.2,
        n_steps=n_steps,
        random_start=False,
    )
    assert_allclose(x_adv.numpy(), hand_pgd_linf(x, y, W, b, 0.3, 0.2, n_steps))


def _linear_net(W, b):
    """A skfral net whose module is the fixed linear model (float32)."""
    net = RobustNeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=4,
        module__out_features=3,
        classes=[0, 1, 2],
        adversarial=None,
    ).initialize()
    with torch.no_grad():
        net.module_.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
        net.module_.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
    return net


def test_pgd_and_fgsm_estimators_on_a_linear_net_equal_the_hand_computation(linear):
    _, W, b = linear
    net = _linear_net(W, b)
    X = np.random.RandomState(5).randn(10, 4).astype(np.float32)
    y = np.arange(10) % 3
    W32, b32 = W.astype(np.float32), b.astype(np.float32)
    pgd = PGD(eps=0.25, step_size=0.1, n_steps=4, random_start=False)
    assert_allclose(
        pgd.perturb(net, X, y), hand_pgd_linf(X, y, W32, b32, 0.25, 0.1, 4), atol=1e-6
    )
    # FGSM: one step of size eps from x
    assert_allclose(
        FGSM(eps=0.25).perturb(net, X, y),
        hand_pgd_linf(X, y, W32, b32, 0.25, 0.25, 1),
        atol=1e-6,
    )


# ------------------------------------------------------------------- TRADES
def _trades_start(x, seed):
    gen = torch.Generator().manual_seed(seed)
    return x + 0.001 * torch.randn(x.shape, generator=gen, dtype=x.dtype)


def test_trades_step_ascends_the_kl_of_clean_to_adversarial(linear):
    """One TRADES step is the sign step of d/dx0 KL(p_clean || softmax(W x0 + b))
    = (q(x0) - p_clean) @ W, from x0 = x + 0.001 N(0, 1), projected onto the
    eps-ball around x0 and then around x."""
    model, W, b = linear
    x = torch.as_tensor(np.random.RandomState(6).randn(6, 4))
    eps, alpha = 0.3, 0.1
    x0 = _trades_start(x, seed=7).numpy()
    xn = x.numpy()
    p = softmax(xn @ W.T + b)
    q = softmax(x0 @ W.T + b)
    grad_kl = (q - p) @ W

    def step(grad):
        z = np.clip(x0 + alpha * np.sign(grad), x0 - eps, x0 + eps)
        return xn + np.clip(z - xn, -eps, eps)

    expected = step(grad_kl)
    # The mutant of issue 17: cross-entropy on the predicted labels instead.
    grad_ce_pred = (q - np.eye(3)[p.argmax(axis=1)]) @ W
    assert not np.allclose(step(grad_ce_pred), expected)  # the test can tell them apart
    with torch.no_grad():
        logits = model(x)
    x_adv = trades_attack(
        model,
        x,
        logits,
        eps=eps,
        step_size=alpha,
        n_steps=1,
        generator=torch.Generator().manual_seed(7),
    )
    assert_allclose(x_adv.numpy(), expected, rtol=1e-10, atol=1e-12)


def hand_trades(x, x0, W, b, eps, alpha, n_steps, reverse=False):
    """TRADES ascent by hand: sign steps on KL(p_clean || q) (``reverse``:
    KL(q || p_clean), a mutant), in the eps-ball around x0, then around x."""
    p = softmax(x @ W.T + b)
    z = x0.copy()
    for _ in range(n_steps):
        q = softmax(z @ W.T + b)
        if reverse:
            r = np.log(q) - np.log(p)
            g = (q * (r - (q * r).sum(axis=1, keepdims=True))) @ W
        else:
            g = (q - p) @ W
        z = np.clip(z + alpha * np.sign(g), x0 - eps, x0 + eps)
    return x + np.clip(z - x, -eps, eps)


def test_trades_steps_follow_the_kl_of_clean_to_adversarial(linear):
    """Several steps, far enough from x for KL(p || q) and KL(q || p) to point
    different ways: the attack follows KL(p_clean || p_adv)."""
    model, W, b = linear
    x = torch.as_tensor(np.random.RandomState(12).randn(16, 4))
    eps, alpha, n_steps = 1.0, 0.2, 8
    x0 = _trades_start(x, seed=3).numpy()
    xn = x.numpy()
    expected = hand_trades(xn, x0, W, b, eps, alpha, n_steps)
    reverse = hand_trades(xn, x0, W, b, eps, alpha, n_steps, reverse=True)
    assert not np.allclose(expected, reverse)  # the test can tell them apart
    with torch.no_grad():
        logits = model(x)
    x_adv = trades_attack(
        model,
        x,
        logits,
        eps=eps,
        step_size=alpha,
        n_steps=n_steps,
        generator=torch.Generator().manual_seed(3),
    )
    assert_allclose(x_adv.numpy(), expected, rtol=1e-10, atol=1e-12)


def hand_trades_clipped(x, x0, W, b, eps, alpha, n_steps, norm, lo, hi):
    """TRADES ascent by hand with a clip range: steps on KL(p_clean || q) from
    x0 (already clipped), inside the eps-ball around x0 and the range; then the
    ball around x and the range once more."""
    p = softmax(x @ W.T + b)

    def project(d):
        if norm == "linf":
            return np.clip(d, -eps, eps)
        length = np.linalg.norm(d, axis=1, keepdims=True)
        return d * np.minimum(1.0, eps / length)

    z = x0.copy()
    for _ in range(n_steps):
        g = (softmax(z @ W.T + b) - p) @ W
        if norm == "linf":
            step = alpha * np.sign(g)
        else:
            step = alpha * g / np.linalg.norm(g, axis=1, keepdims=True)
        z = np.clip(x0 + project(z + step - x0), lo, hi)
    return np.clip(x + project(z - x), lo, hi)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_trades_attack_with_a_clip_range_equals_the_hand_computation(linear, norm):
    """TRADES honours ``norm`` and ``clip_min``/``clip_max`` at the start, at
    every step and in the final projection (checked where the range binds)."""
    model, W, b = linear
    lo, hi = np.array([0.0, 0.1, 0.0, 0.2]), np.array([1.0, 0.9, 0.8, 1.0])
    x = np.clip(np.random.RandomState(15).rand(12, 4), lo, hi)
    # a few samples on the range's edges, where the start noise is clipped too
    x[:3, 0], x[3:6, 1] = lo[0], hi[1]
    xt = torch.as_tensor(x)
    eps, alpha, n_steps = (0.3, 0.1, 5) if norm == "linf" else (0.5, 0.2, 5)
    x0 = np.clip(_trades_start(xt, seed=4).numpy(), lo, hi)
    expected = hand_trades_clipped(x, x0, W, b, eps, alpha, n_steps, norm, lo, hi)
    free = hand_trades_clipped(x, x0, W, b, eps, alpha, n_steps, norm, -np.inf, np.inf)
    assert not np.allclose(expected, free)  # the clip range binds
    other = "l2" if norm == "linf" else "linf"
    assert not np.allclose(
        expected, hand_trades_clipped(x, x0, W, b, eps, alpha, n_steps, other, lo, hi)
    )  # the norm matters
    with torch.no_grad():
        logits = model(xt)
    x_adv = trades_attack(
        model,
        xt,
        logits,
        eps=eps,
        step_size=alpha,
        n_steps=n_steps,
        norm=norm,
        clip_min=torch.as_tensor(lo),
        clip_max=torch.as_tensor(hi),
        generator=torch.Generator().manual_seed(4),
    ).numpy()
    assert_allclose(x_adv, expected, rtol=1e-10, atol=1e-12)


def test_trades_attack_raises_the_kl_of_clean_to_adversarial(linear):
    model, W, b = linear
    x = torch.as_tensor(np.random.RandomState(8).randn(20, 4))
    with torch.no_grad():
        logits = model(x)
    p = softmax(logits.numpy())

    def kl(z):
        q = softmax(z @ W.T + b)
        return (p * (np.log(p) - np.log(q))).sum(axis=1)

    x_adv = trades_attack(
        model,
        x,
        logits,
        eps=0.3,
        step_size=0.05,
        n_steps=10,
        generator=torch.Generator().manual_seed(0),
    ).numpy()
    start = _trades_start(x, seed=0).numpy()
    assert (kl(x_adv) > kl(start) + 1e-3).all()
    assert np.abs(x_adv - x.numpy()).max() <= 0.3 + 1e-12


def test_trades_training_loss_is_ce_plus_beta_kl(linear, monkeypatch):
    """The loss of a TRADES training step, for a fixed adversarial batch:
    mean CE(f(x), y) + beta * mean over samples of KL(p(x) || p(x_adv))."""
    _, W, b = linear
    net = _linear_net(W, b).set_params(adversarial="trades", trades_beta=3.0)
    net.initialize()
    with torch.no_grad():
        net.module_.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
        net.module_.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
    rng = np.random.RandomState(9)
    X = rng.randn(7, 4).astype(np.float32)
    y = np.array([0, 1, 2, 2, 1, 0, 1])
    delta = (0.2 * rng.randn(7, 4)).astype(np.float32)

    def fixed_attack(forward, x, logits_clean, **kwargs):
        return x + torch.as_tensor(delta)

    monkeypatch.setattr(net_module, "trades_attack", fixed_attack)
    out = net.train_step_single((torch.as_tensor(X), torch.as_tensor(y)))
    p = softmax(X.astype(np.float64) @ W.T + b)
    q = softmax((X + delta).astype(np.float64) @ W.T + b)
    ce = -np.log(p[np.arange(7), y]).mean()
    kl = (p * (np.log(p) - np.log(q))).sum(axis=1).mean()
    assert_allclose(float(out["loss"].detach()), ce + 3.0 * kl, rtol=1e-5)
    assert kl > 1e-3  # the KL term is really there


# --------------------------------------------------------------------- APGD
def paper_checkpoints(n_steps):
    """w_j = ceil(p_j N), p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1}
    - 0.03, 0.06) (Croce and Hein 2020, Sec. 3.2), in exact rationals."""
    p = [Fraction(0), Fraction(22, 100)]
    while p[-1] <= 1:
        p.append(p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100)))
    w = sorted({math.ceil(pj * n_steps) for pj in p[1:] if pj <= 1})
    return [v for v in w if 0 < v <= n_steps]


@pytest.mark.parametrize("n_steps", [1, 5, 10, 20, 37, 100, 1000])
def test_apgd_checkpoints_follow_the_paper(n_steps):
    assert apgd_checkpoints(n_steps) == paper_checkpoints(n_steps)


def test_apgd_checkpoints_for_100_steps():
    # p_j = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 (1.05 > 1 ends it)
    assert apgd_checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]


def test_apgd_halves_the_step_at_every_checkpoint_when_the_loss_is_stuck():
    """A loss that never rises meets condition 1 at every checkpoint: the step
    size is 2 eps until the first checkpoint and halves after each one."""
    n_steps, eps = 40, 0.2
    x = torch.zeros(3, 2)
    y = torch.zeros(3, dtype=torch.long)

    def flat_model(z):  # constant logits, class 0 always predicted
        return torch.tensor([[5.0, 0.0, 0.0]]).expand(len(z), 3) + 0 * z.sum()

    history = []
    apgd_attack(
        flat_model,
        x,
        y,
        eps=eps,
        n_steps=n_steps,
        history=history,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(history) == n_steps
    w = paper_checkpoints(n_steps)
    for k, eta in enumerate(history):
        halvings = sum(1 for wj in w if wj < k)
        assert_allclose(eta.numpy(), 2 * eps * 0.5**halvings, rtol=1e-6)


class SineLayer(torch.nn.Module):
    def forward(self, x):
        return torch.sin(x)


def reference_apgd_one_sample(
    f_and_grad, x, x0, eps, n_steps, rho=0.75, alpha=0.75, norm="linf"
):
    """Algorithm 1 of Croce and Hein (2020) for one sample, no clip range.

    ``f_and_grad(z) -> (loss, grad, fooled)``. Returns the first iterate that
    fools the model, else the iterate of highest loss, and the step sizes.
    L-inf: sign steps, the box around x; L2: steps along g / ||g||, the ball
    around x (radial scaling).
    """
    W = paper_checkpoints(n_steps)

    def P(z):
        if norm == "linf":
            return np.clip(z, x - eps, x + eps)
        d = z - x
        return x + d * min(1.0, eps / np.linalg.norm(d))

    def step(g):
        return np.sign(g) if norm == "linf" else g / np.linalg.norm(g)

    eta = 2 * eps
    xs, fs = [x0], []
    f, g, fooled = f_and_grad(x0)
    fs.append(f)
    grads = [g]
    if fooled:
        return x0, []
    etas = []
    fmax, xmax, gmax = f, x0, g
    last_w, eta_last, fmax_last = 0, eta, f
    for k in range(n_steps):
        etas.append(eta)
        xk = xs[k]
        z = P(xk + eta * step(grads[k]))
        a = 1.0 if k == 0 else alpha
        prev = xs[k - 1] if k > 0 else xk
        x_new = P(xk + a * (z - xk) + (1 - a) * (xk - prev))
        f, g, fooled = f_and_grad(x_new)
        if fooled:
            return x_new, etas
        xs.append(x_new)
        fs.append(f)
        grads.append(g)
        if f > fmax:
            fmax, xmax, gmax = f, x_new, g
        if k in W:
            rises = sum(fs[i + 1] > fs[i] for i in range(last_w, k))
            cond1 = rises < rho * (k - last_w)
            cond2 = eta_last == eta and fmax_last == fmax
            eta_last, fmax_last, last_w = eta, fmax, k
            if cond1 or cond2:
                eta = eta / 2
                xs[k + 1], fs[k + 1], grads[k + 1] = xmax, fmax, gmax
    return xmax, etas


@pytest.mark.parametrize("bias", [8.0, 1.5])
@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_apgd_run_equals_a_transcription_of_the_papers_algorithm(norm, bias):
    """A bumpy loss (sine features). With a large bias no point in the ball
    can flip: every run goes the whole way, halves its steps at
    sample-dependent checkpoints, and returns its best iterate. With a small
    one some samples flip part-way: they return their first fooling point.
    L-inf and L2."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 16), SineLayer(), torch.nn.Linear(16, 4)
    ).double()
    with torch.no_grad():
        model[0].weight.mul_(6.0)
        model[2].bias[0] += bias  # class 0 wins (always, with bias 8)
    x = torch.as_tensor(np.random.RandomState(10).randn(12, 3))
    y = torch.zeros(12, dtype=torch.long)
    y[:2] = 1  # misclassified: must come back unchanged
    with torch.no_grad():
        attacked = np.flatnonzero((model(x).argmax(dim=1) == y).numpy())
    assert attacked[0] == 2  # the first two (and no other with bias 8) are not
    n_att = len(attacked)
    assert (n_att == 10) == (bias == 8.0)
    eps, n_steps = 0.5, 25
    history = []
    x_adv = apgd_attack(
        model,
        x,
        y,
        eps=eps,
        n_steps=n_steps,
        norm=norm,
        history=history,
        generator=torch.Generator().manual_seed(11),
    ).numpy()
    missed = np.setdiff1d(np.arange(12), attacked)
    assert_array_equal(x_adv[missed], x[missed].numpy())
    steps = torch.stack(history).numpy()  # (n_steps, attacked samples)
    if bias == 8.0:
        assert len({tuple(col) for col in steps.T}) > 3  # schedules differ
    with torch.no_grad():
        flipped = (model(torch.as_tensor(x_adv[attacked])).argmax(dim=1) != 0).sum()
    assert (int(flipped) == 0) == (bias == 8.0)
    if bias != 8.0:
        assert 0 < int(flipped) < n_att  # some flip part-way, some never do
    # the random start of the attacked samples, drawn as the attack draws it
    gen = torch.Generator().manual_seed(11)
    if norm == "linf":
        start = torch.empty((n_att, 3), dtype=x.dtype).uniform_(
            -eps, eps, generator=gen
        )
    else:  # a uniform direction at a radius uniform on [0, eps]
        direction = torch.randn((n_att, 3), generator=gen, dtype=x.dtype)
        direction = direction / direction.norm(dim=1, keepdim=True)
        start = direction * torch.rand((n_att, 1), generator=gen, dtype=x.dtype) * eps
    for row, i in enumerate(attacked):

        def f_and_grad(z, i=i):
            zt = torch.as_tensor(z).requires_grad_(True)
            logits = model(zt[None])
            loss = F.cross_entropy(logits, y[i : i + 1])
            (g,) = torch.autograd.grad(loss, [zt])
            return float(loss.detach()), g.numpy(), int(logits.argmax()) != int(y[i])

        xi = x[i].numpy()
        expected, etas = reference_apgd_one_sample(
            f_and_grad, xi, xi + start[row].numpy(), eps, n_steps, norm=norm
        )
        # L2 normalises the gradient in another order: agreement to 1e-7
        tol = {"rtol": 1e-9, "atol": 1e-12} if norm == "linf" else {"atol": 1e-7}
        assert_allclose(x_adv[i], expected, err_msg=str(i), **tol)
        if bias == 8.0:  # step sizes after a sample flips are not defined
            assert_allclose(steps[:, row], etas, err_msg=str(i))


def _counting(model, calls):
    def forward(z):
        calls.append(len(z))
        return model(z)

    return forward


@pytest.mark.parametrize("loss, runs", [("ce", 1), ("dlr", 9)])
def test_apgd_attack_defaults_100_steps_and_9_target_classes(loss, runs):
    """Unfoolable samples go the whole way: one clean forward pass, then
    n_steps + 1 per run; the defaults are the paper's 100 steps and, for the
    targeted DLR loss, 9 target classes (of 12 here)."""
    model = torch.nn.Linear(3, 12).double()
    with torch.no_grad():
        model.bias[0] += 100.0
    x = torch.as_tensor(np.random.RandomState(0).rand(4, 3))
    y = torch.zeros(4, dtype=torch.long)
    calls = []
    x_adv = apgd_attack(
        _counting(model, calls),
        x,
        y,
        eps=0.1,
        loss=loss,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(calls) == 1 + runs * (100 + 1)
    assert (x_adv - x).abs().max() <= 0.1 + 1e-12


def test_apgd_attack_eps_zero_returns_x_and_any_other_eps_attacks():
    model = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model.bias.zero_()
    x = torch.tensor([[0.3, 0.0], [0.6, 1.0]], dtype=torch.float64)  # class 0
    y = torch.zeros(2, dtype=torch.long)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(apgd_attack(model, x, y, eps=0.0, generator=gen), x)
    # eps = 1: a step of 1 along -x_0 crosses the boundary x_0 = 0 for both
    x_adv = apgd_attack(model, x, y, eps=1.0, n_steps=5, generator=gen)
    assert (model(x_adv).argmax(dim=1) == 1).all()
    assert (x_adv - x).abs().max() <= 1.0 + 1e-12


def test_apgd_stops_early_once_every_sample_is_fooled():
    """Every sample flips at the first step: the run stops there and each
    sample comes back as its first fooling point."""
    model = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model.bias.zero_()
    x = torch.tensor([[0.05, 0.0], [0.1, 0.5], [0.02, -1.0]], dtype=torch.float64)
    y = torch.zeros(3, dtype=torch.long)
    calls, history = [], []
    x_adv = apgd_attack(
        _counting(model, calls),
        x,
        y,
        eps=0.5,
        n_steps=20,
        history=history,
        generator=torch.Generator().manual_seed(0),
    )
    assert (model(x_adv).argmax(dim=1) == 1).all()
    assert len(history) < 20  # stopped before the last step
    assert len(calls) < 1 + 21


def test_apgd_restarts_keep_each_samples_highest_loss_point():
    """Nothing can be fooled: with R restarts each sample gets the point of the
    restart whose best loss is highest; restart r is a one-restart run that
    continues the same generator."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 16), SineLayer(), torch.nn.Linear(16, 4)
    ).double()
    with torch.no_grad():
        model[0].weight.mul_(6.0)
        model[2].bias[0] += 8.0
    x = torch.as_tensor(np.random.RandomState(3).randn(8, 3))
    y = torch.zeros(8, dtype=torch.long)
    kw = {"eps": 0.5, "n_steps": 6}
    out = apgd_attack(
        model, x, y, n_restarts=3, generator=torch.Generator().manual_seed(5), **kw
    )
    gen = torch.Generator().manual_seed(5)
    runs = [apgd_attack(model, x, y, generator=gen, **kw) for _ in range(3)]
    with torch.no_grad():
        losses = torch.stack(
            [F.cross_entropy(model(r), y, reduction="none") for r in runs]
        )
    best = losses.argmax(dim=0)
    assert len(set(best.tolist())) > 1  # different restarts win for different samples
    expected = torch.stack([runs[b][i] for i, b in enumerate(best.tolist())])
    assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_targeted_dlr_runs_target_the_next_ranked_classes(monkeypatch):
    """Run j of the targeted DLR loss aims at each sample's (j+1)-th highest
    clean logit (the top one is the true class of the samples attacked)."""
    import skfral.nn._apgd_maths as apgd_module

    seen = []
    real = apgd_module.dlr_loss

    def spy(logits, y, target=None):
        seen.append(None if target is None else target.clone())
        return real(logits, y, target)

    monkeypatch.setattr(apgd_module, "dlr_loss", spy)
    model = torch.nn.Linear(3, 5).double()
    with torch.no_grad():
        model.bias[0] += 50.0  # class 0 on top, unfoolable
    x = torch.as_tensor(np.random.RandomState(4).randn(6, 3))
    y = torch.zeros(6, dtype=torch.long)
    apgd_attack(
        model,
        x,
        y,
        eps=0.1,
        n_steps=3,
        loss="dlr",
        n_target_classes=2,
        generator=torch.Generator().manual_seed(0),
    )
    with torch.no_grad():
        order = np.argsort(-model(x).numpy(), axis=1, kind="stable")
    targets = [t.tolist() for t in seen]
    # (n_steps + 1) loss evaluations per run, two runs
    assert targets == [order[:, 1].tolist()] * 4 + [order[:, 2].tolist()] * 4


def test_dlr_loss_by_hand():
    z = torch.tensor([[4.0, 1.0, 3.0, -2.0, 0.0], [0.5, 2.5, 2.0, 1.0, -1.0]])
    y = torch.tensor([0, 0])
    # sorted: [4, 3, 1, 0, -2] and [2.5, 2, 1, 0.5, -1]
    untargeted = [-(4 - 3) / (4 - 1), -(0.5 - 2.5) / (2.5 - 1)]
    assert_allclose(dlr_loss(z, y).numpy(), untargeted, rtol=1e-6)
    t = torch.tensor([1, 2])
    targeted = [-(4 - 1) / (4 - (1 + 0) / 2), -(0.5 - 2.0) / (2.5 - (1 + 0.5) / 2)]
    assert_allclose(dlr_loss(z, y, t).numpy(), targeted, rtol=1e-6)
    # shift and positive scale invariance
    assert_allclose(dlr_loss(3 * z + 7, y, t).numpy(), targeted, rtol=1e-5)
    # two classes: the plain margin
    z2 = torch.tensor([[1.0, 3.0]])
    assert_allclose(dlr_loss(z2, torch.tensor([0])).numpy(), [2.0])


def test_dlr_loss_by_hand_with_three_and_four_classes():
    """The scale of DLR depends on the number of classes: z_(1) - z_(3) with
    three (targeted and untargeted), z_(1) - (z_(3) + z_(4)) / 2 with four
    targeted; equal top logits leave a positive 1e-12 in the denominator."""
    z3 = torch.tensor([[1.0, 4.0, 2.0], [3.0, 0.0, 1.5]], dtype=torch.float64)
    y3 = torch.tensor([0, 0])
    # sorted: [4, 2, 1] and [3, 1.5, 0]
    assert_allclose(
        dlr_loss(z3, y3).numpy(), [-(1 - 4) / (4 - 1), -(3 - 1.5) / (3 - 0)]
    )
    t3 = torch.tensor([2, 1])
    assert_allclose(
        dlr_loss(z3, y3, t3).numpy(), [-(1 - 2) / (4 - 1), -(3 - 0) / (3 - 0)]
    )
    z4 = torch.tensor([[1.0, 4.0, 2.0, -1.0]], dtype=torch.float64)
    t4 = torch.tensor([2])
    # sorted: [4, 2, 1, -1]
    assert_allclose(
        dlr_loss(z4, torch.tensor([0]), t4).numpy(), [-(1 - 2) / (4 - (1 - 1) / 2)]
    )
    tied = torch.tensor([[5.0, 5.0, 5.0, 1.0]], dtype=torch.float64)
    assert_allclose(dlr_loss(tied, torch.tensor([3])).numpy(), [4 / 1e-12])
    tied4 = torch.tensor([[5.0, 5.0, 5.0, 5.0, 1.0]], dtype=torch.float64)
    assert_allclose(
        dlr_loss(tied4, torch.tensor([4]), torch.tensor([0])).numpy(), [4 / 1e-12]
    )


def test_apgd_condition_2_needs_no_halving_at_the_last_checkpoint():
    """A scripted loss sequence (one value per forward pass, zero gradient) in
    which, after a halving at w_1 = 22, the loss rises at 18 of the 19 steps
    up to w_2 = 41 without beating the best: condition 1 fails, and condition
    2 fails because the step was halved at w_1. So no second halving."""
    n_steps = 100
    assert paper_checkpoints(n_steps)[:2] == [22, 41]
    losses = [0.5, 0.5, 0.9]  # clean check, x^(0), x^(1) (the best)
    losses += [0.1] * 21  # x^(2) .. x^(22): flat, condition 1 at k = 22
    losses += [0.05]  # x^(24), after x^(23) <- x_max: a fall
    losses += [0.1 + 0.01 * j for j in range(17)]  # x^(25) .. x^(41): rises
    losses += [0.2] * (n_steps + 2 - len(losses))
    calls = []

    def scripted(z):
        loss = losses[min(len(calls), len(losses) - 1)]
        calls.append(loss)
        a = -math.log((math.exp(loss) - 1) / 2)  # CE of [a, 0, 0] at class 0
        return torch.tensor([[a, 0.0, 0.0]], dtype=z.dtype) + 0 * z.sum()

    history = []
    apgd_attack(
        scripted,
        torch.zeros(1, 2),
        torch.zeros(1, dtype=torch.long),
        eps=0.2,
        n_steps=n_steps,
        history=history,
        generator=torch.Generator().manual_seed(0),
    )
    etas = torch.cat(history).numpy()
    assert_allclose(etas[:23], 0.4)  # 2 eps up to the step after w_1
    assert_allclose(etas[23:43], 0.2)  # halved once at w_1 = 22, not at w_2 = 41


# ----------------------------------------------------------- attack_from_net
def test_attack_from_net_reads_every_setting_or_pgds_defaults():
    from sklearn.linear_model import LogisticRegression
    from skorch import NeuralNetClassifier

    from skfral.nn import attack_from_net

    net = RobustNeuralNetClassifier(
        torch.nn.Linear,
        attack_eps=0.2,
        attack_step_size=0.05,
        attack_n_steps=3,
        attack_norm="l2",
        attack_random_start=False,
        attack_clip_min=-1.0,
        attack_clip_max=2.0,
    )
    attack = attack_from_net(net, n_steps=1, random_state=4)
    expected = {
        "eps": 0.2,
        "step_size": 0.05,
        "n_steps": 1,
        "norm": "l2",
        "random_start": False,
        "clip_min": -1.0,
        "clip_max": 2.0,
        "batch_size": PGD().batch_size,
        "random_state": 4,
    }
    assert {k: attack.get_params()[k] for k in expected} == expected
    assert attack_from_net(net).n_steps == 3
    # a plain skorch net has no attack_* settings: PGD's own defaults
    plain = attack_from_net(NeuralNetClassifier(torch.nn.Linear))
    assert plain.get_params() == PGD().get_params()

    # an object that says how it was trained is read too
    class Trained:
        attack_eps = 0.3

    assert attack_from_net(Trained()).eps == 0.3
    with pytest.raises(
        TypeError,
        match=r"^net=LogisticRegression is not supported: expected a skfral "
        r"RobustNeuralNetClassifier \(a skorch net\) or a Pipeline ending in one\.$",
    ):
        attack_from_net(LogisticRegression())
