"""Parameter text shared by the metrics' docstrings (written once)."""

import textwrap

from ..utils._docstring import _shared_docs

__all__ = ["metric_docs"]


def _block(text):
    return textwrap.dedent(text).strip("\n")


metric_docs = {
    "estimator": _block(
        """
        estimator : fitted RobustNeuralNetClassifier or Pipeline ending in one
            The model under evaluation (any skorch net works). For a
            ``Pipeline`` the attack works in the last step's input space,
            after every transform."""
    ),
    "X": _block(
        """
        X : array-like, pandas.DataFrame or lazy array of shape (n_samples, ...)
            Inputs, as the estimator takes them (raw columns for a pipeline). A
            lazy array (anything with ``shape`` and ``__getitem__`` that is not
            an ndarray, e.g. :class:`skfral.datasets.LazyImageArray`) is read
            one batch of rows at a time, never whole."""
    ),
    "y": _block(
        """
        y : array-like of shape (n_samples,)
            True labels (any label type the net was fitted on); the attack uses
            them."""
    ),
    "sensitive_features": _shared_docs["sensitive_features"],
    "batch_size": _block(
        """
        batch_size : int or None, default=None
            Rows read, transformed, attacked and predicted at once: memory is
            bounded by this, not by ``n_samples`` (only labels and predictions
            are kept for every sample). ``None`` takes the attack's own
            ``batch_size`` when it has one, else 512."""
    ),
}
