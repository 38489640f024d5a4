"""White-box attacks: PGD (L-inf, L2) and FGSM.

The maths are pure tensor functions (:func:`pgd_attack`, :func:`trades_attack`);
:class:`PGD` is the numpy-facing estimator-side object that strategies, metrics
and the experiment runner call as ``attack.perturb(net, X, y) -> X_adv``.
"""

import functools
import math
import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from skorch import NeuralNet, NeuralNetClassifier

from ..utils._validation import (
    check_finite_array,
    check_int,
    check_option,
    check_real,
)
from ..utils._validation import check_random_state as _check_seed

__all__ = [
    "PGD",
    "FGSM",
    "attack_from_net",
    "pgd_attack",
    "trades_attack",
    "torch_generator",
]

NORMS = ("linf", "l2")


def torch_generator(random_state):
    """A CPU ``torch.Generator`` seeded with an *integer* drawn from ``random_state``.

    ``None`` gives an unseeded generator (fresh entropy), never the global seed.
    """
    gen = torch.Generator()
    if random_state is None:
        gen.seed()
    elif isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        gen.manual_seed(_first_draw(int(random_state)))
    else:
        rng = check_random_state(random_state)
        gen.manual_seed(int(rng.randint(0, 2**31 - 1)))
    return gen


@functools.lru_cache(maxsize=256)
def _first_draw(seed):
    # check_random_state(int) builds a fresh RandomState (~70 us) whose first
    # draw is always the same: remember it.
    return int(check_random_state(seed).randint(0, 2**31 - 1))


def _flat_norm(t):
    return (
        t.flatten(1).norm(p=2, dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))
    )


def _unit_l2(grad):
    """Per-sample L2-normalised gradient, whatever its scale.

    The gradient of a batch-mean loss shrinks with the batch size and vanishes
    for confident samples; dividing by the per-sample max first keeps the
    squared sum from underflowing, so every non-zero gradient gives a unit step
    (a zero gradient gives a zero step).
    """
    flat = grad.flatten(1)
    scale = flat.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(flat.dtype).tiny)
    flat = flat / scale
    flat = flat / flat.norm(p=2, dim=1, keepdim=True).clamp_min(1e-12)
    return flat.view_as(grad)


def _project(delta, eps, norm):
    if norm == "linf":
        return delta.clamp(-eps, eps)
    factor = (eps / _flat_norm(delta)).clamp(max=1.0)
    return delta * factor


def _clip(x, clip_min, clip_max):
    if clip_min is None and clip_max is None:
        return x
    # One clamp with tensor bounds (torch.maximum/minimum broadcast slowly).
    return torch.clamp(x, clip_min, clip_max)


def _linf_box(x, eps, clip_min, clip_max):
    """Bounds with ``clip(x + clamp(d, -eps, eps)) == clamp(x + d, lower, upper)``.

    ``lower = clip(x - eps)``, ``upper = clip(x + eps)``: where the ball misses
    the valid range both bounds fall on the nearest end of the range, as
    projecting then clipping gives. One clamp per step instead of five ops.
    """
    return _clip(x - eps, clip_min, clip_max), _clip(x + eps, clip_min, clip_max)


def _random_start(x, eps, norm, generator):
    # Drawn on the CPU (the generator's device), then moved to x's device.
    if norm == "linf":
        noise = torch.empty(x.shape, dtype=x.dtype).uniform_(
            -eps, eps, generator=generator
        )
        return noise.to(x.device)
    direction = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    direction = direction / _flat_norm(direction)
    radius = torch.rand(
        (x.shape[0],) + (1,) * (x.dim() - 1), generator=generator, dtype=x.dtype
    )
    return (direction * radius * eps).to(x.device)


def pgd_attack(
    forward,
    loss_fn,
    x,
    *,
    eps,
    step_size,
    n_steps,
    norm="linf",
    random_start=True,
    clip_min=None,
    clip_max=None,
    generator=None,
):
    """Projected gradient ascent on ``loss_fn(forward(x_adv))`` inside an eps-ball.

    ``x_{t+1} = clip(proj_{B(x, eps)}(x_t + step_size * direction(grad)))`` with
    ``direction = sign`` for L-inf and the L2-normalised gradient for L2. Only the
    gradient with respect to the input is computed: no gradient is accumulated on
    any weight. The caller sets the module's mode (eval during attacks).

    Parameters
    ----------
    forward : callable
        Maps an input tensor to model outputs.
    loss_fn : callable
        Maps ``(outputs, x_adv)`` to the scalar loss to maximise.
    x : torch.Tensor
        Clean inputs, batch first.
    eps, step_size : float
        Radius of the ball and step length.
    n_steps : int
        Number of steps (1 with ``random_start=False`` and ``step_size=eps`` is FGSM).
    norm : {"linf", "l2"}, default="linf"
    random_start : bool, default=True
        Start from a random point of the ball (uniform in the L-inf box; for
        L2, a uniform direction at a uniform radius).
    clip_min, clip_max : torch.Tensor or None
        Valid range of the inputs (broadcast against one sample).
    generator : torch.Generator or None
        CPU generator for the random start.

    Returns
    -------
    x_adv : torch.Tensor
        Detached adversarial inputs of ``x``'s shape.
    """
    x = x.detach()
    if eps == 0:
        return x.clone()
    delta = (
        _random_start(x, eps, norm, generator) if random_start else torch.zeros_like(x)
    )
    x_adv = _clip(x + delta, clip_min, clip_max)
    lower = upper = None
    if norm == "linf":
        # clip(x + clamp(z - x, -eps, eps)) == clamp(z, lower, upper)
        lower, upper = _linf_box(x, eps, clip_min, clip_max)
    # Grad mode is entered once (not per step); the updates work on detached
    # tensors, so no graph is built for them.
    with torch.enable_grad():
        for _ in range(n_steps):
            x_adv.requires_grad_(True)
            loss = loss_fn(forward(x_adv), x_adv)
            (grad,) = torch.autograd.grad(loss, [x_adv])
            x_adv = x_adv.detach()
            if norm == "linf":
                x_adv = torch.clamp(
                    torch.add(x_adv, grad.sign(), alpha=step_size), lower, upper
                )
            else:
                delta = _project(x_adv + step_size * _unit_l2(grad) - x, eps, norm)
                x_adv = _clip(x + delta, clip_min, clip_max)
    return x_adv


def trades_attack(
    forward,
    x,
    logits_clean,
    *,
    eps,
    step_size,
    n_steps,
    norm="linf",
    clip_min=None,
    clip_max=None,
    generator=None,
):
    """TRADES inner maximisation: ``max KL(f(x) || f(x_adv))`` (Zhang et al. 2019).

    Starts from ``x + 0.001 * N(0, 1)`` as in the reference method.
    """
    p_clean = F.softmax(logits_clean.detach(), dim=1)

    def kl_loss(logits_adv, _x):
        return F.kl_div(F.log_softmax(logits_adv, dim=1), p_clean, reduction="sum")

    start = 0.001 * torch.randn(x.shape, generator=generator, dtype=x.dtype).to(
        x.device
    )
    x0 = _clip(x.detach() + start, clip_min, clip_max)
    x_adv = pgd_attack(
        forward,
        kl_loss,
        x0,
        eps=eps,
        step_size=step_size,
        n_steps=n_steps,
        norm=norm,
        random_start=False,
        clip_min=clip_min,
        clip_max=clip_max,
        generator=generator,
    )
    # x0 is not the ball's centre: project once more around the clean input.
    return _clip(x + _project(x_adv - x, eps, norm), clip_min, clip_max).detach()


def check_input_array(X, name="X"):
    """``X`` as a finite float32 array of at least 2 dimensions, or a clear error.

    On top of :func:`~skfral.utils.check_finite_array` (NaN, inf, empty), it
    refuses sparse matrices, complex values and 1-d arrays with messages in
    scikit-learn's wording, and keeps the ``TypeError`` of an object array that
    holds non-numbers.
    """
    if sp.issparse(X):
        raise TypeError(
            f"{name} is a sparse matrix ({type(X).__name__}): sparse input is not "
            f"supported; convert it with {name}.toarray()."
        )
    if isinstance(X, pd.DataFrame):
        return check_finite_array(X, name, dtype=np.float32)
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} could not be converted to a numeric array: {exc}"
        ) from None
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except TypeError as exc:
            raise TypeError(
                f"{name} could not be converted to a numeric array: {exc}"
            ) from None
        except ValueError as exc:
            raise ValueError(
                f"{name} could not be converted to a numeric array: {exc}"
            ) from None
    if np.iscomplexobj(X):
        raise ValueError(
            f"Complex data not supported: {name} has complex values; pass real numbers."
        )
    if X.ndim == 1:
        raise ValueError(
            f"{name} is 1-d with shape {X.shape}: expected a 2-d array "
            f"(n_samples, n_features). Reshape your data either using "
            f"{name}.reshape(-1, 1) if it has a single feature "
            f"or {name}.reshape(1, -1) if it contains a single sample."
        )
    if X.ndim >= 2 and X.shape[0] and not np.prod(X.shape[1:]):
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
            "is required: "
            f"{name} has no feature."
        )
    return check_finite_array(X, name, dtype=np.float32)


def _as_bound(value, name, feature_shape, dtype=torch.float32):
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(
                f"{name} contains NaN or infinity: expected finite bounds."
            )
        return torch.tensor(float(value), dtype=dtype)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected None, a "
            "number or an array of numbers (one per feature)."
        ) from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity: expected finite bounds.")
    if arr.ndim == 0:
        return torch.tensor(float(arr), dtype=dtype)
    try:
        arr = np.broadcast_to(arr, feature_shape)
    except ValueError:
        raise ValueError(
            f"{name} has shape {arr.shape}, which does not broadcast to one sample's "
            f"shape {tuple(feature_shape)}: expected a scalar or a per-feature array."
        ) from None
    return torch.tensor(
        np.array(arr, dtype=np.float64), dtype=dtype
    )  # a copy: never the user's memory


def _exceeds(X, bound, sign, tol=1e-6):
    """Whether some value of ``X`` lies beyond ``bound`` (below: -1, above: 1)."""
    if bound.dim() == 0:  # a scalar bound: compare the extreme value only
        extreme = X.min() if sign < 0 else X.max()
        return bool(sign * (extreme - float(bound)) > tol)
    return bool((sign * (X - bound.numpy()) > tol).any())


def check_clip_range(X, clip_min, clip_max, names=("clip_min", "clip_max"), name="X"):
    """Refuse ``clip_min > clip_max`` and inputs outside ``[clip_min, clip_max]``.

    Clipping an input that starts outside the valid range would move it by more
    than ``eps`` (e.g. images in [0, 255] with ``clip_max=1``).
    """
    lo_name, hi_name = names
    if (
        clip_min is not None
        and clip_max is not None
        and bool((clip_min > clip_max).any())
    ):
        raise ValueError(
            f"{lo_name} is larger than {hi_name} for some feature: expected "
            f"{lo_name} <= {hi_name}."
        )
    X = np.asarray(X)
    below = clip_min is not None and _exceeds(X, clip_min, -1)
    above = clip_max is not None and _exceeds(X, clip_max, 1)
    if below or above:
        raise ValueError(
            f"{name} has values outside [{lo_name}, {hi_name}] "
            f"(min {float(X.min()):.4g}, max {float(X.max()):.4g}): scale the data "
            "to the valid range (e.g. images "
            f"to [0, 1]) or widen {lo_name}/{hi_name}."
        )


def default_step_size(eps, n_steps):
    """``eps / 4`` for multi-step attacks (FRAL.md defaults), ``eps`` for one step."""
    return eps if n_steps == 1 else eps / 4


class PGD(BaseEstimator):
    """Projected gradient descent attack (Madry et al. 2018), L-inf or L2.

    Parameters
    ----------
    eps : float, default=0.1
        Radius of the perturbation ball (0.1 suits standardised tabular data;
        use 8/255 for images in [0, 1]).
    step_size : float or None, default=None
        Step length; ``None`` means ``eps / 4`` (``eps`` when ``n_steps == 1``).
    n_steps : int, default=10
        Number of gradient steps. ``n_steps=1, random_start=False`` is FGSM.
    norm : {"linf", "l2"}, default="linf"
        Norm of the ball.
    random_start : bool, default=True
        Start from a random point of the ball (uniform in the L-inf box; for
        L2, a uniform direction at a uniform radius).
    clip_min, clip_max : float, array-like or None, default=None
        Valid input range, a scalar or one value per feature. ``None`` means no
        clipping (right for standardised tabular data); images use 0 and 1.
        ``X`` itself must lie in the range (a ``ValueError`` says so otherwise,
        e.g. for images left in [0, 255]).
    batch_size : int, default=512
        Samples attacked at once: memory is bounded by this, not the pool size.
    random_state : int, RandomState instance or None, default=None
        Seeds the random start through a local ``torch.Generator``.

    Notes
    -----
    ``perturb(net, X, y)`` attacks in the *net's input space*. When ``net`` is a
    scikit-learn :class:`~sklearn.pipeline.Pipeline` whose last step is the
    skorch net, ``X`` is first passed through the preceding steps and the
    adversarial examples are returned **in the transformed space** (the input
    space of the last step); predict on them with ``pipeline[-1]``. The loss is
    the net's own ``get_loss``; the module is in eval mode during the attack and
    its previous mode is restored afterwards.

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

    def _validated(self):
        eps = check_real(self.eps, "eps", min_value=0)
        n_steps = check_int(self.n_steps, "n_steps", min_value=1)
        norm = check_option(self.norm, "norm", NORMS)
        if self.step_size is None:
            step_size = default_step_size(eps, n_steps)
        else:
            step_size = check_real(
                self.step_size, "step_size", min_value=0, include_min=False
            )
        batch_size = check_int(self.batch_size, "batch_size", min_value=1)
        if not isinstance(self.random_start, bool | np.bool_):
            raise TypeError(
                f"random_start={self.random_start!r}: expected True or False."
            )
        seed = self.random_state
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            check_int(seed, "random_state", min_value=0, max_value=2**32 - 1)
        elif seed is not None and not isinstance(seed, np.random.RandomState):
            _check_seed(seed, "random_state")  # TypeError naming random_state
        return eps, step_size, n_steps, norm, batch_size

    def perturb(self, net, X, y=None):
        """Adversarial examples for ``X`` (numpy in, numpy out, float32).

        Parameters
        ----------
        net : fitted RobustNeuralNetClassifier, skorch NeuralNet or Pipeline
            The model under attack (see Notes for pipelines).
        X : array-like of shape (n_samples, ...)
            Clean inputs in the net's input space.
        y : array-like of shape (n_samples,) or None, default=None
            True labels (any label type the net was fitted on). ``None`` attacks
            the net's own predictions, as for unlabelled pool samples.

        Returns
        -------
        X_adv : ndarray of float32, shape of ``X`` (after the pipeline's transforms)
        """
        from ._introspect import split_estimator

        eps, step_size, n_steps, norm, batch_size = self._validated()
        transform, net = split_estimator(net)
        X = check_input_array(transform(X), "X")
        check_n_features = getattr(net, "_check_n_features", None)
        if check_n_features is not None:
            check_n_features(X, reset=False)
        if y is not None:
            y_idx = encode_labels(net, y, len(X))
        feature_shape = X.shape[1:]
        clip_min = _as_bound(self.clip_min, "clip_min", feature_shape)
        clip_max = _as_bound(self.clip_max, "clip_max", feature_shape)
        check_clip_range(X, clip_min, clip_max)
        gen = torch_generator(self.random_state)
        device = getattr(net, "device", "cpu") or "cpu"
        clip_min = None if clip_min is None else clip_min.to(device)
        clip_max = None if clip_max is None else clip_max.to(device)
        out = np.empty_like(X)
        with eval_mode(net):
            for start in range(0, len(X), batch_size):
                xb = torch.as_tensor(X[start : start + batch_size], device=device)
                if y is None:
                    with torch.no_grad():
                        yb = net.infer(xb).argmax(dim=1)
                else:
                    yb = torch.as_tensor(
                        y_idx[start : start + batch_size], device=device
                    )
                forward, loss_fn = _forward_and_loss(net, yb)
                try:
                    xb_adv = pgd_attack(
                        forward,
                        loss_fn,
                        xb,
                        eps=eps,
                        step_size=step_size,
                        n_steps=n_steps,
                        norm=norm,
                        random_start=self.random_start,
                        clip_min=clip_min,
                        clip_max=clip_max,
                        generator=gen,
                    )
                except RuntimeError:
                    if forward is net.module_:
                        with torch.no_grad():
                            net.infer(xb)  # the net's own message for a misfit X
                    raise
                out[start : start + batch_size] = xb_adv.cpu().numpy()
        return out


class FGSM(PGD):
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps``.

    Same interface as :class:`PGD` with ``n_steps=1``, ``random_start=False``
    and ``step_size=eps``.
    """

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


def _forward_and_loss(net, yb):
    """``(forward, loss_fn)`` for attacking ``net`` on labels ``yb``.

    The net's ``infer`` and ``get_loss`` define the attack. When they are
    skorch's own (``infer`` on a tensor is ``module_(x)``; ``get_loss`` of a
    classifier with a criterion other than NLLLoss is ``criterion_(y_pred, y)``),
    the module and criterion are called directly: the same maths without
    skorch's per-call conversions, which cost a few percent of a small
    model's attack.
    """
    forward, loss_fn = net.infer, _net_loss(net, yb)
    cls = type(net)
    module = getattr(net, "module_", None)
    plain_infer = cls.infer is NeuralNet.infer or getattr(
        cls.infer, "__skfral_plain_infer__", False
    )
    if plain_infer and isinstance(module, torch.nn.Module):
        forward = module
    criterion = getattr(net, "criterion_", None)
    if (
        cls.get_loss in (NeuralNet.get_loss, NeuralNetClassifier.get_loss)
        and isinstance(criterion, torch.nn.Module)
        and not isinstance(criterion, torch.nn.NLLLoss)
    ):

        def loss_fn(outputs, _x_adv):
            return criterion(outputs, yb)

    return forward, loss_fn


def _net_loss(net, yb):
    def loss_fn(outputs, x_adv):
        return net.get_loss(outputs, yb, X=x_adv, training=False)

    return loss_fn


class eval_mode:
    """Context manager: every module and criterion of a skorch net in eval mode,
    the previous modes restored on exit."""

    def __init__(self, net):
        self.net = net

    def __enter__(self):
        self.modes = []
        names = list(getattr(self.net, "_modules", ())) + list(
            getattr(self.net, "_criteria", ())
        )
        for name in names:
            module = getattr(self.net, name + "_", None)
            if isinstance(module, torch.nn.Module):
                modes = [m.training for m in module.modules()]
                if any(modes):  # setting modes is slow: only when needed
                    self.modes.append((module, modes))
                    module.eval()
        return self.net

    def __exit__(self, *exc):
        for module, modes in self.modes:
            for m, mode in zip(module.modules(), modes):
                if m.training is not mode:
                    # what ``m.training = mode`` does, minus nn.Module.__setattr__'s
                    # parameter/buffer/submodule lookups (``training`` is a plain bool)
                    m.__dict__["training"] = mode
        return False


def _is_range(classes):
    return (
        classes.dtype.kind in "iu"
        and classes.ndim == 1
        and np.array_equal(classes, np.arange(len(classes)))
    )


def encode_labels(net, y, n_samples, name="y"):
    """Map labels in the net's label space to class indices (int64)."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}: expected a 1-d array of labels.")
    if len(y) != n_samples:
        raise ValueError(
            f"Inconsistent lengths: X has {n_samples} samples, {name} has {len(y)}: "
            "expected the same number."
        )
    classes = np.asarray(net.classes_)
    if _is_range(classes) and y.dtype.kind in "iu":
        # classes 0..K-1 (the common case): the label is its own index
        ok = (y >= 0) & (y < len(classes))
        if ok.all():
            return y.astype(np.int64)
    ok = np.zeros(len(y), dtype=bool)
    idx = np.zeros(len(y), dtype=np.int64)
    try:
        order = np.argsort(classes, kind="stable")
        pos = np.clip(np.searchsorted(classes, y, sorter=order), 0, len(classes) - 1)
        idx = order[pos]
        ok = np.asarray(classes[idx] == y, dtype=bool)
    except TypeError:
        pass
    if not ok.all():
        unknown = list(dict.fromkeys(y[~ok].tolist()))[:5]
        raise ValueError(
            f"{name} contains labels {unknown} that the net was not fitted on: "
            f"expected labels among {classes.tolist()}."
        )
    return idx.astype(np.int64)


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
    from ._introspect import final_net

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
