"""skorch plumbing of the attacks: eval mode, forward-and-loss, torch generators.

What an attack needs from a skorch net besides the maths: the module in eval
mode (restored afterwards), the net's own forward pass and loss (or the module
and criterion directly, when they are skorch's own), and a local
``torch.Generator`` seeded from a ``random_state``.
"""

import contextlib
import functools
import numbers

import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet, NeuralNetClassifier

from ._data import AMP_DTYPES, autocast

__all__ = [
    "attack_autocast",
    "eval_mode",
    "logits_forward",
    "net_device",
    "torch_generator",
]


def torch_generator(random_state, device=None):
    """A ``torch.Generator`` seeded with an *integer* drawn from ``random_state``.

    ``None`` gives an unseeded generator (fresh entropy), never the global seed.
    ``device`` (default: the CPU) is where the generator draws: a CUDA
    generator keeps random starts on the GPU, with other numbers than the
    CPU's for the same seed.
    """
    device = torch.device("cpu" if device is None else device)
    gen = torch.Generator(device=device)
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


def net_device(net):
    """The device a net's module lives on (``net.device``; ``"cpu"`` when unset)."""
    return getattr(net, "device", None) or "cpu"


def attack_autocast(net, device):
    """``torch.autocast`` for the net's ``amp_dtype`` (if any), else a no-op.

    The robust net's optional ``amp_dtype`` (``"bfloat16"``, ``"float16"`` or a
    torch dtype; ``None`` or absent: full precision) applies to the forward
    passes of an attack too. The inputs and their updates stay float32.
    """
    dtype = getattr(net, "amp_dtype", None)
    if dtype is None:
        return contextlib.nullcontext()
    return autocast(device, AMP_DTYPES.get(dtype, dtype))


def logits_forward(net, forward):
    """``forward`` returning logits: log-probabilities for a net whose module
    outputs probabilities (skorch's convention with ``NLLLoss``), the output
    itself otherwise. Per-sample losses (APGD) need logits."""
    if isinstance(getattr(net, "criterion_", None), torch.nn.NLLLoss):

        def log_forward(x):
            out = forward(x)
            if out.dtype in (torch.float16, torch.bfloat16):
                out = out.float()
            return torch.log(out.clamp_min(torch.finfo(out.dtype).tiny))

        return log_forward
    return forward
