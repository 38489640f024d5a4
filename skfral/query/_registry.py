"""Short names of the strategies: ``get_strategy("jin", X_val=..., ...)``."""

import difflib

from ._diversity import BADGESampling, CoreSetSampling
from ._fair import FALSampling, WorstGroupSampling
from ._jin import JINQueryStrategy
from ._uncertainty import (
    EntropySampling,
    LeastConfidenceSampling,
    MarginSampling,
    RandomSampling,
)

__all__ = ["STRATEGIES", "get_strategy"]

STRATEGIES = {
    "jin": JINQueryStrategy,
    "random": RandomSampling,
    "entropy": EntropySampling,
    "margin": MarginSampling,
    "least_confidence": LeastConfidenceSampling,
    "coreset": CoreSetSampling,
    "badge": BADGESampling,
    "worst_group": WorstGroupSampling,
    "fal": FALSampling,
}


def get_strategy(name, **params):
    """Build a query strategy from its short name.

    Parameters
    ----------
    name : str
        One of ``jin, random, entropy, margin, least_confidence, coreset,
        badge, worst_group, fal``.
    **params
        Keyword arguments of the strategy's class.

    Returns
    -------
    strategy : BaseQueryStrategy

    Examples
    --------
    >>> from skfral.query import get_strategy
    >>> get_strategy("entropy", random_state=0)
    EntropySampling(random_state=0)
    >>> get_strategy("entropie")
    Traceback (most recent call last):
    ...
    ValueError: Unknown strategy 'entropie' (did you mean 'entropy'?): expected one of ...
    """
    if not isinstance(name, str) or name not in STRATEGIES:
        hint = difflib.get_close_matches(str(name), STRATEGIES, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(
            f"Unknown strategy {name!r}{did}: expected one of {', '.join(STRATEGIES)}."
        )
    cls = STRATEGIES[name]
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise TypeError(
            f"{cls.__name__} got unknown parameter(s) {unknown}: expected some of {valid}."
        )
    return cls(**params)
