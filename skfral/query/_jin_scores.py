"""JIN's scoring maths: the divergences ``D`` and scale-free ranks (pure numpy)."""

from numbers import Real

import numpy as np
import pandas as pd

from ..utils._validation import check_option

__all__ = ["AGGREGATIONS", "DISAGREEMENTS", "disagreement_scores"]

DISAGREEMENTS = ("hard", "kl", "js")
AGGREGATIONS = ("sum", "rank")
_EPS = 1e-12


def _is_number_pair(w):
    if not isinstance(w, tuple | list | np.ndarray) or len(w) != 2:
        return False
    return all(isinstance(v, Real) and not isinstance(v, bool | np.bool_) for v in w)


def _kl(p, q):
    p = np.clip(p, _EPS, 1.0)
    q = np.clip(q, _EPS, 1.0)
    return (p * (np.log(p) - np.log(q))).sum(axis=1)


def disagreement_scores(p, q, kind="kl"):
    """Per-sample disagreement ``D(p, q)`` between two probability matrices.

    Parameters
    ----------
    p : ndarray of shape (n_samples, n_classes)
        First probability matrix (rows sum to 1), e.g. the robust model's
        prediction on the benign input.
    q : ndarray of shape (n_samples, n_classes)
        Second probability matrix, e.g. the prediction on the adversarial
        input, or the standard model's.
    kind : {"kl", "js", "hard"}, default="kl"
        ``"kl"``: ``KL(p || q)``; ``"js"``: Jensen-Shannon divergence;
        ``"hard"``: 1 where the arg-max classes differ, else 0. Before the
        logarithms of ``"kl"`` and ``"js"`` the probabilities are clipped to
        ``[1e-12, 1]``: an exact zero counts as ``1e-12``, so the scores stay
        finite.

    Returns
    -------
    scores : ndarray of float of shape (n_samples,)
        One disagreement per row, non-negative.

    See Also
    --------
    JINQueryStrategy : Uses these scores for both of its inconsistencies.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.5, 0.5]])
    >>> q = np.array([[0.2, 0.8], [0.5, 0.5]])
    >>> disagreement_scores(p, q, "hard").tolist()
    [1.0, 0.0]
    >>> bool(disagreement_scores(p, q, "kl")[0] > 0)
    True
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if kind == "kl":
        return _kl(p, q)
    if kind == "js":
        m = 0.5 * (p + q)
        return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)
    if kind == "hard":
        return (p.argmax(axis=1) != q.argmax(axis=1)).astype(np.float64)
    check_option(kind, "disagreement", DISAGREEMENTS)
    return None  # pragma: no cover


def _rank01(v):
    """Ranks scaled to [0, 1] (ties share their mean rank)."""
    if len(v) <= 1:
        return np.zeros(len(v))
    ranks = pd.Series(v).rank(method="average").to_numpy()
    return (ranks - 1) / (len(v) - 1)
