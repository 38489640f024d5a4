"""Labels in the net's label space -> class indices (numpy only)."""

import numpy as np

__all__ = ["encode_labels"]


def _is_range(classes):
    return (
        classes.dtype.kind in "iu"
        and classes.ndim == 1
        and np.array_equal(classes, np.arange(len(classes)))
    )


def encode_labels(net, y, n_samples, name="y"):
    """Map labels in the net's label space to class indices (int64).

    The labels a net was fitted on (``net.classes_``: ints, strings, ...) become
    the indices of its output columns, with clear errors for a wrong shape, a
    wrong length or labels the net does not know. Attacks and query
    strategies use it to check labels once and hand the indices to torch.

    Parameters
    ----------
    net : fitted skorch classifier
        Any object with a ``classes_`` array (the label of each output column).
    y : array-like of shape (n_samples,) or (n_samples, 1)
        Labels among ``net.classes_``.
    n_samples : int
        Expected number of labels (the number of samples of ``X``).
    name : str, default="y"
        Argument name used in error messages.

    Returns
    -------
    indices : ndarray of int64, shape (n_samples,)
        Position of each label in ``net.classes_``.

    Raises
    ------
    ValueError
        When ``y`` is not 1-d, has another length than ``n_samples`` or holds
        labels outside ``net.classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(classes_=np.array(["no", "yes"]))
    >>> encode_labels(net, ["yes", "no", "yes"], 3)
    array([1, 0, 1])
    """
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}: expected a 1-d array of labels.")
    if len(y) != n_samples:
        raise ValueError(
            f"Inconsistent lengths: X has {n_samples} samples, {name} has {len(y)}: "
            "expected the same number."
        )
    classes = np.asarray(net.classes_)
    if _is_range(classes) and y.dtype.kind in "iu":
        # classes 0..K-1 (the common case): the label is its own index
        ok = (y >= 0) & (y < len(classes))
        if ok.all():
            return y.astype(np.int64)
    ok = np.zeros(len(y), dtype=bool)
    idx = np.zeros(len(y), dtype=np.int64)
    try:
        order = np.argsort(classes, kind="stable")
        pos = np.clip(np.searchsorted(classes, y, sorter=order), 0, len(classes) - 1)
        idx = order[pos]
        ok = np.asarray(classes[idx] == y, dtype=bool)
    except TypeError:
        pass
    if not ok.all():
        unknown = list(dict.fromkeys(y[~ok].tolist()))[:5]
        raise ValueError(
            f"{name} contains labels {unknown} that the net was not fitted on: "
            f"expected labels among {classes.tolist()}."
        )
    return idx.astype(np.int64)
