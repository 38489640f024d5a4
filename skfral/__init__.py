"""skfral: Fair Robust Active Learning (FRAL) with Joint Inconsistency (JIN).

Importing skfral applies the small modAL compatibility shim
(:mod:`skfral._modal_compat`) so that ``modAL.models.ActiveLearner`` works on
current scikit-learn and pandas.
"""

from . import _modal_compat
from ._version import __version__

_modal_compat.apply()

__all__ = ["__version__"]
