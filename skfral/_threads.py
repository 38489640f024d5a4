"""OpenMP's wait policy, set before torch starts (no torch import here).

By default the OpenMP runtime that torch uses on CPU keeps its idle threads
spinning for a while after each parallel region. On cores that other
processes also use, those spinning threads steal the time the working ones
need: a small net with two torch threads on a busy two-core machine ran 6x
slower than with one (``benchmarks/results/threads.md``).
``OMP_WAIT_POLICY=PASSIVE`` makes idle threads sleep instead, so extra threads
cost next to nothing on busy cores. OpenMP reads it once, when torch loads, so
:func:`prefer_passive_wait` runs at ``import skfral`` (and so at the start of
the ``skfral`` command line), before :mod:`skfral.nn` imports torch. A value the
user set is kept.
"""

import os
import sys

__all__ = ["passive_wait", "prefer_passive_wait"]

_state = {"passive": None}


def prefer_passive_wait():
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless it is set or torch is loaded.

    Returns
    -------
    passive : bool
        Whether OpenMP threads of this process sleep when idle (the policy in
        effect when torch loads, as far as this process can tell).
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if _state["passive"] is None:
        _state["passive"] = passive_wait()
    return _state["passive"]


def passive_wait():
    """Whether ``OMP_WAIT_POLICY`` says PASSIVE (OpenMP's default spins).

    Examples
    --------
    >>> import os
    >>> passive_wait() == (os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE")
    True
    """
    return os.environ.get("OMP_WAIT_POLICY", "").strip().upper() == "PASSIVE"
