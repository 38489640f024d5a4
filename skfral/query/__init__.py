"""Query strategies: JIN and every baseline, behind one contract.

Each strategy is called the way modAL calls one,
``strategy(learner, X_pool, n_instances=1, *, sensitive_features=None)``, and
returns ``(indices, scores)``; a plain fitted estimator works too, with the
labelled set passed as ``X_labelled`` / ``y_labelled``. :func:`get_strategy`
builds one from its short name, and :func:`to_skactiveml` turns one into a
scikit-activeml query strategy.
"""

from ._base import BaseQueryStrategy
from ._diversity import BADGESampling, CoreSetSampling
from ._fair import FALSampling, WorstGroupSampling
from ._jin import JINQueryStrategy, disagreement_scores
from ._registry import JIN_PRESETS, STRATEGIES, get_strategy
from ._skactiveml import to_skactiveml
from ._uncertainty import (
    EntropySampling,
    LeastConfidenceSampling,
    MarginSampling,
    RandomSampling,
)

__all__ = [
    "BADGESampling",
    "BaseQueryStrategy",
    "CoreSetSampling",
    "EntropySampling",
    "FALSampling",
    "JINQueryStrategy",
    "JIN_PRESETS",
    "LeastConfidenceSampling",
    "MarginSampling",
    "RandomSampling",
    "STRATEGIES",
    "WorstGroupSampling",
    "disagreement_scores",
    "get_strategy",
    "to_skactiveml",
]
