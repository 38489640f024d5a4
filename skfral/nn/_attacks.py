"""White-box attacks: PGD (L-inf, L2) and FGSM.

The maths are pure tensor functions (:func:`pgd_attack`, :func:`trades_attack`);
:class:`PGD` is the numpy-facing estimator-side object that strategies, metrics
and the experiment runner call as ``attack.perturb(net, X, y) -> X_adv``.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ..utils._validation import check_finite_array, check_int, check_option, check_real

__all__ = ["PGD", "FGSM", "pgd_attack", "trades_attack", "torch_generator"]

NORMS = ("linf", "l2")


def torch_generator(random_state):
    """A CPU ``torch.Generator`` seeded with an *integer* drawn from ``random_state``.

    ``None`` gives an unseeded generator (fresh entropy), never the global seed.
    """
    gen = torch.Generator()
    if random_state is None:
        gen.seed()
    else:
        rng = check_random_state(random_state)
        gen.manual_seed(int(rng.randint(0, 2**31 - 1)))
    return gen


def _flat_norm(t):
    return t.flatten(1).norm(p=2, dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def _project(delta, eps, norm):
    if norm == "linf":
        return delta.clamp(-eps, eps)
    factor = (eps / _flat_norm(delta)).clamp(max=1.0)
    return delta * factor


def _clip(x, clip_min, clip_max):
    if clip_min is not None:
        x = torch.maximum(x, clip_min)
    if clip_max is not None:
        x = torch.minimum(x, clip_max)
    return x


def _random_start(x, eps, norm, generator):
    if norm == "linf":
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1
        return (noise * eps).to(x.device)
    direction = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    direction = direction / _flat_norm(direction)
    radius = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), generator=generator, dtype=x.dtype)
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
        Start from a uniform point of the ball.
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
    delta = _random_start(x, eps, norm, generator) if random_start else torch.zeros_like(x)
    x_adv = _clip(x + delta, clip_min, clip_max)
    for _ in range(n_steps):
        x_adv = x_adv.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = loss_fn(forward(x_adv), x_adv)
            (grad,) = torch.autograd.grad(loss, [x_adv])
        if norm == "linf":
            step = grad.sign()
        else:
            step = grad / _flat_norm(grad)
        delta = _project(x_adv.detach() + step_size * step - x, eps, norm)
        x_adv = _clip(x + delta, clip_min, clip_max)
    return x_adv.detach()


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

    start = 0.001 * torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    x0 = _clip(x.detach() + start, clip_min, clip_max)
    x_adv = pgd_attack(
        forward, kl_loss, x0, eps=eps, step_size=step_size, n_steps=n_steps, norm=norm,
        random_start=False, clip_min=clip_min, clip_max=clip_max, generator=generator,
    )
    # x0 is not the ball's centre: project once more around the clean input.
    return _clip(x + _project(x_adv - x, eps, norm), clip_min, clip_max).detach()


def _as_bound(value, name, feature_shape, dtype=torch.float32):
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
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
    return torch.as_tensor(np.ascontiguousarray(arr), dtype=dtype)


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
        Start from a uniformly drawn point of the ball.
    clip_min, clip_max : float, array-like or None, default=None
        Valid input range, a scalar or one value per feature. ``None`` means no
        clipping (right for standardised tabular data); images use 0 and 1.
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
            step_size = check_real(self.step_size, "step_size", min_value=0, include_min=False)
        batch_size = check_int(self.batch_size, "batch_size", min_value=1)
        if not isinstance(self.random_start, bool | np.bool_):
            raise TypeError(f"random_start={self.random_start!r}: expected True or False.")
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
        X = check_finite_array(transform(X), "X", dtype=np.float32)
        if y is not None:
            y_idx = encode_labels(net, y, len(X))
        gen = torch_generator(self.random_state)
        feature_shape = X.shape[1:]
        clip_min = _as_bound(self.clip_min, "clip_min", feature_shape)
        clip_max = _as_bound(self.clip_max, "clip_max", feature_shape)
        if clip_min is not None and clip_max is not None and bool((clip_min > clip_max).any()):
            raise ValueError("clip_min is larger than clip_max for some feature: expected clip_min <= clip_max.")
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
                    yb = torch.as_tensor(y_idx[start : start + batch_size], device=device)
                loss_fn = _net_loss(net, yb)
                xb_adv = pgd_attack(
                    net.infer, loss_fn, xb, eps=eps, step_size=step_size, n_steps=n_steps,
                    norm=norm, random_start=self.random_start, clip_min=clip_min,
                    clip_max=clip_max, generator=gen,
                )
                out[start : start + batch_size] = xb_adv.cpu().numpy()
        return out


class FGSM(PGD):
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps``.

    Same interface as :class:`PGD` with ``n_steps=1``, ``random_start=False``
    and ``step_size=eps``.
    """

    def __init__(self, eps=0.1, norm="linf", clip_min=None, clip_max=None, batch_size=512):
        super().__init__(
            eps=eps, step_size=None, n_steps=1, norm=norm, random_start=False,
            clip_min=clip_min, clip_max=clip_max, batch_size=batch_size, random_state=0,
        )


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
        for name in list(getattr(self.net, "_modules", ())) + list(getattr(self.net, "_criteria", ())):
            module = getattr(self.net, name + "_", None)
            if isinstance(module, torch.nn.Module):
                self.modes.append((module, [m.training for m in module.modules()]))
                module.eval()
        return self.net

    def __exit__(self, *exc):
        for module, modes in self.modes:
            for m, mode in zip(module.modules(), modes):
                m.training = mode
        return False


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
