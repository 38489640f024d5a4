"""White-box attacks as estimators: PGD (L-inf, L2), FGSM and Auto-PGD.

:class:`PGD`, :class:`FGSM` and :class:`APGD` are the numpy-facing objects that
strategies, metrics and the experiment runner call as
``attack.perturb(net, X, y) -> X_adv``; :func:`attack_from_net` builds the PGD a
net was trained with. The rest of the attack code lives by responsibility:

- :mod:`skfral.nn._attack_maths`: pure tensor functions (projections, random
  starts, :func:`pgd_attack`, :func:`trades_attack`);
- :mod:`skfral.nn._apgd_maths`: Auto-PGD on tensors (:func:`apgd_attack`,
  :func:`dlr_loss`, the step-size checkpoints);
- :mod:`skfral.nn._attack_checks`: numpy-side checks of inputs and clip ranges;
- :mod:`skfral.nn._skorch_plumbing`: eval mode, the net's forward and loss,
  devices, autocast and torch generators;
- :mod:`skfral.nn._labels`: labels to class indices.

Each module imports those names from where they are defined.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from skorch import NeuralNet

from ..utils._docstring import Substitution
from ..utils._param_validation import (
    Interval,
    ParamsValidationMixin,
    StrOptions,
)
from ..utils._validation import check_int
from ._apgd_maths import APGD_LOSSES, apgd_attack
from ._attack_checks import (
    NORMS,
    _as_bound,
    check_clip_range,
    check_input_array,
    default_step_size,
)
from ._attack_maths import pgd_attack
from ._data import check_lazy_array, is_lazy_array, iter_batches
from ._introspect import _identity, final_net, split_estimator
from ._labels import encode_labels
from ._skorch_plumbing import (
    _forward_and_loss,
    attack_autocast,
    eval_mode,
    logits_forward,
    net_device,
    torch_generator,
)

__all__ = ["APGD", "FGSM", "PGD", "attack_from_net"]

_attack_docs = {
    "eps": """eps : float, default=0.1
    Radius of the perturbation ball (0.1 suits standardised tabular data;
    use 8/255 for images in [0, 1]).""",
    "norm": """norm : {"linf", "l2"}, default="linf"
    Norm of the ball.""",
    "clip": """clip_min, clip_max : float, array-like or None, default=None
    Valid input range, a scalar or one value per feature. ``None`` means no
    clipping (right for standardised tabular data); images use 0 and 1.
    ``X`` itself must lie in the range (a ``ValueError`` says so otherwise,
    e.g. for images left in [0, 255]).""",
    "batch_size": """batch_size : int, default=512
    Samples attacked at once: memory is bounded by this, not the pool size.
    Batches are moved to the net's device one at a time.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
    Seeds the random start through a local ``torch.Generator`` on the net's
    device (never torch's global seed). Pass an int for reproducible
    attacks.""",
    "perturb_notes": """``perturb(net, X, y)`` attacks in the *net's input space*. When ``net`` is a
scikit-learn :class:`~sklearn.pipeline.Pipeline` whose last step is the
skorch net, ``X`` is first passed through the preceding steps and the
adversarial examples are returned **in the transformed space** (the input
space of the last step); predict on them with ``pipeline[-1]``. The module
is in eval mode during the attack and its previous mode is restored
afterwards; no gradient is accumulated on the weights. Each batch is moved
to ``net.device`` on its own, and the forward passes run under the net's
``amp_dtype`` autocast when it has one.""",
}

_COMMON_CONSTRAINTS = {
    "eps": [Interval(Real, 0, None, closed="left")],
    "norm": [StrOptions(NORMS)],
    # checked against one sample's shape in perturb (_as_bound)
    "clip_min": "no_validation",
    "clip_max": "no_validation",
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
}


class _BaseAttack(ParamsValidationMixin, BaseEstimator):
    """``perturb`` for every attack: checks, batches, device, eval mode.

    A subclass declares ``_parameter_constraints`` and implements
    ``_settings()`` (the checked settings, after ``_validate_params``) and
    ``_attack_batch(net, xb, yb, clip_min, clip_max, generator, settings)``.
    """

    _parameter_constraints = _COMMON_CONSTRAINTS

    def perturb(self, net, X, y=None):
        """Adversarial examples for ``X`` (numpy in, numpy out, float32).

        Parameters
        ----------
        net : fitted RobustNeuralNetClassifier, skorch NeuralNet or Pipeline
            The model under attack (see Notes for pipelines).
        X : array-like of shape (n_samples, ...) or lazy array
            Clean inputs in the net's input space. A lazy array (``shape``
            and ``__getitem__``, e.g. :class:`skfral.datasets.LazyImageArray`)
            given to a bare net is read ``batch_size`` rows at a time and
            never held whole.
        y : array-like of shape (n_samples,) or None, default=None
            True labels (any label type the net was fitted on). ``None`` attacks
            the net's own predictions, as for unlabelled pool samples.

        Returns
        -------
        X_adv : ndarray of float32, shape of ``X`` (after the pipeline's transforms)
            The adversarial examples, in the order of ``X``.
        """
        self._validate_params()
        settings = self._settings()
        transform, net = split_estimator(net)
        lazy = is_lazy_array(X) and transform is _identity
        if lazy:  # read batch by batch, never whole
            shape = check_lazy_array(X, "X")
        else:
            X = check_input_array(transform(X), "X")
            shape = X.shape
        check_n_features = getattr(net, "_check_n_features", None)
        if check_n_features is not None:
            check_n_features(X, reset=False)
        y_idx = None if y is None else encode_labels(net, y, shape[0])
        clip_min = _as_bound(self.clip_min, "clip_min", shape[1:])
        clip_max = _as_bound(self.clip_max, "clip_max", shape[1:])
        if not lazy:
            check_clip_range(X, clip_min, clip_max)
        device = net_device(net)
        gen = torch_generator(self.random_state, device=device)
        clip_min = None if clip_min is None else clip_min.to(device)
        clip_max = None if clip_max is None else clip_max.to(device)
        out = np.empty(shape, dtype=np.float32)
        with eval_mode(net), attack_autocast(net, device):
            for rows, batch in iter_batches(X, self.batch_size):
                if lazy:
                    check_clip_range(batch, clip_min, clip_max)
                # one batch at a time on the device
                xb = torch.as_tensor(batch, device=device)
                if y_idx is None:
                    with torch.no_grad():
                        yb = net.infer(xb).argmax(dim=1)
                else:
                    yb = torch.as_tensor(y_idx[rows], device=device)
                forward, loss_fn = _forward_and_loss(net, yb)
                try:
                    xb_adv = self._attack_batch(
                        net, forward, loss_fn, xb, yb, clip_min, clip_max, gen, settings
                    )
                except RuntimeError:
                    if forward is net.module_:
                        with torch.no_grad():
                            net.infer(xb)  # the net's own message for a misfit X
                    raise
                out[rows] = xb_adv.float().cpu().numpy()
        return out


@Substitution(**_attack_docs)
class PGD(_BaseAttack):
    """Projected gradient descent attack (Madry et al. 2018), L-inf or L2.

    ``x_{t+1} = clip(proj_{B(x, eps)}(x_t + step_size * direction(grad)))``,
    ``direction`` the gradient's sign (L-inf) or its L2-normalised value (L2),
    the gradient that of the net's own loss (``get_loss``) at the labels.

    Parameters
    ----------
    {eps}
    step_size : float or None, default=None
        Step length; ``None`` means ``eps / 4`` (``eps`` when ``n_steps == 1``).
    n_steps : int, default=10
        Number of gradient steps. ``n_steps=1, random_start=False`` is FGSM.
    {norm}
    random_start : bool, default=True
        Start from a random point of the ball (uniform in the L-inf box; for
        L2, a uniform direction at a uniform radius).
    {clip}
    {batch_size}
    {random_state}

    See Also
    --------
    FGSM : One step of size ``eps`` from ``x``.
    APGD : Auto-PGD, a stronger evaluation attack with an adaptive step size.
    attack_from_net : The PGD a net was trained with.
    pgd_attack : The same maths on tensors.

    Notes
    -----
    {perturb_notes}

    References
    ----------
    .. [1] A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, "Towards
       Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, adversarial=None,
    ...                                 max_epochs=2, random_state=0).fit(X, y)
    >>> X_adv = PGD(eps=0.1, random_state=0).perturb(net, X, y)
    >>> X_adv.shape, X_adv.dtype, bool(np.abs(X_adv - X).max() <= 0.1 + 1e-6)
    ((40, 3), dtype('float32'), True)
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "step_size": [Interval(Real, 0, None, closed="neither"), None],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "random_start": ["boolean"],
    }

    def __init__(
        self,
        eps=0.1,
        step_size=None,
        n_steps=10,
        norm="linf",
        random_start=True,
        clip_min=None,
        clip_max=None,
        batch_size=512,
        random_state=None,
    ):
        self.eps = eps
        self.step_size = step_size
        self.n_steps = n_steps
        self.norm = norm
        self.random_start = random_start
        self.clip_min = clip_min
        self.clip_max = clip_max
        self.batch_size = batch_size
        self.random_state = random_state

    def _settings(self):
        eps, n_steps = float(self.eps), int(self.n_steps)
        if self.step_size is None:
            step_size = default_step_size(eps, n_steps)
        else:
            step_size = float(self.step_size)
        return {
            "eps": eps,
            "step_size": step_size,
            "n_steps": n_steps,
            "norm": self.norm,
            "random_start": bool(self.random_start),
        }

    def _attack_batch(
        self, net, forward, loss_fn, xb, yb, clip_min, clip_max, gen, settings
    ):
        return pgd_attack(
            forward,
            loss_fn,
            xb,
            clip_min=clip_min,
            clip_max=clip_max,
            generator=gen,
            **settings,
        )


@Substitution(**_attack_docs)
class FGSM(PGD):
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps``.

    ``x_adv = clip(x + eps * sign(grad))`` for L-inf (the L2-normalised
    gradient for L2), from ``x`` itself: :class:`PGD` with ``n_steps=1``,
    ``random_start=False`` and ``step_size=eps``. Deterministic.

    Parameters
    ----------
    {eps}
    {norm}
    {clip}
    {batch_size}

    See Also
    --------
    PGD : Several projected steps from a random start (stronger).
    APGD : Auto-PGD.

    Notes
    -----
    {perturb_notes}

    References
    ----------
    .. [1] I. Goodfellow, J. Shlens and C. Szegedy, "Explaining and Harnessing
       Adversarial Examples", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import FGSM, MLP, RobustNeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, adversarial=None,
    ...                                 max_epochs=2, random_state=0).fit(X, y)
    >>> X_adv = FGSM(eps=0.1).perturb(net, X, y)
    >>> bool(np.allclose(np.abs(X_adv - X).max(axis=1), 0.1))
    True
    """

    # FGSM's own parameters only (step size, steps and start are fixed)
    _parameter_constraints = {
        k: v for k, v in _COMMON_CONSTRAINTS.items() if k != "random_state"
    }

    def __init__(
        self, eps=0.1, norm="linf", clip_min=None, clip_max=None, batch_size=512
    ):
        super().__init__(
            eps=eps,
            step_size=None,
            n_steps=1,
            norm=norm,
            random_start=False,
            clip_min=clip_min,
            clip_max=clip_max,
            batch_size=batch_size,
            random_state=0,
        )


@Substitution(**_attack_docs)
class APGD(_BaseAttack):
    """Auto-PGD (Croce and Hein 2020): PGD with momentum and an adaptive step.

    The white-box pair of AutoAttack: APGD with the cross-entropy loss
    (``loss="ce"``) and APGD-T with the *targeted* DLR loss (``loss="dlr"``).
    The step size starts at ``2 * eps`` and halves, per sample, at the
    checkpoints ``w_j = ceil(p_j * n_steps)`` (``p_0 = 0``, ``p_1 = 0.22``,
    ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``) when fewer than a
    fraction ``rho`` of the steps since the last checkpoint raised the loss,
    or when the step was not halved at the last checkpoint and the best loss
    did not improve; the run then goes on from the best point found. Each
    step mixes the new projected step with the previous move (momentum
    0.75). The result is, per sample, the first point found that is
    misclassified, else the point of highest loss over all runs.

    Parameters
    ----------
    loss : {"ce", "dlr", "dlr_untargeted"}, default="ce"
        ``"ce"``: the per-sample cross-entropy of the net's logits (APGD-CE).
        ``"dlr"``: the targeted Difference of Logits Ratio
        ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)``, one run towards
        each of the ``n_target_classes`` classes ranked highest after the
        predicted one (APGD-T, as in AutoAttack: the targeted version is the
        stronger one and the one the issue asks for). ``"dlr_untargeted"``:
        ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)`` (APGD-DLR). With
        fewer classes than the DLR denominator needs (3 untargeted, 4
        targeted) the denominator uses the classes there are, and with two
        classes the loss is the plain logit margin (see :func:`dlr_loss`).
    {eps}
    {norm}
    n_steps : int, default=100
        Iterations per run (AutoAttack uses 100).
    n_restarts : int, default=1
        Runs from new random starts (per target class for ``"dlr"``); each
        attacks only the samples not fooled yet.
    n_target_classes : int, default=9
        Target classes of ``loss="dlr"`` (capped at ``n_classes - 1``);
        ignored by the other losses.
    rho : float, default=0.75
        Fraction of loss-raising steps below which the step size halves.
    {clip}
    {batch_size}
    {random_state}

    See Also
    --------
    PGD : Fixed-step PGD (the training attack).
    attack_from_net : The training attack of a net, for comparison.
    apgd_attack : The same maths on tensors.
    dlr_loss : The DLR loss.

    Notes
    -----
    {perturb_notes}

    Samples the net misclassifies already are returned unchanged. The
    logits are the module's outputs, or their logarithm when the net's
    criterion is ``NLLLoss`` (a module that outputs probabilities). Cost:
    ``n_restarts * (n_steps + 1)`` forward and backward passes per sample
    (times the number of target classes for ``"dlr"``), less where samples
    are fooled early.

    References
    ----------
    .. [1] F. Croce and M. Hein, "Reliable evaluation of adversarial
       robustness with an ensemble of diverse parameter-free attacks",
       ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import APGD, MLP, RobustNeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, adversarial=None,
    ...                                 max_epochs=2, random_state=0).fit(X, y)
    >>> X_adv = APGD(eps=0.1, n_steps=20, random_state=0).perturb(net, X, y)
    >>> X_adv.shape, bool(np.abs(X_adv - X).max() <= 0.1 + 1e-6)
    ((40, 3), True)
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "loss": [StrOptions(APGD_LOSSES)],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "n_target_classes": [Interval(Integral, 1, None, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        loss="ce",
        eps=0.1,
        norm="linf",
        n_steps=100,
        n_restarts=1,
        n_target_classes=9,
        rho=0.75,
        clip_min=None,
        clip_max=None,
        batch_size=512,
        random_state=None,
    ):
        self.loss = loss
        self.eps = eps
        self.norm = norm
        self.n_steps = n_steps
        self.n_restarts = n_restarts
        self.n_target_classes = n_target_classes
        self.rho = rho
        self.clip_min = clip_min
        self.clip_max = clip_max
        self.batch_size = batch_size
        self.random_state = random_state

    def _settings(self):
        return {
            "eps": float(self.eps),
            "n_steps": int(self.n_steps),
            "loss": self.loss,
            "norm": self.norm,
            "n_restarts": int(self.n_restarts),
            "n_target_classes": int(self.n_target_classes),
            "rho": float(self.rho),
        }

    def _attack_batch(
        self, net, forward, loss_fn, xb, yb, clip_min, clip_max, gen, settings
    ):
        return apgd_attack(
            logits_forward(net, forward),
            xb,
            yb,
            clip_min=clip_min,
            clip_max=clip_max,
            generator=gen,
            **settings,
        )


def attack_from_net(net, *, n_steps=None, random_state=None):
    """The :class:`PGD` a net was trained with, read from its ``attack_*`` settings.

    The one home of the translation from a :class:`RobustNeuralNetClassifier`'s
    ``attack_eps``, ``attack_step_size``, ``attack_n_steps``, ``attack_norm``,
    ``attack_clip_min`` and ``attack_clip_max`` into an attack object: query
    strategies, metrics and the experiment runner all build their attacks here.

    Parameters
    ----------
    net : RobustNeuralNetClassifier, skorch NeuralNet or Pipeline
        The net whose settings are read; for a
        :class:`~sklearn.pipeline.Pipeline`, its final step (see
        :func:`final_net`). It does not need to be fitted. A skorch net
        without ``attack_*`` settings gives :class:`PGD`'s defaults.
    n_steps : int or None, default=None
        Number of PGD steps; ``None`` keeps the net's ``attack_n_steps``. Pass
        more steps for an evaluation attack stronger than the training one
        (e.g. 20). The step size stays the net's ``attack_step_size``
        (``None``: ``eps / 4``, or ``eps`` for one step).
    random_state : int, RandomState instance or None, default=None
        Stored on the attack as given; seeds its random start.

    Returns
    -------
    attack : PGD
        A new, unfitted attack with the net's eps, step size, norm and clip
        range and a random start, as in the net's training step.

    See Also
    --------
    PGD : The attack returned.
    final_net : The skorch net at the end of a pipeline.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier, attack_from_net
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, attack_eps=0.2)
    >>> attack = attack_from_net(make_pipeline(StandardScaler(), net), n_steps=20)
    >>> attack.eps, attack.n_steps, attack.norm
    (0.2, 20, 'linf')
    """
    last = final_net(net)
    if not isinstance(last, NeuralNet) and not hasattr(last, "attack_eps"):
        raise TypeError(
            f"net={type(last).__name__} is not supported: expected a skfral "
            "RobustNeuralNetClassifier (a skorch net) or a Pipeline ending in one."
        )
    defaults = PGD()
    if n_steps is None:
        n_steps = getattr(last, "attack_n_steps", defaults.n_steps)
    else:
        n_steps = check_int(n_steps, "n_steps", min_value=1)
    return PGD(
        eps=getattr(last, "attack_eps", defaults.eps),
        step_size=getattr(last, "attack_step_size", defaults.step_size),
        n_steps=n_steps,
        norm=getattr(last, "attack_norm", defaults.norm),
        random_start=getattr(last, "attack_random_start", defaults.random_start),
        clip_min=getattr(last, "attack_clip_min", defaults.clip_min),
        clip_max=getattr(last, "attack_clip_max", defaults.clip_max),
        batch_size=defaults.batch_size,
        random_state=random_state,
    )
