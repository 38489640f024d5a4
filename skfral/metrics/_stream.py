"""Clean and adversarial predictions, batch by batch (bounded memory).

Only labels and predictions are pool-sized: each batch of rows is read (a lazy
array such as :class:`skfral.datasets.LazyImageArray` loads just those rows),
passed through a pipeline's transforms, attacked in the net's input space and
predicted, then dropped. No adversarial copy of ``X`` is ever held whole.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import clone

from ..nn import split_estimator

__all__ = ["iter_row_batches", "predict_clean_and_adv"]


def _is_row_sliceable(X):
    if isinstance(X, np.ndarray | pd.DataFrame | pd.Series | list | tuple):
        return True
    if sparse.issparse(X):
        return True
    return hasattr(X, "shape") and hasattr(X, "__getitem__") and not isinstance(X, dict)


def _rows(X, start, stop):
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[start:stop]
    if isinstance(X, np.ndarray | list | tuple) or sparse.issparse(X):
        return X[start:stop]
    # a lazy array: read these rows only, as a plain ndarray
    return np.asarray(X[start:stop])


def iter_row_batches(X, n_samples, batch_size):
    """Yield ``(start, stop, rows)`` over consecutive row batches of ``X``.

    Arrays, DataFrames, lists and lazy arrays (anything with ``shape`` and
    ``__getitem__``, read with one slice per batch) are cut into batches;
    inputs that cannot be sliced by rows (a dict of arrays, a torch Dataset) are
    given whole, in one batch.
    """
    if not _is_row_sliceable(X):
        yield 0, n_samples, X
        return
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield start, stop, _rows(X, start, stop)


def _per_batch_attacks(attack, n_batches):
    """``attack`` for batch 0; independent, reproducible seeds for later batches.

    An attack with an int ``random_state`` would restart its generator at every
    call, giving every batch the same random start; later batches get clones
    seeded from it instead (the first batch keeps the attack as given, so a
    call on one batch equals ``attack.perturb`` on all rows).
    """
    seed = getattr(attack, "random_state", None)
    if (
        n_batches <= 1
        or not isinstance(seed, Integral)
        or isinstance(seed, bool)
        or not hasattr(attack, "get_params")
        or not hasattr(attack, "set_params")
        # FGSM keeps random_state as an attribute, not a parameter: it is
        # deterministic and set_params(random_state=...) would fail
        or "random_state" not in attack.get_params(deep=False)
    ):
        return lambda k: attack
    seeds = np.random.RandomState(int(seed)).randint(0, 2**31 - 1, size=n_batches)
    return lambda k: (
        attack if k == 0 else clone(attack).set_params(random_state=int(seeds[k]))
    )


def predict_clean_and_adv(
    estimator, X, y, attacks, *, n_samples, batch_size, clean=True
):
    """Predictions on clean inputs and under each attack, batch by batch.

    Parameters
    ----------
    estimator : fitted skorch net or Pipeline ending in one
    X : array-like, DataFrame or lazy array of shape (n_samples, ...)
    y : ndarray of shape (n_samples,)
        True labels (the attacks use them).
    attacks : list of (object with ``perturb(net, X, y)``) or None
        ``None`` entries are skipped (their predictions are ``None``).
    n_samples, batch_size : int
    clean : bool, default=True
        Whether to predict on the clean inputs too (``False``: ``y_clean`` is
        ``None``).

    Returns
    -------
    y_clean : ndarray of shape (n_samples,) or None
    y_advs : list of (ndarray of shape (n_samples,) or None)
        One per attack, in order.
    """
    transform, net = split_estimator(estimator)
    n_batches = max(1, -(-n_samples // batch_size))
    makers = [
        None if attack is None else _per_batch_attacks(attack, n_batches)
        for attack in attacks
    ]
    cleans, advs = [], [[] for _ in attacks]
    for k, (start, stop, rows) in enumerate(iter_row_batches(X, n_samples, batch_size)):
        Xt = transform(rows)
        if clean:
            cleans.append(np.asarray(net.predict(Xt)))
        for j, make in enumerate(makers):
            if make is None:
                continue
            X_adv = make(k).perturb(net, Xt, y[start:stop])
            n_adv = X_adv.shape[0] if hasattr(X_adv, "shape") else len(X_adv)
            if n_adv != stop - start:
                raise ValueError(
                    f"attack.perturb returned {n_adv} samples for {stop - start} "
                    "inputs: expected one adversarial example per sample."
                )
            advs[j].append(np.asarray(net.predict(X_adv)))
            del X_adv
    y_clean = np.concatenate(cleans) if clean else None
    y_advs = [
        None if make is None else np.concatenate(a) for make, a in zip(makers, advs)
    ]
    return y_clean, y_advs
