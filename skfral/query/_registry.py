"""Short names of the strategies: ``get_strategy("jin", X_val=..., ...)``."""

from ..utils._validation import did_you_mean, unknown_option_error
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
        A new, unfitted strategy of the named class.

    See Also
    --------
    STRATEGIES : The short names and their classes.
    to_skactiveml : Use the strategy inside scikit-activeml.

    Examples
    --------
    >>> from skfral.query import get_strategy
    >>> get_strategy("entropy", random_state=0)
    EntropySampling(random_state=0)
    >>> get_strategy("entropie")
    Traceback (most recent call last):
    ...
    ValueError: Unknown strategy 'entropie' (did you mean 'entropy'?): expected one of ...
    >>> get_strategy("jin", wieghts=(1, 0))
    Traceback (most recent call last):
    ...
    TypeError: JINQueryStrategy got unknown parameter(s) ['wieghts'] (did you mean 'weights'?): ...
    """
    if not isinstance(name, str) or name not in STRATEGIES:
        raise unknown_option_error("strategy", name, list(STRATEGIES))
    cls = STRATEGIES[name]
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        hint = did_you_mean(unknown[0], valid)
        raise TypeError(
            f"{cls.__name__} got unknown parameter(s) {unknown}{hint}: expected some "
            f"of {valid}."
        )
    return cls(**params)
