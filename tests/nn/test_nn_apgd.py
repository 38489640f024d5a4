"""APGD (Auto-PGD, Croce and Hein 2020): geometry, strength, peers, plumbing, bad input."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skfral.nn import APGD, FGSM, MLP, PGD, RobustNeuralNetClassifier, attack_from_net
from skfral.utils._param_validation import InvalidParameterError, invalid_value_for

from .nn_helpers import make_unit_box, standard_net

TOL = 1e-5


def make_multiclass(n_samples=400, n_classes=5, seed=0):
    """Image-shaped (n, 1, 4, 4) data in [0, 1] with a noisy linear 5-class rule
    (torchattacks' APGD wants 4-d inputs; skfral's MLP flattens them)."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n_samples, 16).astype(np.float32)
    W = rng.randn(16, n_classes)
    y = np.argmax((X - 0.5) @ W + 0.3 * rng.randn(n_samples, n_classes), axis=1)
    return X.reshape(n_samples, 1, 4, 4), y.astype(np.int64)


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_multiclass(n_samples=1000)
    net = standard_net(16, max_epochs=30, lr=0.05).fit(X[:600], y[:600])
    return net, X[600:], y[600:]


def accuracy(net, X, y):
    return float((net.predict(X) == y).mean())


# ----------------------------------------------------------------- geometry
@pytest.mark.parametrize("loss", ["ce", "dlr", "dlr_untargeted"])
@pytest.mark.parametrize("norm, eps", [("linf", 0.05), ("l2", 0.3)])
def test_apgd_stays_in_the_ball_and_the_clip_range(multiclass, loss, norm, eps):
    net, X, y = multiclass
    lo = np.full((1, 4, 4), 0.02, dtype=np.float32)
    lo[0, 0] = 0.0  # per-feature bounds
    X = np.maximum(X, lo)
    X_adv = APGD(
        loss=loss,
        eps=eps,
        norm=norm,
        n_steps=10,
        clip_min=lo,
        clip_max=1.0,
        random_state=0,
    ).perturb(net, X, y)
    assert X_adv.shape == X.shape and X_adv.dtype == np.float32
    delta = (X_adv - X).reshape(len(X), -1)
    dist = (
        np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    )
    assert dist.max() <= eps + TOL
    assert (X_adv >= lo - TOL).all() and (X_adv <= 1 + TOL).all()
    assert accuracy(net, X_adv, y) < accuracy(net, X, y) - 0.15


def test_apgd_returns_fooling_points_and_leaves_misclassified_samples(multiclass):
    net, X, y = multiclass
    wrong = net.predict(X) != y
    X_adv = APGD(eps=0.05, n_steps=10, clip_min=0, clip_max=1, random_state=0).perturb(
        net, X, y
    )
    # already misclassified: returned as given (fooled with no perturbation)
    assert_array_equal(X_adv[wrong], X[wrong])
    # each fooled sample is a fooling point; the others were attacked too
    fooled = (net.predict(X_adv) != y) & ~wrong
    assert fooled.sum() > 20
    assert np.abs(X_adv[~wrong] - X[~wrong]).max() > 0.04


def test_apgd_with_y_none_attacks_the_nets_own_predictions(multiclass):
    net, X, _ = multiclass
    own = net.predict(X)
    a = APGD(eps=0.05, n_steps=10, clip_min=0, clip_max=1, random_state=0)
    assert_array_equal(a.perturb(net, X), clone(a).perturb(net, X, own))


# ------------------------------------------------------------- peer check
@pytest.mark.parametrize("loss", ["ce", "dlr"])
def test_robust_accuracy_matches_torchattacks(multiclass, loss):
    """Same model, data in [0, 1], same eps and steps: within 1 point (mean of 3
    seeds; the random starts differ). "dlr" is APGD-T, torchattacks' APGDT over
    all other classes."""
    torchattacks = pytest.importorskip("torchattacks")
    net, X, y = multiclass
    eps, steps = 0.06, 20
    module = net.module_.eval()
    ours, theirs = [], []
    for seed in range(3):
        X_adv = APGD(
            loss=loss, eps=eps, n_steps=steps, clip_min=0, clip_max=1, random_state=seed
        ).perturb(net, X, y)
        ours.append(accuracy(net, X_adv, y))
        if loss == "ce":
            peer = torchattacks.APGD(module, eps=eps, steps=steps, loss="ce", seed=seed)
        else:
            peer = torchattacks.APGDT(
                module, eps=eps, steps=steps, n_classes=5, seed=seed
            )
        with torch.random.fork_rng(devices=[]):
            X_peer = peer(torch.as_tensor(X), torch.as_tensor(y)).detach().numpy()
        theirs.append(accuracy(net, X_peer, y))
    clean = accuracy(net, X, y)
    assert clean - np.mean(ours) > 0.2  # the attack is not a no-op on this model
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01, (clean, ours, theirs)


def test_apgd_is_at_least_as_strong_as_pgd_with_the_same_budget(multiclass):
    net, X, y = multiclass
    eps, steps = 0.06, 20
    apgd = [
        accuracy(
            net,
            APGD(
                eps=eps, n_steps=steps, clip_min=0, clip_max=1, random_state=s
            ).perturb(net, X, y),
            y,
        )
        for s in range(3)
    ]
    pgd = [
        accuracy(
            net,
            PGD(eps=eps, n_steps=steps, clip_min=0, clip_max=1, random_state=s).perturb(
                net, X, y
            ),
            y,
        )
        for s in range(3)
    ]
    assert np.mean(apgd) <= np.mean(pgd) + 0.0025, (apgd, pgd)


# ------------------------------------------------------------- other nets
def test_apgd_on_a_binary_net_uses_the_margin(fitted_net, tabular):
    """Two classes: the DLR ratios are constant, the margin is used; it still
    attacks."""
    X, y = tabular
    for loss in ("dlr", "dlr_untargeted"):
        X_adv = APGD(loss=loss, eps=0.3, n_steps=10, random_state=0).perturb(
            fitted_net, X, y
        )
        assert accuracy(fitted_net, X_adv, y) < accuracy(fitted_net, X, y) - 0.2


def test_apgd_on_a_probability_output_net():
    """A skorch net whose module outputs probabilities (criterion NLLLoss): APGD
    attacks the log-probabilities and matches the same module giving logits."""
    X, y = make_unit_box(n_samples=120, n_features=6)
    logit_net = standard_net(6, max_epochs=10).fit(X, y)

    class Softmaxed(MLP):
        def forward(self, x):
            return torch.softmax(super().forward(x), dim=1)

    prob_net = RobustNeuralNetClassifier(
        Softmaxed,
        module__n_features=6,
        module__hidden_sizes=(32,),
        criterion=torch.nn.NLLLoss,
        adversarial=None,
        max_epochs=0,
        random_state=0,
    ).initialize()
    prob_net.module_.load_state_dict(logit_net.module_.state_dict())
    prob_net.classes_inferred_ = logit_net.classes_inferred_
    a = APGD(eps=0.1, n_steps=10, clip_min=0, clip_max=1, random_state=0)
    X_a = a.perturb(logit_net, X, y)
    X_b = clone(a).perturb(prob_net, X, y)
    assert np.mean(np.abs(X_a - X_b) < 1e-4) > 0.95


# ----------------------------------------------------------------- plumbing
def test_apgd_is_reproducible_and_leaves_the_global_rng_alone(multiclass):
    net, X, y = multiclass
    a = APGD(loss="dlr", eps=0.05, n_steps=10, clip_min=0, clip_max=1, random_state=3)
    state = torch.get_rng_state()
    first = a.perturb(net, X, y)
    assert torch.equal(state, torch.get_rng_state())
    assert_array_equal(first, clone(a).perturb(net, X, y))
    other = APGD(
        loss="dlr", eps=0.05, n_steps=10, clip_min=0, clip_max=1, random_state=4
    ).perturb(net, X, y)
    assert not np.array_equal(first, other)


def test_apgd_eval_mode_and_no_weight_gradients(dropout_net, tabular):
    X, y = tabular
    was_training = dropout_net.module_.training
    dropout_net.module_.train()
    before = [
        None if p.grad is None else p.grad.clone()
        for p in dropout_net.module_.parameters()
    ]
    seen = []
    hook = dropout_net.module_.register_forward_hook(
        lambda m, i, o: seen.append(m.training)
    )
    try:
        APGD(eps=0.1, n_steps=5, random_state=0).perturb(dropout_net, X, y)
    finally:
        hook.remove()
    assert seen and not any(seen)
    assert dropout_net.module_.training  # mode restored
    for p, grad in zip(dropout_net.module_.parameters(), before):
        assert (p.grad is None) if grad is None else torch.equal(p.grad, grad)
    dropout_net.module_.train(was_training)


def test_apgd_memory_is_bounded_by_batch_size(multiclass):
    net, X, y = multiclass
    sizes = []
    hook = net.module_.register_forward_hook(lambda m, i, o: sizes.append(len(i[0])))
    try:
        APGD(
            eps=0.05, n_steps=3, batch_size=64, clip_min=0, clip_max=1, random_state=0
        ).perturb(net, X, y)
    finally:
        hook.remove()
    assert max(sizes) <= 64


def test_apgd_under_bfloat16_autocast(multiclass):
    """A net with ``amp_dtype`` (read with getattr): the attack runs under
    autocast and returns float32 in the ball."""
    net, X, y = multiclass
    amp_net = clone(net)
    amp_net.initialize()
    amp_net.module_.load_state_dict(net.module_.state_dict())
    amp_net.classes_inferred_ = net.classes_inferred_
    object.__setattr__(amp_net, "amp_dtype", "bfloat16")
    dtypes = set()
    hook = amp_net.module_.register_forward_hook(lambda m, i, o: dtypes.add(o.dtype))
    try:
        X_adv = APGD(
            eps=0.05, n_steps=5, clip_min=0, clip_max=1, random_state=0
        ).perturb(amp_net, X, y)
    finally:
        hook.remove()
    assert dtypes == {torch.bfloat16}
    assert X_adv.dtype == np.float32
    assert np.abs(X_adv - X).max() <= 0.05 + TOL
    assert accuracy(net, X_adv, y) < accuracy(net, X, y) - 0.1


# ------------------------------------------------------------- bad input
def _constraint_cases():
    for cls in (PGD, FGSM, APGD):
        params = cls().get_params()
        for name, constraints in cls._parameter_constraints.items():
            if name not in params or isinstance(constraints, str):
                continue
            for constraint in constraints:
                try:
                    bad = invalid_value_for(constraint)
                except NotImplementedError:
                    continue
                yield pytest.param(cls, name, bad, id=f"{cls.__name__}-{name}-{bad!r}")


@pytest.mark.parametrize("cls, name, bad", list(_constraint_cases()))
def test_every_parameter_is_validated_at_perturb(fitted_net, tabular, cls, name, bad):
    """imbalanced-learn's check_param_validation: a bad value for each parameter
    raises at the public entry, naming the parameter and the value."""
    X, y = tabular
    attack = cls(**{name: bad})  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=rf"^{name}="):
        attack.perturb(fitted_net, X, y)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"loss": "cw"},
            ValueError,
            r"loss='cw' is not valid: expected one of 'ce', 'dlr'",
        ),
        (
            {"n_restarts": 0},
            ValueError,
            r"n_restarts=0 is invalid: expected an integer >= 1",
        ),
        (
            {"rho": 1.5},
            ValueError,
            r"rho=1\.5 is invalid: expected a finite number in \[0, 1\]",
        ),
        (
            {"n_steps": 2.5},
            TypeError,
            r"n_steps=2\.5 has type float: expected an integer",
        ),
        ({"eps": "0.1"}, TypeError, r"eps='0\.1' has type str: expected a number"),
        ({"clip_min": [0.0, 1.0]}, ValueError, r"clip_min has shape \(2,\)"),
        (
            {"clip_min": 1.0, "clip_max": 0.0},
            ValueError,
            r"clip_min is larger than clip_max",
        ),
    ],
)
def test_bad_apgd_parameters(fitted_net, tabular, params, error, match):
    X, y = tabular
    with pytest.raises(error, match=match):
        APGD(**params).perturb(fitted_net, X, y)


def test_apgd_bad_data(fitted_net, tabular):
    X, y = tabular
    a = APGD(n_steps=2, random_state=0)
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        a.perturb(fitted_net, np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match=r"X has 200 samples, y has 199"):
        a.perturb(fitted_net, X, y[:-1])
    with pytest.raises(ValueError, match=r"y contains labels \[2, 3\]"):
        a.perturb(fitted_net, X, y + 2)


def test_apgd_user_arrays_are_not_mutated(multiclass):
    net, X, y = multiclass
    X0, y0 = X.copy(), y.copy()
    lo = np.zeros((1, 4, 4), dtype=np.float32)
    APGD(eps=0.05, n_steps=3, clip_min=lo, clip_max=1, random_state=0).perturb(
        net, X, y
    )
    assert_array_equal(X, X0)
    assert_array_equal(y, y0)
    assert (lo == 0).all()


def test_apgd_as_an_evaluation_attack_next_to_attack_from_net(multiclass):
    """APGD is a drop-in for the PGD that attack_from_net builds."""
    net, X, y = multiclass
    pgd = attack_from_net(net, n_steps=20, random_state=0)
    apgd = APGD(eps=pgd.eps, n_steps=20, random_state=0)
    for attack in (pgd, apgd):
        X_adv = attack.perturb(net, X, y)
        assert X_adv.shape == X.shape


def test_apgd_in_fairness_report(multiclass):
    """fairness_report(attack=APGD(...)): the robust accuracy is the accuracy on
    APGD's examples (one perturb call when the batch holds every row)."""
    from skfral.metrics import fairness_report

    net, X, y = multiclass
    s = np.where(np.arange(len(y)) % 3 == 0, "a", "b")
    attack = APGD(
        loss="dlr", eps=0.06, n_steps=10, clip_min=0, clip_max=1, random_state=0
    )
    report = fairness_report(
        net, X, y, sensitive_features=s, attack=attack, batch_size=len(y)
    )
    robust = net.predict(clone(attack).perturb(net, X, y)) == y
    assert report["robust_accuracy"] == pytest.approx(robust.mean())
    worst = min(robust[s == g].mean() for g in ("a", "b"))
    assert report["worst_group_robust_accuracy"] == pytest.approx(worst)


# ------------------------------------------------------- settings reach the maths
def _unfoolable_net():
    """A 4-class linear net that always predicts class 0 by a wide margin."""
    net = RobustNeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=3,
        module__out_features=4,
        classes=[0, 1, 2, 3],
        adversarial=None,
    ).initialize()
    with torch.no_grad():
        net.module_.weight.mul_(0.01)
        net.module_.bias.copy_(torch.tensor([50.0, 0.0, 0.0, 0.0]))
    return net


@pytest.mark.parametrize(
    "params, runs",
    [
        ({"loss": "ce", "n_restarts": 3}, 3),
        ({"loss": "dlr_untargeted", "n_restarts": 2}, 2),
        ({"loss": "dlr", "n_restarts": 2, "n_target_classes": 2}, 4),
        ({"loss": "dlr", "n_restarts": 1, "n_target_classes": 9}, 3),  # 4 classes
    ],
)
def test_runs_per_restart_and_target_class(params, runs):
    """Nothing can be fooled, so every run goes the whole way: one clean
    forward pass per batch plus (n_steps + 1) per run, runs = restarts x
    target classes (capped at n_classes - 1)."""
    net = _unfoolable_net()
    X = np.random.RandomState(0).rand(10, 3).astype(np.float32)
    y = np.zeros(10, dtype=np.int64)
    calls = []
    hook = net.module_.register_forward_hook(lambda m, i, o: calls.append(1))
    try:
        X_adv = APGD(eps=0.1, n_steps=4, random_state=0, **params).perturb(net, X, y)
    finally:
        hook.remove()
    assert len(calls) == 1 + runs * (4 + 1)
    assert (net.predict(X_adv) == 0).all()


def test_every_setting_reaches_apgd_attack(monkeypatch):
    import skfral.nn._attacks as attacks

    seen = {}

    def spy(forward, x, y, **kwargs):
        seen.update(kwargs)
        return x

    monkeypatch.setattr(attacks, "apgd_attack", spy)
    net = _unfoolable_net()
    X = np.random.RandomState(0).rand(5, 3).astype(np.float32)
    APGD(
        loss="dlr",
        eps=0.2,
        norm="l2",
        n_steps=7,
        n_restarts=2,
        n_target_classes=3,
        rho=0.5,
        clip_min=0.0,
        clip_max=1.0,
    ).perturb(net, X, np.zeros(5, dtype=np.int64))
    expected = {
        "loss": "dlr",
        "eps": 0.2,
        "norm": "l2",
        "n_steps": 7,
        "n_restarts": 2,
        "n_target_classes": 3,
        "rho": 0.5,
    }
    assert {k: seen[k] for k in expected} == expected
    assert float(seen["clip_min"]) == 0.0 and float(seen["clip_max"]) == 1.0


def test_probability_outputs_are_attacked_as_log_probabilities():
    from skfral.nn._skorch_plumbing import logits_forward

    net = _unfoolable_net().set_params(criterion=torch.nn.NLLLoss).initialize()
    probs = torch.tensor([[0.7, 0.2, 0.1, 0.0]])
    out = logits_forward(net, lambda x: probs)(None)
    assert_allclose(out[:, :3].numpy(), np.log(probs[:, :3].numpy()), rtol=1e-6)
    assert np.isfinite(out.numpy()).all()  # log(0) clamped
    plain = _unfoolable_net()  # CrossEntropyLoss: outputs are the logits
    assert logits_forward(plain, plain.module_) is plain.module_


def test_apgd_gets_log_probabilities_of_a_probability_net(monkeypatch):
    import skfral.nn._attacks as attacks

    class SoftmaxLinear(torch.nn.Linear):
        def forward(self, x):
            return torch.softmax(super().forward(x), dim=1)

    net = RobustNeuralNetClassifier(
        SoftmaxLinear,
        module__in_features=3,
        module__out_features=4,
        classes=[0, 1, 2, 3],
        criterion=torch.nn.NLLLoss,
        adversarial=None,
    ).initialize()
    X = np.random.RandomState(0).rand(5, 3).astype(np.float32)
    seen = []

    def spy(forward, x, y, **kwargs):
        seen.append((forward(x).detach(), net.module_(x).detach()))
        return x

    monkeypatch.setattr(attacks, "apgd_attack", spy)
    APGD(n_steps=2).perturb(net, X, np.zeros(5, dtype=np.int64))
    ((logits, probs),) = seen
    assert_allclose(logits.numpy(), np.log(probs.numpy()), rtol=1e-5)
