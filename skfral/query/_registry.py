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

__all__ = ["JIN_PRESETS", "STRATEGIES", "get_strategy"]

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

# Named JIN settings: ``get_strategy("jin_paper")`` is JINQueryStrategy with
# these parameters (keyword arguments of the call override them). Each names
# every setting it depends on, so the name means the same whatever the default.
JIN_PRESETS = {
    # The paper as we read it: both inconsistencies (KL), the whole batch from
    # the validation-worst group, class balancing; nothing of ours.
    "jin_paper": {
        "disagreement": "kl",
        "weights": (1.0, 1.0),
        "group_allocation": "worst",
        "class_balance": True,
        "score_aggregation": "sum",
        "uncertainty_weight": 0.0,
        "diversity": None,
        # issue 25's parts off (the constructor's defaults since then)
        "shrinkage_prior": 0.0,
        "min_val_count": 1,
        "max_group_share": None,
    },
    # The default from issue 15 to issue 25 (bootstrap allocation, hard
    # disagreement, none of issue 25's parts): JIN before issue 25.
    "jin_bootstrap": {
        "disagreement": "hard",
        "group_allocation": "bootstrap",
        "score_aggregation": "sum",
        "uncertainty_weight": 0.0,
        "shrinkage_prior": 0.0,
        "min_val_count": 1,
        "max_group_share": None,
    },
    # Issue 25: a soft group preference over the whole pool, shrunk group
    # scores, a validation minimum and a per-query cap ...
    "jin_soft": {
        "group_allocation": "soft",
        "group_preference": 0.5,
        "score_aggregation": "rank",
        "uncertainty_weight": 1.0,
        "shrinkage_prior": 25.0,
        "min_val_count": 10,
        "max_group_share": 0.2,
    },
    # Issue 25's validation choice (benchmarks/results/jin_soft.md), the
    # constructor's defaults since issue 25: targeted
    # with the default scoring ("bootstrap") where the likely-worst group is
    # predictable from the features, the soft preference elsewhere; shrunk
    # group scores, a validation minimum and a per-query cap.
    "jin_auto": {
        "group_allocation": "auto",
        "group_preference": 0.5,
        "disagreement": "hard",
        "score_aggregation": "sum",
        "uncertainty_weight": 0.0,
        "shrinkage_prior": 25.0,
        "min_val_count": 10,
        "max_group_share": 0.2,
        "predictability_threshold": 0.85,
    },
}


def get_strategy(name, **params):
    """Build a query strategy from its short name.

    Parameters
    ----------
    name : str
        One of ``jin, random, entropy, margin, least_confidence, coreset,
        badge, worst_group, fal``, or a JIN preset of :data:`JIN_PRESETS`
        (``jin_paper``, ``jin_bootstrap``, ``jin_soft``, ``jin_auto``).
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
    >>> get_strategy("jin_paper").get_params()["disagreement"]
    'kl'
    >>> get_strategy("entropie")
    Traceback (most recent call last):
    ...
    ValueError: Unknown strategy 'entropie' (did you mean 'entropy'?): expected one of ...
    >>> get_strategy("jin", wieghts=(1, 0))
    Traceback (most recent call last):
    ...
    TypeError: JINQueryStrategy got unknown parameter(s) ['wieghts'] (did you mean 'weights'?): ...
    """
    if isinstance(name, str) and name in JIN_PRESETS:
        preset = JIN_PRESETS[name]
        name, params = "jin", {**preset, **params}
    if not isinstance(name, str) or name not in STRATEGIES:
        raise unknown_option_error("strategy", name, [*STRATEGIES, *JIN_PRESETS])
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
