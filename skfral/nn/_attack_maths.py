"""Attack maths on tensors: projections, random starts, PGD and TRADES.

Pure functions of tensors and callables. They know nothing of skorch, numpy or
estimators: the estimator-side classes (:mod:`skfral.nn._attacks`) and the
net's training step (:mod:`skfral.nn._net`) call them batch by batch.
"""

import torch
import torch.nn.functional as F

__all__ = ["pgd_attack", "trades_attack"]


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


def _noise_device(generator):
    """Where random noise is drawn: the generator's device (CPU without one)."""
    return torch.device("cpu") if generator is None else generator.device


def _random_start(x, eps, norm, generator):
    # Drawn on the generator's device (the same numbers for a seed whatever
    # device x is on, with a CPU generator), then moved to x's device.
    device = _noise_device(generator)
    if norm == "linf":
        noise = torch.empty(x.shape, dtype=x.dtype, device=device).uniform_(
            -eps, eps, generator=generator
        )
        return noise.to(x.device)
    direction = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device)
    direction = direction / _flat_norm(direction)
    radius = torch.rand(
        (x.shape[0],) + (1,) * (x.dim() - 1),
        generator=generator,
        dtype=x.dtype,
        device=device,
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
    eps : float
        Radius of the perturbation ball.
    step_size : float
        Step length.
    n_steps : int
        Number of steps (1 with ``random_start=False`` and ``step_size=eps`` is FGSM).
    norm : {"linf", "l2"}, default="linf"
        Norm of the ball.
    random_start : bool, default=True
        Start from a random point of the ball (uniform in the L-inf box; for
        L2, a uniform direction at a uniform radius).
    clip_min, clip_max : torch.Tensor or None, default=None
        Valid range of the inputs (broadcast against one sample).
    generator : torch.Generator or None, default=None
        Generator of the random start (on the CPU or on ``x``'s device); the
        noise is drawn on its device and moved to ``x``'s.

    Returns
    -------
    x_adv : torch.Tensor
        Detached adversarial inputs of ``x``'s shape.

    See Also
    --------
    PGD : The numpy-facing attack built on this function.
    trades_attack : The TRADES inner maximisation.

    References
    ----------
    .. [1] A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, "Towards
       Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> model = torch.nn.Linear(2, 2)
    >>> x, y = torch.zeros(3, 2), torch.tensor([0, 1, 0])
    >>> x_adv = pgd_attack(model, lambda out, _x: F.cross_entropy(out, y), x,
    ...                    eps=0.1, step_size=0.025, n_steps=10,
    ...                    generator=torch.Generator().manual_seed(0))
    >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-6)
    True
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

    Projected gradient ascent on ``KL(softmax(logits_clean) || softmax(f(x_adv)))``
    (summed over the batch) from ``x + 0.001 * N(0, 1)``, as in the reference
    method; the clean probabilities are constants (no gradient flows into
    them). The result is projected once more onto the eps-ball around ``x``
    and the clip range.

    Parameters
    ----------
    forward : callable
        Maps an input tensor to model logits (the module in eval mode).
    x : torch.Tensor
        Clean inputs, batch first.
    logits_clean : torch.Tensor of shape (n_samples, n_classes)
        The model's logits on ``x``; detached here.
    eps : float
        Radius of the perturbation ball.
    step_size : float
        Step length of each ascent step.
    n_steps : int
        Number of ascent steps.
    norm : {"linf", "l2"}, default="linf"
        Norm of the ball (sign steps for L-inf, L2-normalised gradient steps
        for L2).
    clip_min, clip_max : torch.Tensor or None, default=None
        Valid range of the inputs (broadcast against one sample).
    generator : torch.Generator or None, default=None
        Generator of the small Gaussian start (on the CPU or on ``x``'s
        device); ``None`` uses torch's global generator.

    Returns
    -------
    x_adv : torch.Tensor
        Detached adversarial inputs of ``x``'s shape.

    See Also
    --------
    pgd_attack : The ascent used here, on the KL instead of the label loss.
    RobustNeuralNetClassifier : Trains on these examples with
        ``adversarial="trades"``.

    References
    ----------
    .. [1] H. Zhang, Y. Yu, J. Jiao, E. Xing, L. El Ghaoui and M. Jordan,
       "Theoretically Principled Trade-off between Robustness and Accuracy",
       ICML 2019.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 3)
    >>> x = torch.zeros(4, 2)
    >>> x_adv = trades_attack(model, x, model(x), eps=0.1, step_size=0.05,
    ...                       n_steps=3, generator=torch.Generator().manual_seed(0))
    >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-6)
    True
    """
    p_clean = F.softmax(logits_clean.detach(), dim=1)

    def kl_loss(logits_adv, _x):
        return F.kl_div(F.log_softmax(logits_adv, dim=1), p_clean, reduction="sum")

    start = 0.001 * torch.randn(
        x.shape, generator=generator, dtype=x.dtype, device=_noise_device(generator)
    ).to(x.device)
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
