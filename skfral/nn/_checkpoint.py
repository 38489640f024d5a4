"""Saving and restoring the training state of skorch nets, and torch threads.

Used by :mod:`skfral.experiment` to resume interrupted runs exactly. A net's
*training state* is everything a later warm-started ``fit`` depends on: the
module's and the optimizer's ``state_dict`` and the position of the net's
numpy random stream (``RobustNeuralNetClassifier`` draws the seeds of each
``fit`` from it). The state is a plain nest of dicts, lists, numbers, strings
and tensors, so it is written with ``torch.save`` and read back with
``torch.load(..., weights_only=True)``: loading a checkpoint never unpickles
arbitrary objects.
"""

import numpy as np
import torch

from ._introspect import final_net
from ._threads import set_thread_mode

__all__ = [
    "get_net_state",
    "load_checkpoint",
    "save_checkpoint",
    "set_net_state",
    "set_torch_threads",
]


def _rng_state(rng):
    kind, keys, pos, has_gauss, cached = rng.get_state()
    return {
        "kind": str(kind),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _set_rng_state(rng, state):
    rng.set_state(
        (
            state["kind"],
            state["keys"].numpy().astype(np.uint32),
            int(state["pos"]),
            int(state["has_gauss"]),
            float(state["cached_gaussian"]),
        )
    )


def get_net_state(estimator):
    """The training state of a fitted skorch net (or of a Pipeline's final net).

    Parameters
    ----------
    estimator : fitted skorch NeuralNet or Pipeline ending in one
        The net whose state is read (a Pipeline's final net).

    Returns
    -------
    state : dict
        ``module``, ``optimizer`` and ``criterion`` state dicts (tensors
        cloned, so later training does not change them), ``rng``, the
        net's numpy random stream (``None`` when the net has none),
        ``module_params``, the module sizes the net inferred from its data
        (``n_features``, ``in_channels``, ``n_classes``: a net built without
        them is restored to the right shape), and ``n_features_in``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> from skfral.nn import get_net_state, set_net_state
    >>> X = np.random.RandomState(0).randn(30, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, max_epochs=1,
    ...                                 attack_n_steps=1, random_state=0).fit(X, y)
    >>> twin = RobustNeuralNetClassifier(MLP, module__n_features=3, max_epochs=1,
    ...                                  attack_n_steps=1, classes=[0, 1])
    >>> _ = set_net_state(twin, get_net_state(net))
    >>> bool(np.allclose(twin.predict_proba(X), net.predict_proba(X)))
    True
    """
    net = final_net(estimator)
    if not getattr(net, "initialized_", False):
        raise ValueError(
            f"{type(net).__name__} is not initialized: fit it before saving its state."
        )

    def cloned(sd):
        return _clone_tensors(sd)

    state = {
        "module": cloned(net.module_.state_dict()),
        "optimizer": cloned(net.optimizer_.state_dict()),
        "criterion": cloned(net.criterion_.state_dict()),
        "rng": None,
        "module_params": {
            str(k): int(v) for k, v in getattr(net, "_module_params", {}).items()
        },
        "n_features_in": int(getattr(net, "n_features_in_", -1)),
    }
    rng = getattr(net, "_rng", None)
    if isinstance(rng, np.random.RandomState):
        state["rng"] = _rng_state(rng)
    return state


def _clone_tensors(obj):
    if torch.is_tensor(obj):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone_tensors(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone_tensors(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_clone_tensors(v) for v in obj)
    return obj


def set_net_state(estimator, state):
    """Load a state from :func:`get_net_state` into a net of the same architecture.

    The net is initialized first when it is not (its ``classes`` parameter
    should then list every label, so that ``predict_proba`` works without a
    ``fit``); then the module, optimizer, criterion and random stream are
    overwritten. A following ``fit`` with ``warm_start=True`` continues
    exactly where the saved net stopped.

    Parameters
    ----------
    estimator : skorch NeuralNet or Pipeline ending in one
        For a Pipeline only the final net is restored; fit the preceding steps
        yourself.
    state : dict
        As returned by :func:`get_net_state` (or read by :func:`load_checkpoint`).

    Returns
    -------
    estimator : skorch NeuralNet or Pipeline
        ``estimator`` itself, restored.
    """
    net = final_net(estimator)
    if not getattr(net, "initialized_", False):
        if state.get("module_params"):
            net._module_params = {
                str(k): int(v) for k, v in state["module_params"].items()
            }
        net.initialize()
    net.module_.load_state_dict(state["module"])
    if state.get("n_features_in", -1) >= 0:
        net.n_features_in_ = int(state["n_features_in"])
    net.optimizer_.load_state_dict(state["optimizer"])
    if state.get("criterion"):
        net.criterion_.load_state_dict(state["criterion"])
    if state.get("rng") is not None:
        rng = getattr(net, "_rng", None)
        if not isinstance(rng, np.random.RandomState):
            rng = np.random.RandomState()
            net._rng = rng
        _set_rng_state(rng, state["rng"])
    return estimator


def save_checkpoint(obj, file):
    """``torch.save`` a nest of dicts, lists, numbers, strings and tensors.

    Parameters
    ----------
    obj : dict
        E.g. ``{"robust": get_net_state(net)}``.
    file : str, path or binary file object
        Where to write (the caller handles atomic replacement).
    """
    torch.save(obj, file)


def load_checkpoint(file):
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Parameters
    ----------
    file : str, path or binary file object
        The checkpoint to read; tensors are loaded on the CPU and no arbitrary
        object is unpickled.

    Returns
    -------
    obj : dict
        What :func:`save_checkpoint` wrote.
    """
    return torch.load(file, map_location="cpu", weights_only=True)


def set_torch_threads(n_threads, *, mode=None):
    """Set torch's intra-op thread count; return the previous value.

    Parameters
    ----------
    n_threads : int or None
        ``None`` leaves the setting alone.
    mode : {"explicit", "share"} or None, default=None
        Who chose it (:func:`skfral.nn._threads.set_thread_mode`): the user
        (kept), a per-cell share of the cores (a small net may use fewer) or
        None (a restore).

    Returns
    -------
    previous : int
    """
    previous = torch.get_num_threads()
    if n_threads is not None and int(n_threads) != previous:
        torch.set_num_threads(max(1, int(n_threads)))
    set_thread_mode(None if n_threads is None else max(1, int(n_threads)), mode)
    return previous
