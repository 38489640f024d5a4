"""Auto-PGD maths on tensors (Croce and Hein 2020): checkpoints, DLR loss, runs.

Pure functions of tensors and callables, like :mod:`skfral.nn._attack_maths`
whose projections and random starts they share; :class:`skfral.nn.APGD` calls
:func:`apgd_attack` batch by batch.
"""

import math

import torch
import torch.nn.functional as F

from ._attack_maths import _clip, _linf_box, _project, _random_start, _unit_l2

__all__ = ["APGD_LOSSES", "apgd_attack", "apgd_checkpoints", "dlr_loss"]

APGD_LOSSES = ("ce", "dlr", "dlr_untargeted")


def apgd_checkpoints(n_steps):
    """The iterations where Auto-PGD may halve its step size.

    ``w_j = ceil(p_j * n_steps)`` with ``p_0 = 0``, ``p_1 = 0.22`` and
    ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`` (Croce and Hein 2020,
    Section 3.2), the checkpoints ``0 < w_j <= n_steps`` without repeats.
    """
    points, p_prev, p = [], 0.0, 0.22
    while p <= 1:
        # rounded first: 0.41 * 100 is 41.000000000000007 in floating point
        w = math.ceil(round(p * n_steps, 9))
        if 0 < w <= n_steps and (not points or w > points[-1]):
            points.append(w)
        p_prev, p = p, p + max(p - p_prev - 0.03, 0.06)
    return points


def dlr_loss(logits, y, target=None):
    """Per-sample Difference of Logits Ratio loss (Croce and Hein 2020).

    Untargeted (``target=None``)::

        -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)

    targeted, towards class ``t``::

        -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)

    where ``z_pi1 >= z_pi2 >= ...`` are the sorted logits. The ratio makes the
    loss invariant to shifts and positive rescalings of the logits. The
    denominator needs three classes (four when targeted): with fewer, the
    highest and lowest logits are used instead (``z_pi1 - z_pi3`` for a
    three-class targeted loss), and with two classes, where any such ratio is
    constant, the loss is the plain margin ``-(z_y - z_t)`` (denominator 1).

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
        Model outputs before the softmax (log-probabilities work too: the
        loss is shift invariant).
    y : torch.Tensor of shape (n_samples,)
        True class indices.
    target : torch.Tensor of shape (n_samples,) or None, default=None
        Target class indices of the targeted loss; ``None`` for the
        untargeted loss.

    Returns
    -------
    loss : torch.Tensor of shape (n_samples,)
        Larger when the sample is closer to (or beyond) misclassification.

    See Also
    --------
    apgd_attack : Maximises this loss (``loss="dlr"`` and ``"dlr_untargeted"``).

    References
    ----------
    .. [1] F. Croce and M. Hein, "Reliable evaluation of adversarial
       robustness with an ensemble of diverse parameter-free attacks",
       ICML 2020.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[3.0, 1.0, 0.0, -1.0]])
    >>> dlr_loss(logits, torch.tensor([0]))  # -(3 - 1) / (3 - 0)
    tensor([-0.6667])
    >>> dlr_loss(logits, torch.tensor([0]), target=torch.tensor([1]))
    tensor([-0.5714])
    """
    n_classes = logits.shape[1]
    top, _ = logits.sort(dim=1, descending=True)
    z_y = logits.gather(1, y[:, None])[:, 0]
    if target is None:
        is_y = F.one_hot(y, n_classes).bool()
        z_other = logits.masked_fill(is_y, float("-inf")).amax(dim=1)
        if n_classes >= 3:
            scale = top[:, 0] - top[:, 2]
        else:
            scale = torch.ones_like(z_y)
        return -(z_y - z_other) / (scale + 1e-12)
    z_t = logits.gather(1, target[:, None])[:, 0]
    if n_classes >= 4:
        scale = top[:, 0] - 0.5 * (top[:, 2] + top[:, 3])
    elif n_classes == 3:
        scale = top[:, 0] - top[:, 2]
    else:
        scale = torch.ones_like(z_y)
    return -(z_y - z_t) / (scale + 1e-12)


def _full_precision(logits):
    """Half-precision logits (under autocast) as float32; others unchanged."""
    if logits.dtype in (torch.float16, torch.bfloat16):
        return logits.float()
    return logits


def _ce_per_sample(logits, y, target=None):
    return F.cross_entropy(logits, y, reduction="none")


def _apgd_run(
    forward,
    x,
    y,
    loss_fn,
    *,
    eps,
    n_steps,
    norm,
    rho,
    momentum,
    clip_min,
    clip_max,
    generator,
    history,
):
    """One Auto-PGD run (Algorithm 1 of Croce and Hein 2020) on one batch.

    Returns ``(x_best, loss_best, x_fool, fooled)``: the point of highest loss,
    its loss, and the first point found misclassified (where ``fooled``).
    """
    n = x.shape[0]
    view = (n,) + (1,) * (x.dim() - 1)
    lower = upper = None
    if norm == "linf":
        lower, upper = _linf_box(x, eps, clip_min, clip_max)

    def project(z):
        if norm == "linf":
            return torch.clamp(z, lower, upper)
        return _clip(x + _project(z - x, eps, norm), clip_min, clip_max)

    def direction(grad):
        return grad.sign() if norm == "linf" else _unit_l2(grad)

    def evaluate(z):
        z = z.detach().requires_grad_(True)
        logits = _full_precision(forward(z))
        loss = loss_fn(logits, y)
        (grad,) = torch.autograd.grad(loss.sum(), [z])
        return loss.detach(), grad.detach(), logits.detach().argmax(dim=1) != y

    checkpoints = apgd_checkpoints(n_steps)
    x_cur = _clip(x + _random_start(x, eps, norm, generator), clip_min, clip_max)
    with torch.enable_grad():
        f_cur, grad, fooled = evaluate(x_cur)
    x_best, f_best, grad_best = x_cur.clone(), f_cur.clone(), grad.clone()
    x_fool = x_cur.clone()
    x_prev = x_cur
    eta = torch.full((n,), 2.0 * eps, dtype=x.dtype, device=x.device)
    # Paper, condition 2: step size and best loss at the previous checkpoint.
    halved_last = torch.zeros(n, dtype=torch.bool, device=x.device)
    f_best_last = f_best.clone()
    success = torch.zeros((n_steps, n), dtype=torch.bool, device=x.device)
    w_prev = 0
    for k in range(n_steps):  # iteration k makes x^(k+1); k = 0 is the first step
        if bool(fooled.all()):
            break
        alpha = 1.0 if k == 0 else momentum
        if history is not None:
            history.append(eta.clone())
        z = project(x_cur + eta.view(view) * direction(grad))
        x_next = project(x_cur + alpha * (z - x_cur) + (1 - alpha) * (x_cur - x_prev))
        with torch.enable_grad():
            f_next, grad, fooled_now = evaluate(x_next)
        f_k = f_cur
        success[k] = f_next > f_k
        new_fool = fooled_now & ~fooled
        x_fool[new_fool] = x_next[new_fool]
        fooled |= fooled_now
        better = f_next > f_best
        x_best[better], f_best[better] = x_next[better], f_next[better]
        grad_best[better] = grad[better]
        x_prev, x_cur, f_cur = x_cur, x_next, f_next
        if k in checkpoints:
            # condition 1: fewer than rho of the steps since the last checkpoint
            # raised the loss; condition 2: no halving at the last checkpoint
            # and no better point since.
            cond1 = success[w_prev:k].sum(dim=0) < rho * (k - w_prev)
            cond2 = ~halved_last & (f_best <= f_best_last)
            halve = cond1 | cond2
            # x^(k+1) <- x_max: the next checkpoint's condition 1 compares
            # f(x_max) with f(x^(k)), as the paper's algorithm reads.
            success[k] = torch.where(halve, f_best > f_k, success[k])
            eta = torch.where(halve, eta / 2, eta)
            x_cur = torch.where(halve.view(view), x_best, x_cur)
            f_cur = torch.where(halve, f_best, f_cur)
            grad = torch.where(halve.view(view), grad_best, grad)
            halved_last, f_best_last, w_prev = halve, f_best.clone(), k
    return x_best, f_best, x_fool, fooled


def apgd_attack(
    forward,
    x,
    y,
    *,
    eps,
    n_steps=100,
    loss="ce",
    norm="linf",
    n_restarts=1,
    n_target_classes=9,
    rho=0.75,
    momentum=0.75,
    clip_min=None,
    clip_max=None,
    generator=None,
    history=None,
):
    """Auto-PGD (Croce and Hein 2020) on one batch of tensors.

    Gradient ascent with momentum whose step size starts at ``2 * eps`` and
    halves at the checkpoints of :func:`apgd_checkpoints` when fewer than a
    fraction ``rho`` of the steps since the last checkpoint raised the loss,
    or when the step size was not halved at the last checkpoint and the best
    loss did not improve since; on halving the run goes on from the best
    point found. Each sample keeps its own step size. Samples misclassified
    at ``x`` are returned unchanged (they are fooled already). Each restart
    (and, for the targeted loss, each target class) attacks again, from a new
    random start, the samples not fooled yet.

    Parameters
    ----------
    forward : callable
        Maps an input tensor to logits (the module in eval mode). No
        gradient is accumulated on any weight.
    x : torch.Tensor
        Clean inputs, batch first.
    y : torch.Tensor of shape (n_samples,)
        True class indices (int64).
    eps : float
        Radius of the perturbation ball.
    n_steps : int, default=100
        Iterations per run (one forward and backward pass each, plus one at
        the start).
    loss : {"ce", "dlr", "dlr_untargeted"}, default="ce"
        ``"ce"``: per-sample cross-entropy (APGD-CE). ``"dlr"``: the targeted
        DLR loss of :func:`dlr_loss`, one run per target class, the
        ``n_target_classes`` classes ranked highest after the predicted one
        at ``x`` (APGD-T, AutoAttack's second white-box attack).
        ``"dlr_untargeted"``: the untargeted DLR loss (APGD-DLR).
    norm : {"linf", "l2"}, default="linf"
        Norm of the ball: sign steps (L-inf) or L2-normalised gradient steps.
    n_restarts : int, default=1
        Runs per loss (per target class for ``"dlr"``).
    n_target_classes : int, default=9
        Target classes of the targeted loss (at most ``n_classes - 1``);
        ignored by the other losses.
    rho : float, default=0.75
        Fraction of loss-raising steps below which the step size halves.
    momentum : float, default=0.75
        Weight of the new step against the previous move (``alpha``).
    clip_min, clip_max : torch.Tensor or None, default=None
        Valid range of the inputs (broadcast against one sample).
    generator : torch.Generator or None, default=None
        Generator of the random starts (on the CPU or on ``x``'s device).
    history : list or None, default=None
        When a list, the step sizes (a tensor per sample) of every iteration
        of every run are appended to it: a window on the schedule for tests
        and diagnostics.

    Returns
    -------
    x_adv : torch.Tensor
        Detached inputs of ``x``'s shape: for each sample, the first point
        found that is misclassified, else the point of highest loss.

    See Also
    --------
    APGD : The numpy-facing attack built on this function.
    pgd_attack : Fixed-step PGD.
    dlr_loss : The DLR loss.

    References
    ----------
    .. [1] F. Croce and M. Hein, "Reliable evaluation of adversarial
       robustness with an ensemble of diverse parameter-free attacks",
       ICML 2020.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 3)
    >>> x, y = torch.zeros(4, 2), torch.tensor([0, 1, 2, 0])
    >>> x_adv = apgd_attack(model, x, y, eps=0.1, n_steps=10,
    ...                     generator=torch.Generator().manual_seed(0))
    >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-6)
    True
    """
    x, y = x.detach(), y.detach()
    if eps == 0:
        return x.clone()
    with torch.no_grad():
        logits = _full_precision(forward(x))
    out = x.clone()
    left = logits.argmax(dim=1) == y  # misclassified samples stay as they are
    best_loss = torch.full(y.shape, float("-inf"), dtype=logits.dtype, device=x.device)
    if loss == "dlr":
        n_targets = min(int(n_target_classes), logits.shape[1] - 1)
        ranked = logits.argsort(dim=1, descending=True)
        targets = [ranked[:, j] for j in range(1, n_targets + 1)]
    else:
        targets = [None]
    for target in targets:
        for _ in range(n_restarts):
            idx = left.nonzero()[:, 0]
            if len(idx) == 0:
                return out
            t = None if target is None else target[idx]
            if loss == "ce":
                fn = _ce_per_sample
            else:

                def fn(logits, y_sub, _t=t):
                    return dlr_loss(logits, y_sub, _t)

            x_best, f_best, x_fool, fooled = _apgd_run(
                forward,
                x[idx],
                y[idx],
                fn,
                eps=eps,
                n_steps=n_steps,
                norm=norm,
                rho=rho,
                momentum=momentum,
                clip_min=clip_min,
                clip_max=clip_max,
                generator=generator,
                history=history,
            )
            better = ~fooled & (f_best > best_loss[idx])
            out[idx[better]] = x_best[better]
            best_loss[idx[better]] = f_best[better]
            out[idx[fooled]] = x_fool[fooled]
            left[idx[fooled]] = False
    return out
