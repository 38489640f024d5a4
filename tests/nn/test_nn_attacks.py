"""PGD / FGSM: the perturbation's geometry, its effect, and how it treats the net."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfral.nn import (
    FGSM,
    MLP,
    PGD,
    RobustNeuralNetClassifier,
    attack_from_net,
    pgd_attack,
)

from .nn_helpers import make_unit_box, standard_net

TOL = 1e-5


def linf(X_adv, X):
    return np.abs(X_adv - X).reshape(len(X), -1).max(axis=1)


def l2(X_adv, X):
    return np.linalg.norm((X_adv - X).reshape(len(X), -1), axis=1)


# ----------------------------------------------------------------- geometry
@pytest.mark.parametrize("norm, eps, dist", [("linf", 0.3, linf), ("l2", 0.8, l2)])
def test_pgd_stays_in_the_eps_ball(fitted_net, tabular, norm, eps, dist):
    X, y = tabular
    X_adv = PGD(eps=eps, norm=norm, n_steps=5, random_state=0).perturb(fitted_net, X, y)
    assert X_adv.shape == X.shape and X_adv.dtype == np.float32
    assert dist(X_adv, X).max() <= eps + TOL
    # The attack uses its budget: most samples move to the ball's surface.
    assert np.median(dist(X_adv, X)) > 0.9 * eps


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_respects_scalar_clip_range(norm):
    X, y = make_unit_box(n_samples=60)
    net = standard_net(X.shape[1], max_epochs=3).fit(X, y)
    X_adv = PGD(eps=0.4, norm=norm, clip_min=0.0, clip_max=1.0, random_state=0).perturb(
        net, X, y
    )
    assert X_adv.min() >= 0.0 and X_adv.max() <= 1.0
    assert (X_adv == 0).any() and (X_adv == 1).any()  # the clip was active


def test_pgd_respects_per_feature_clip_arrays(fitted_net, tabular):
    X, y = tabular
    lo = X.min(axis=0) - np.linspace(0.0, 0.2, X.shape[1]).astype(np.float32)
    hi = X.max(axis=0) + np.linspace(0.2, 0.0, X.shape[1]).astype(np.float32)
    X_adv = PGD(eps=0.5, clip_min=lo, clip_max=hi, random_state=0).perturb(
        fitted_net, X, y
    )
    assert (X_adv >= lo - TOL).all() and (X_adv <= hi + TOL).all()
    assert linf(X_adv, X).max() <= 0.5 + TOL
    assert np.isclose(X_adv, lo, atol=TOL).any(axis=0)[0]  # feature 0 reached its bound


# ------------------------------------------------------------------- effect
def test_pgd_raises_the_loss_and_lowers_the_accuracy(fitted_net, tabular):
    X, y = tabular
    X_adv = PGD(eps=0.3, random_state=0).perturb(fitted_net, X, y)
    clean_loss = log_loss(y, fitted_net.predict_proba(X), labels=[0, 1])
    adv_loss = log_loss(y, fitted_net.predict_proba(X_adv), labels=[0, 1])
    assert adv_loss > clean_loss + 0.1
    clean_acc = (fitted_net.predict(X) == y).mean()
    robust_acc = (fitted_net.predict(X_adv) == y).mean()
    assert robust_acc <= clean_acc
    assert robust_acc < clean_acc - 0.1


def test_pgd_is_reproducible_with_an_int_random_state(fitted_net, tabular):
    X, y = tabular
    a = PGD(eps=0.3, n_steps=2, random_state=3).perturb(fitted_net, X, y)
    b = PGD(eps=0.3, n_steps=2, random_state=3).perturb(fitted_net, X, y)
    c = PGD(eps=0.3, n_steps=2, random_state=4).perturb(fitted_net, X, y)
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pgd_leaves_the_global_torch_rng_alone(fitted_net, tabular):
    X, y = tabular
    state = torch.get_rng_state()
    PGD(eps=0.3, random_state=0).perturb(fitted_net, X, y)
    assert torch.equal(state, torch.get_rng_state())


def test_eps_zero_returns_X(fitted_net, tabular):
    X, y = tabular
    assert_array_equal(PGD(eps=0.0).perturb(fitted_net, X, y), X)
    assert_array_equal(PGD(eps=0).perturb(fitted_net, X, None), X)


def test_y_none_attacks_the_nets_own_predictions(fitted_net, tabular):
    X, _ = tabular
    attack = PGD(eps=0.3, random_state=0)
    assert_array_equal(
        attack.perturb(fitted_net, X),
        attack.perturb(fitted_net, X, fitted_net.predict(X)),
    )


def test_string_labels(string_net, tabular):
    net, labels = string_net
    X, _ = tabular
    X_adv = PGD(eps=0.3, random_state=0).perturb(net, X, labels)
    assert (net.predict(X_adv) == labels).mean() <= (net.predict(X) == labels).mean()
    with pytest.raises(ValueError, match=r"y contains labels \['maybe'\].*'no', 'yes'"):
        PGD(eps=0.3).perturb(net, X[:2], np.array(["yes", "maybe"]))


def test_images_in_the_unit_box(image_net):
    net, X, y = image_net
    eps = 8 / 255
    X_adv = PGD(
        eps=eps, step_size=2 / 255, clip_min=0, clip_max=1, random_state=0
    ).perturb(net, X, y)
    assert X_adv.shape == X.shape
    assert linf(X_adv, X).max() <= eps + TOL
    assert X_adv.min() >= 0 and X_adv.max() <= 1


# ------------------------------------------------- how the net is treated
def test_module_in_eval_mode_during_the_attack_and_mode_restored(dropout_net, tabular):
    X, y = tabular
    module = dropout_net.module_
    seen = []
    hook = module.register_forward_pre_hook(lambda m, _inp: seen.append(m.training))
    try:
        for was_training in (True, False):
            module.train(was_training)
            seen.clear()
            X_adv = PGD(eps=0.3, n_steps=3, random_state=0).perturb(dropout_net, X, y)
            assert seen and not any(seen)  # eval mode at every forward
            assert module.training is was_training
            assert all(m.training is was_training for m in module.modules())
    finally:
        hook.remove()
        module.eval()
    # Dropout off: the attack is deterministic given the random start.
    assert_array_equal(
        X_adv, PGD(eps=0.3, n_steps=3, random_state=0).perturb(dropout_net, X, y)
    )


def test_mixed_submodule_modes_are_restored(dropout_net, tabular):
    X, y = tabular
    module = dropout_net.module_
    module.train()
    module.head.eval()
    try:
        PGD(eps=0.3, n_steps=1).perturb(dropout_net, X[:5], y[:5])
        assert module.training and module.body.training and not module.head.training
    finally:
        module.eval()


def test_no_gradient_left_on_the_weights(fitted_net, tabular):
    X, y = tabular
    before = {
        name: None if p.grad is None else p.grad.clone()
        for name, p in fitted_net.module_.named_parameters()
    }
    PGD(eps=0.3, n_steps=3, random_state=0).perturb(fitted_net, X, y)
    for name, p in fitted_net.module_.named_parameters():
        if before[name] is None:
            assert p.grad is None, name
        else:
            assert torch.equal(p.grad, before[name]), name


def test_no_gradient_on_fresh_weights(tabular):
    X, y = tabular
    net = standard_net(X.shape[1]).initialize()
    PGD(eps=0.3, n_steps=2).perturb(net, X[:10], None)
    assert all(p.grad is None for p in net.module_.parameters())


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_batching_matches_one_batch_without_random_start(fitted_net, tabular, norm):
    X, y = tabular
    params = dict(eps=0.3, norm=norm, n_steps=5, random_start=False)
    one = PGD(batch_size=len(X), **params).perturb(fitted_net, X, y)
    many = PGD(batch_size=7, **params).perturb(fitted_net, X, y)
    assert_allclose(many, one, atol=1e-5)


def test_memory_is_bounded_by_batch_size(fitted_net, tabular):
    X, y = tabular
    rows = []
    hook = fitted_net.module_.register_forward_pre_hook(
        lambda _m, inp: rows.append(len(inp[0]))
    )
    try:
        PGD(eps=0.3, n_steps=2, batch_size=16).perturb(fitted_net, X, None)
    finally:
        hook.remove()
    assert max(rows) <= 16
    # every batch: 1 forward for the labels (y=None) + n_steps forwards
    assert sum(rows) == len(X) * 3


def test_pipeline_is_attacked_in_the_transformed_space(tabular):
    X, y = tabular
    X = X * 10 + 5  # not standardised: the scaler matters
    pipe = make_pipeline(StandardScaler(), standard_net(X.shape[1], max_epochs=5)).fit(
        X, y
    )
    X_adv = PGD(eps=0.2, random_state=0).perturb(pipe, X, y)
    Z = pipe[:-1].transform(X)
    assert X_adv.shape == X.shape
    assert linf(X_adv, Z).max() <= 0.2 + TOL
    assert linf(X_adv, Z).min() > 0.1  # the ball is around Z, not around X
    assert (pipe[-1].predict(X_adv) == y).mean() <= (pipe.predict(X) == y).mean()


def test_fgsm_is_one_pgd_step_of_size_eps(fitted_net, tabular):
    X, y = tabular
    for norm in ("linf", "l2"):
        fgsm = FGSM(eps=0.2, norm=norm).perturb(fitted_net, X, y)
        pgd = PGD(
            eps=0.2, norm=norm, n_steps=1, random_start=False, step_size=0.2
        ).perturb(fitted_net, X, y)
        assert_array_equal(fgsm, pgd)
    assert_allclose(linf(FGSM(eps=0.2).perturb(fitted_net, X, y), X), 0.2, atol=TOL)


def test_pgd_attack_pure_function_sign_steps():
    """On a linear model the L-inf optimum is the corner sign(w) * eps."""
    w = torch.tensor([[1.0, -2.0, 0.5]])
    x = torch.zeros(4, 3)
    x_adv = pgd_attack(
        lambda t: t @ w.T,
        lambda out, _x: out.sum(),
        x,
        eps=0.1,
        step_size=0.05,
        n_steps=3,
        random_start=False,
    )
    assert_allclose(x_adv.numpy(), np.tile([0.1, -0.1, 0.1], (4, 1)), atol=1e-7)
    x_l2 = pgd_attack(
        lambda t: t @ w.T,
        lambda out, _x: out.sum(),
        x,
        eps=0.1,
        norm="l2",
        step_size=0.05,
        n_steps=5,
        random_start=False,
    )
    assert_allclose(
        x_l2.numpy()[0], 0.1 * w.numpy()[0] / np.linalg.norm(w.numpy()), atol=1e-6
    )


# ------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"eps": -0.1}, ValueError, r"eps=-0\.1 is invalid"),
        ({"eps": np.nan}, ValueError, r"eps=nan is invalid"),
        ({"eps": "0.1"}, TypeError, r"eps='0\.1' has type str"),
        ({"n_steps": 0}, ValueError, r"n_steps=0 is invalid: expected an integer >= 1"),
        ({"n_steps": 1.5}, TypeError, r"n_steps=1\.5 has type float"),
        ({"n_steps": "3"}, TypeError, r"n_steps='3' has type str"),
        (
            {"norm": "l3"},
            ValueError,
            r"norm='l3' is not valid: expected one of 'linf', 'l2'",
        ),
        ({"step_size": 0.0}, ValueError, r"step_size=0\.0 is invalid"),
        ({"batch_size": 0}, ValueError, r"batch_size=0 is invalid"),
        ({"random_start": "yes"}, TypeError, r"random_start='yes'"),
        (
            {"clip_min": 1.0, "clip_max": 0.0},
            ValueError,
            r"clip_min is larger than clip_max",
        ),
        ({"clip_min": [0.0, 1.0]}, ValueError, r"clip_min has shape \(2,\)"),
        ({"clip_max": np.inf}, ValueError, r"clip_max contains NaN or infinity"),
    ],
)
def test_bad_attack_parameters(fitted_net, tabular, params, error, match):
    X, y = tabular
    with pytest.raises(error, match=match):
        PGD(**params).perturb(fitted_net, X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_refused(fitted_net, tabular, bad):
    X, y = tabular
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or infinity in 1 sample"):
        PGD().perturb(fitted_net, X, y)


def test_X_of_the_wrong_shape(fitted_net, tabular):
    X, y = tabular
    with pytest.raises(
        ValueError,
        match=r"X has 4 features, but RobustNeuralNetClassifier is expecting 6",
    ):
        PGD().perturb(fitted_net, X[:, :4], y)
    with pytest.raises(ValueError, match=r"X is 1-d with shape \(6,\)"):
        PGD().perturb(fitted_net, X[0], y[:1])


def test_inconsistent_lengths(fitted_net, tabular):
    X, y = tabular
    with pytest.raises(ValueError, match=r"X has 200 samples, y has 199"):
        PGD().perturb(fitted_net, X, y[:-1])


def test_X_outside_the_clip_range(fitted_net, tabular):
    X, y = tabular
    with pytest.raises(
        ValueError, match=r"X has values outside \[clip_min, clip_max\]"
    ):
        PGD(clip_min=0, clip_max=1).perturb(fitted_net, X, y)


def test_unfitted_net_and_wrong_estimator(tabular):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    X, y = tabular
    with pytest.raises(NotFittedError, match="not fitted yet"):
        PGD().perturb(standard_net(X.shape[1]), X, y)
    with pytest.raises(
        TypeError, match=r"estimator=LogisticRegression is not supported"
    ):
        PGD().perturb(LogisticRegression().fit(X, y), X, y)


def test_user_arrays_are_not_mutated(fitted_net, tabular):
    X, y = tabular
    X64 = X.astype(np.float64)
    lo = np.full(X.shape[1], -10.0)
    copies = X.copy(), X64.copy(), y.copy(), lo.copy()
    PGD(eps=0.3, clip_min=lo, random_state=0).perturb(fitted_net, X, y)
    PGD(eps=0.3, random_state=0).perturb(fitted_net, X64, y)
    for original, copy in zip((X, X64, y, lo), copies):
        assert_array_equal(original, copy)


# ------------------------------------------- the net's own infer / get_loss
class CountingNet(RobustNeuralNetClassifier):
    """Overrides infer and get_loss: an attack must go through them."""

    calls = {"infer": 0, "get_loss": 0}

    def infer(self, x, **fit_params):
        type(self).calls["infer"] += 1
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        type(self).calls["get_loss"] += 1
        return super().get_loss(y_pred, y_true, *args, **kwargs)


def test_overridden_infer_and_get_loss_are_used(tabular):
    X, y = tabular
    net = CountingNet(MLP, module__n_features=6, adversarial=None, max_epochs=1).fit(
        X, y
    )
    CountingNet.calls.update(infer=0, get_loss=0)
    PGD(eps=0.1, n_steps=3, batch_size=100).perturb(net, X, y)
    assert CountingNet.calls == {"infer": 2 * 3, "get_loss": 2 * 3}


def test_plain_net_attack_equals_the_infer_path(fitted_net, tabular):
    """The direct module/criterion path computes what net.infer/get_loss compute."""
    X, y = tabular
    plain = PGD(eps=0.3, n_steps=4, random_state=0).perturb(fitted_net, X, y)
    module_params = {
        k: v for k, v in fitted_net.get_params().items() if k.startswith("module__")
    }
    counting = CountingNet(MLP, classes=[0, 1], **module_params).initialize()
    counting.module_.load_state_dict(fitted_net.module_.state_dict())
    via_infer = PGD(eps=0.3, n_steps=4, random_state=0).perturb(counting, X, y)
    assert_array_equal(plain, via_infer)


def test_misfit_X_on_an_initialised_net_gets_the_nets_message(tabular):
    X, _ = tabular
    net = standard_net(5).initialize()  # no n_features_in_: the module must complain
    with pytest.raises(
        ValueError, match=r"X with samples of shape \(6,\) does not fit"
    ):
        PGD(n_steps=1).perturb(net, X)
    # with labels given, the first forward is inside the attack
    net = standard_net(5, classes=[0, 1]).initialize()
    with pytest.raises(
        ValueError, match=r"X with samples of shape \(6,\) does not fit"
    ):
        PGD(n_steps=1).perturb(net, X, np.zeros(len(X), dtype=int))


# ----------------------------------------------------------- attack_from_net
def test_attack_from_net_reads_every_attack_setting():
    lo, hi = np.zeros(3), np.ones(3)
    net = RobustNeuralNetClassifier(
        MLP,
        module__n_features=3,
        attack_eps=0.2,
        attack_step_size=0.03,
        attack_n_steps=7,
        attack_norm="l2",
        attack_clip_min=lo,
        attack_clip_max=hi,
    )
    attack = attack_from_net(make_pipeline(StandardScaler(), net), random_state=3)
    assert isinstance(attack, PGD)
    params = attack.get_params()
    assert (params["eps"], params["step_size"], params["n_steps"]) == (0.2, 0.03, 7)
    assert params["norm"] == "l2" and params["random_start"] is True
    assert params["clip_min"] is lo and params["clip_max"] is hi
    assert params["random_state"] == 3
    # n_steps overrides the training steps and nothing else
    stronger = attack_from_net(net, n_steps=20)
    assert stronger.n_steps == 20 and stronger.step_size == 0.03
    assert stronger.random_state is None
    assert net.attack_n_steps == 7  # the net is left alone


def test_attack_from_net_matches_the_training_attack(tabular):
    # A net with no own step size: the attack takes eps / 4, as training does.
    X, y = tabular
    net = standard_net(X.shape[1], max_epochs=1, attack_eps=0.12, attack_n_steps=3).fit(
        X, y
    )
    attack = attack_from_net(net, random_state=0)
    expected = PGD(eps=0.12, step_size=0.03, n_steps=3, random_state=0)
    assert_array_equal(attack.perturb(net, X, y), expected.perturb(net, X, y))


def test_attack_from_net_plain_skorch_net_gets_pgd_defaults():
    from skorch import NeuralNetClassifier

    attack = attack_from_net(NeuralNetClassifier(MLP, module__n_features=3))
    assert attack.get_params() == PGD().get_params()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_steps": 0}, ValueError, "n_steps=0"),
        ({"n_steps": 2.5}, TypeError, "n_steps=2.5"),
    ],
)
def test_attack_from_net_bad_n_steps(kwargs, error, match):
    net = RobustNeuralNetClassifier(MLP, module__n_features=3)
    with pytest.raises(error, match=match):
        attack_from_net(net, **kwargs)


def test_attack_from_net_refuses_a_non_net():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="net=LogisticRegression is not supported"):
        attack_from_net(make_pipeline(StandardScaler(), LogisticRegression()))


# -------------------------------------------------------------- lazy arrays
class CountingLazyArray:
    """A lazy array: ``shape`` and ``X[rows]``, recording every read."""

    def __init__(self, X):
        self._X, self.shape, self.reads = X, X.shape, []

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        self.reads.append(len(np.arange(self.shape[0])[rows]))
        return self._X[rows]


@pytest.mark.parametrize("attack_cls", ["PGD", "APGD"])
def test_lazy_arrays_are_attacked_batch_by_batch(fitted_net, tabular, attack_cls):
    from skfral.nn import APGD

    X, y = tabular
    attack = (
        PGD(eps=0.2, n_steps=3, batch_size=64, random_state=0)
        if attack_cls == "PGD"
        else APGD(eps=0.2, n_steps=3, batch_size=64, random_state=0)
    )
    lazy = CountingLazyArray(X)
    X_adv = attack.perturb(fitted_net, lazy, y)
    assert lazy.reads and max(lazy.reads) <= 64 and sum(lazy.reads) == len(X)
    assert_array_equal(X_adv, attack.perturb(fitted_net, X, y))
    # the net's own predictions as labels, too
    assert_array_equal(
        attack.perturb(fitted_net, CountingLazyArray(X)),
        attack.perturb(fitted_net, X),
    )


def test_lazy_array_outside_the_clip_range_is_refused(fitted_net, tabular):
    X, y = tabular
    with pytest.raises(
        ValueError, match=r"X has values outside \[clip_min, clip_max\]"
    ):
        PGD(clip_min=-0.5, clip_max=0.5).perturb(fitted_net, CountingLazyArray(X), y)
