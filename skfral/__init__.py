"""skfral: Fair Robust Active Learning (FRAL) with Joint Inconsistency (JIN).

Importing skfral installs the small modAL compatibility shim
(:mod:`skfral._modal_compat`) so that ``modAL.models.ActiveLearner`` works on
current scikit-learn and pandas: modAL is patched as soon as it is imported
(at once if it already is). ``import skfral`` itself is light: the
subpackages (``skfral.nn``, ``skfral.query``, ...) load on first use. Unless
torch is already loaded or the variable is set, it also sets
``OMP_WAIT_POLICY=PASSIVE`` (:mod:`skfral._threads`): idle torch threads then
sleep instead of spinning, which keeps extra threads cheap on busy cores.
"""

import importlib

from . import _modal_compat, _threads
from ._version import __version__

_modal_compat.install()
_threads.prefer_passive_wait()  # before torch loads: idle OpenMP threads sleep

__all__ = ["__version__"]

_SUBPACKAGES = ("datasets", "experiment", "metrics", "nn", "query", "utils")


def __getattr__(name):
    # ``skfral.nn`` etc. without an explicit import (PEP 562).
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
