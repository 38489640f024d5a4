"""The default number of torch threads: from the model and the cores, never the load.

A run's numbers must not depend on how busy the machine was, so the default is
a function of the network and of the cores this process may use only:

* one thread for a small network (no convolution and under
  :data:`SMALL_NET_PARAMETERS` parameters, such as the tabular MLPs): its
  matrix products are too small for a second thread to pay for the hand-over,
  idle or busy;
* otherwise (convolutions, large nets) every core this process may use,
  divided by the cells that run at once, provided OpenMP's idle threads sleep
  (``OMP_WAIT_POLICY=PASSIVE``, which ``import skfral`` sets before torch
  loads); when they spin (torch was imported first without it), one thread,
  since spinning threads on busy cores can cost several times the work.

:func:`apply_default_threads` applies this when a
:class:`~skfral.nn.RobustNeuralNetClassifier` builds its module, unless the
count was chosen by someone else: ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``
in the environment, a ``torch.set_num_threads`` call (a count other than
torch's own default and ours), or ``run_fral(torch_threads=...)`` /
``skfral run --torch-threads``. Measurements: ``benchmarks/bench_threads.py``.
"""

import os

import torch

__all__ = [
    "SMALL_NET_PARAMETERS",
    "apply_default_threads",
    "available_cores",
    "default_threads",
    "set_thread_mode",
]

#: Nets without convolutions and with fewer parameters than this get one thread.
SMALL_NET_PARAMETERS = 1_000_000

_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def passive_wait():
    """Whether ``OMP_WAIT_POLICY`` says PASSIVE (as :mod:`skfral._threads`, which
    ``import skfral`` uses to set it; nn imports nothing above utils)."""
    return os.environ.get("OMP_WAIT_POLICY", "").strip().upper() == "PASSIVE"


# initial: torch's own count when skfral.nn loaded; ours: the last count we
# set; mode: None (a user's process), "share" (run_fral's per-cell share of
# the cores, the ceiling of the default) or "explicit" (never changed).
_state = {"initial": torch.get_num_threads(), "ours": None, "mode": None}


def available_cores():
    """Cores this process may use (CPU affinity respected), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _is_small(module):
    if not isinstance(module, torch.nn.Module):
        return False
    for layer in module.modules():
        if isinstance(layer, torch.nn.modules.conv._ConvNd):
            return False
    n_params = sum(p.numel() for p in module.parameters())
    return n_params < SMALL_NET_PARAMETERS


def default_threads(module, *, cores=None, passive=None):
    """The default torch thread count for ``module`` on ``cores`` cores.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    cores : int or None, default=None
        Cores to use; ``None`` means every core this process may use.
    passive : bool or None, default=None
        Whether idle OpenMP threads sleep; ``None`` reads ``OMP_WAIT_POLICY``.

    Returns
    -------
    n_threads : int
        1 for a small net (no convolution, under :data:`SMALL_NET_PARAMETERS`
        parameters) or when idle threads spin; else ``cores``.

    Examples
    --------
    >>> from skfral.nn import MLP, SmallCNN
    >>> default_threads(MLP(n_features=20, n_classes=2), cores=8, passive=True)
    1
    >>> default_threads(SmallCNN(in_channels=3), cores=8, passive=True)
    8
    >>> default_threads(SmallCNN(in_channels=3), cores=8, passive=False)
    1
    """
    cores = available_cores() if cores is None else max(1, int(cores))
    passive = passive_wait() if passive is None else bool(passive)
    if _is_small(module) or not passive:
        return 1
    return cores


def set_thread_mode(n_threads, mode):
    """Record who chose the thread count ``n_threads`` (the runner's cells).

    ``mode`` is ``"explicit"`` (kept as is), ``"share"`` (a per-cell share of
    the cores: the default may lower it for a small net) or None (forget: the
    count is a user's again).
    """
    _state["mode"] = mode
    _state["ours"] = n_threads if mode is not None else _state["ours"]


def _chosen_by_user():
    if any(os.environ.get(name) for name in _ENV):
        return True
    return torch.get_num_threads() not in (_state["initial"], _state["ours"])


def apply_default_threads(module):
    """Set torch's thread count to :func:`default_threads` unless it was chosen.

    Called when a :class:`~skfral.nn.RobustNeuralNetClassifier` builds its
    module.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    n_threads : int or None
        The count set, or None when it was left alone.
    """
    mode = _state["mode"]
    if mode == "explicit":
        return None
    if mode == "share":
        n = min(default_threads(module, cores=_state["ours"]), _state["ours"])
    elif _chosen_by_user():
        return None
    else:
        n = default_threads(module)
        _state["ours"] = n
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
    return n
