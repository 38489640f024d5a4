"""Random and uncertainty sampling (the standard active-learning baselines)."""

import numpy as np

from ._base import BaseQueryStrategy, entropy, top_k

__all__ = [
    "RandomSampling",
    "EntropySampling",
    "MarginSampling",
    "LeastConfidenceSampling",
]


class RandomSampling(BaseQueryStrategy):
    """Uniformly random picks from the pool: the reference every strategy must beat.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the picks.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.query import RandomSampling
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(30, 2).astype("float32")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=2, adversarial=None,
    ...                                 max_epochs=1).fit(X, (X[:, 0] > 0).astype(int))
    >>> idx, scores = RandomSampling(random_state=0)(net, X, n_instances=3)
    >>> idx.shape, scores.shape
    ((3,), (3,))
    """

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    def _select(self, learner, X_pool, n_instances, groups, rng):
        n_pool = len(X_pool) if not hasattr(X_pool, "shape") else X_pool.shape[0]
        scores = rng.random_sample(n_pool)
        idx = top_k(scores, n_instances, rng)
        return idx, scores[idx]


class _ProbaStrategy(BaseQueryStrategy):
    def __init__(self, *, random_state=None):
        self.random_state = random_state

    def _uncertainty(self, proba):  # pragma: no cover - abstract
        raise NotImplementedError

    def _select(self, learner, X_pool, n_instances, groups, rng):
        estimator = getattr(learner, "estimator", learner)
        scores = self._uncertainty(estimator.predict_proba(X_pool))
        idx = top_k(scores, n_instances, rng)
        return idx, scores[idx]


class EntropySampling(_ProbaStrategy):
    """Highest predictive entropy of the robust model (Shannon 1948; Settles 2009).

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equal scores.
    """

    def _uncertainty(self, proba):
        return entropy(proba)


class MarginSampling(_ProbaStrategy):
    """Smallest margin between the two most probable classes (Scheffer et al. 2001).

    The score is ``-(p_1 - p_2)`` so that larger is more informative.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equal scores.
    """

    def _uncertainty(self, proba):
        part = np.sort(np.asarray(proba, dtype=np.float64), axis=1)
        if part.shape[1] < 2:
            return np.zeros(len(part))
        return -(part[:, -1] - part[:, -2])


class LeastConfidenceSampling(_ProbaStrategy):
    """Lowest probability of the predicted class (Lewis & Gale 1994).

    The score is ``1 - max_c p_c``.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equal scores.
    """

    def _uncertainty(self, proba):
        return 1.0 - np.asarray(proba, dtype=np.float64).max(axis=1)
