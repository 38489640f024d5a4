"""Random and uncertainty sampling (the standard active-learning baselines)."""

import numpy as np

from ..utils._docstring import Substitution, _shared_docs
from ..utils._validation import num_samples
from ._base import BaseQueryStrategy, _query_docs, entropy, top_k

__all__ = [
    "RandomSampling",
    "EntropySampling",
    "MarginSampling",
    "LeastConfidenceSampling",
]

_DOCS = {
    "max_candidates": _shared_docs["max_candidates"],
    "random_state": _shared_docs["random_state"],
    "last_query": _query_docs["last_query"],
}


@Substitution(**_DOCS)
class RandomSampling(BaseQueryStrategy):
    """Uniformly random picks from the pool: the reference every strategy must beat.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: none (``score`` is the seeded uniform draw that ranked
        the pool).

    See Also
    --------
    EntropySampling : The cheap uncertainty baseline.
    WorstGroupSampling : Random or entropy picks inside the worst group.

    References
    ----------
    .. [1] B. Settles, "Active Learning Literature Survey", University of
       Wisconsin-Madison, Computer Sciences Technical Report 1648, 2009.

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

    def _select(self, query):
        scores = query.rng.random_sample(num_samples(query.X_pool, "X_pool"))
        idx = top_k(scores, query.n_instances, query.rng)
        self._record_query(idx, scores[idx], n_scored=len(scores))
        return idx, scores[idx]


class _ProbaStrategy(BaseQueryStrategy):
    def _uncertainty(self, proba):  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_parts(self, proba):  # pragma: no cover - abstract
        """``{column: values}`` of ``last_query_``, one value per row of ``proba``."""
        raise NotImplementedError

    def _select(self, query):
        proba = query.estimator.predict_proba(query.X_pool)
        scores = self._uncertainty(proba)
        idx = top_k(scores, query.n_instances, query.rng)
        parts = {k: np.asarray(v)[idx] for k, v in self._score_parts(proba).items()}
        self._record_query(idx, scores[idx], parts=parts, n_scored=len(scores))
        return idx, scores[idx]


@Substitution(**_DOCS)
class EntropySampling(_ProbaStrategy):
    """Highest predictive entropy of the robust model.

    The score is ``-sum_c p_c log p_c`` (nats); ties are broken by
    ``random_state``.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``entropy`` (nats; equal to ``score``).

    See Also
    --------
    MarginSampling : Smallest margin between the two most probable classes.
    LeastConfidenceSampling : Lowest probability of the predicted class.
    WorstGroupSampling : Entropy inside the validation-worst group.

    References
    ----------
    .. [1] C. E. Shannon, "A Mathematical Theory of Communication", Bell
       System Technical Journal 27, 1948.
    .. [2] B. Settles, "Active Learning Literature Survey", University of
       Wisconsin-Madison, Computer Sciences Technical Report 1648, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.query import EntropySampling
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> X = np.random.RandomState(0).randn(40, 2).astype("float32")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=2, adversarial=None,
    ...                                 max_epochs=2).fit(X, (X[:, 0] > 0).astype(int))
    >>> idx, scores = EntropySampling(max_candidates=20, random_state=0)(net, X, 3)
    >>> len(set(idx.tolist()))
    3
    """

    def _uncertainty(self, proba):
        return entropy(proba)

    def _score_parts(self, proba):
        return {"entropy": entropy(proba)}


@Substitution(**_DOCS)
class MarginSampling(_ProbaStrategy):
    """Smallest margin between the two most probable classes.

    The score is ``-(p_1 - p_2)`` so that larger is more informative.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``margin``, ``p_1 - p_2`` (``score`` is its negative).

    See Also
    --------
    EntropySampling : Highest predictive entropy.
    LeastConfidenceSampling : Lowest probability of the predicted class.

    References
    ----------
    .. [1] T. Scheffer, C. Decomain and S. Wrobel, "Active Hidden Markov
       Models for Information Extraction", IDA 2001.
    """

    def _uncertainty(self, proba):
        return -self._score_parts(proba)["margin"]

    def _score_parts(self, proba):
        part = np.sort(np.asarray(proba, dtype=np.float64), axis=1)
        if part.shape[1] < 2:
            return {"margin": np.zeros(len(part))}
        return {"margin": part[:, -1] - part[:, -2]}


@Substitution(**_DOCS)
class LeastConfidenceSampling(_ProbaStrategy):
    """Lowest probability of the predicted class.

    The score is ``1 - max_c p_c``.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``confidence``, ``max_c p_c`` (``score`` is
        ``1 - confidence``).

    See Also
    --------
    EntropySampling : Highest predictive entropy.
    MarginSampling : Smallest margin between the two most probable classes.

    References
    ----------
    .. [1] D. D. Lewis and W. A. Gale, "A Sequential Algorithm for Training
       Text Classifiers", SIGIR 1994.
    """

    def _uncertainty(self, proba):
        return 1.0 - self._score_parts(proba)["confidence"]

    def _score_parts(self, proba):
        return {"confidence": np.asarray(proba, dtype=np.float64).max(axis=1)}
