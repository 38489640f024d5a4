"""Diversity baselines on network embeddings: core-set and BADGE."""

import numpy as np

from ..nn import gradient_embedding, penultimate_embedding, split_estimator
from ..utils._docstring import Substitution, _shared_docs
from ._base import BaseQueryStrategy, _query_docs

_DOCS = {
    "max_candidates": _shared_docs["max_candidates"],
    "random_state": _shared_docs["random_state"],
    "last_query": _query_docs["last_query"],
}

__all__ = ["CoreSetSampling", "BADGESampling"]


def _sq_dist_to(points, centers, chunk=4096):
    """Squared distance of each row of ``points`` to its nearest row of ``centers``."""
    best = np.full(len(points), np.inf)
    c_norm = (centers**2).sum(axis=1)
    for start in range(0, len(centers), chunk):
        c = centers[start : start + chunk]
        d = (
            (points**2).sum(axis=1)[:, None]
            - 2 * points @ c.T
            + c_norm[None, start : start + chunk]
        )
        best = np.minimum(best, d.min(axis=1))
    return np.maximum(best, 0.0)


def _embed(estimator, X, kind):
    transform, net = split_estimator(estimator)
    Xt = transform(X)
    fn = penultimate_embedding if kind == "penultimate" else gradient_embedding
    return fn(net, Xt).astype(np.float64)


@Substitution(**_DOCS)
class CoreSetSampling(BaseQueryStrategy):
    """k-center greedy core-set selection.

    Repeatedly picks the pool sample farthest (in the robust net's
    penultimate-layer embedding) from the labelled set and the samples already
    picked. The score of a pick is its distance at the time it was chosen.
    The labelled set is ``X_labelled`` (or a modAL learner's ``X_training``);
    without one the first pick is a seeded random pool sample (its score is
    ``1e300``, standing for an infinite distance). Exact ties go to a seeded
    random one of the tied samples.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``distance``, the embedding distance to the nearest
        labelled sample or earlier pick when it was chosen (``inf`` for a
        first pick without a labelled set, whose ``score`` is ``1e300``).

    See Also
    --------
    BADGESampling : k-means++ on gradient embeddings (uncertain and diverse).
    JINQueryStrategy : JIN's optional k-center diversity inside its batch.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional
       Neural Networks: A Core-Set Approach", ICLR 2018.
    """

    def _select(self, query):
        rng, n_instances = query.rng, query.n_instances
        emb_pool = _embed(query.estimator, query.X_pool, "penultimate")
        X_lab = query.X_labelled
        if X_lab is not None and len(X_lab):
            dist = _sq_dist_to(emb_pool, _embed(query.estimator, X_lab, "penultimate"))
        else:
            dist = np.full(len(emb_pool), np.inf)
        picked, scores, distances = [], [], []
        # Ties (every sample, without a labelled set) go to the largest of a
        # seeded random key: adding a tiny jitter to 1e300 would be lost.
        tie_key = rng.random_sample(len(emb_pool))
        for _ in range(n_instances):
            cand = np.where(np.isinf(dist), 1e300, dist)
            cand[picked] = -np.inf
            ties = np.flatnonzero(cand == cand.max())
            i = int(ties[np.argmax(tie_key[ties])])
            picked.append(i)
            distances.append(float(np.sqrt(dist[i])))
            scores.append(distances[-1] if np.isfinite(dist[i]) else 1e300)
            dist = np.minimum(dist, ((emb_pool - emb_pool[i]) ** 2).sum(axis=1))
        self._record_query(
            picked, scores, parts={"distance": distances}, n_scored=len(emb_pool)
        )
        return np.asarray(picked), np.asarray(scores)


@Substitution(**_DOCS)
class BADGESampling(BaseQueryStrategy):
    """Batch Active learning by Diverse Gradient Embeddings (BADGE).

    k-means++ seeding on the gradient embeddings ``(p - onehot(y_hat)) outer h``
    of the last layer: picks are both uncertain (large gradient) and diverse.
    The first pick is the largest gradient; the score of a pick is its squared
    distance to the picks before it.

    Parameters
    ----------
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``gradient_norm``, the Euclidean norm of the pick's
        gradient embedding, and ``squared_distance``, its squared distance to
        the nearest earlier pick (the k-means++ weight; ``NaN`` for the first
        pick, whose ``score`` is the squared norm).

    See Also
    --------
    CoreSetSampling : k-center greedy on penultimate embeddings.
    EntropySampling : Uncertainty alone.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.
    """

    def _select(self, query):
        rng, n_instances = query.rng, query.n_instances
        g = _embed(query.estimator, query.X_pool, "gradient")
        norms = (g**2).sum(axis=1)
        first = int(np.lexsort((rng.permutation(len(g)), -norms))[0])
        picked, scores = [first], [float(norms[first])]
        sq_dist = [np.nan]  # the first pick has no earlier pick
        dist = ((g - g[first]) ** 2).sum(axis=1)
        while len(picked) < n_instances:
            weights = dist.copy()
            weights[picked] = 0.0
            total = weights.sum()
            if total <= 0 or not np.isfinite(total):
                rest = np.setdiff1d(np.arange(len(g)), picked)
                i = int(rng.choice(rest))
            else:
                i = int(rng.choice(len(g), p=weights / total))
            picked.append(i)
            scores.append(float(dist[i]))
            sq_dist.append(float(dist[i]))
            dist = np.minimum(dist, ((g - g[i]) ** 2).sum(axis=1))
        parts = {"gradient_norm": np.sqrt(norms[picked]), "squared_distance": sq_dist}
        self._record_query(picked, scores, parts=parts, n_scored=len(g))
        return np.asarray(picked), np.asarray(scores)
