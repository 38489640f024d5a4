"""Looking inside estimators: pipelines, embeddings, gradient embeddings.

Strategies and metrics call these with numpy in, numpy out; torch stays here.
"""

import contextlib

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from skorch import NeuralNet
from skorch.utils import is_dataset

from ._skorch_plumbing import eval_mode

__all__ = [
    "split_estimator",
    "penultimate_embedding",
    "gradient_embedding",
    "final_net",
    "set_final_params",
]


def _identity(X):
    return X


def final_net(estimator):
    """The skorch net at the end of ``estimator`` (itself, or a Pipeline's end).

    Parameters
    ----------
    estimator : skorch NeuralNet or Pipeline
        A net, or a :class:`~sklearn.pipeline.Pipeline` (nested ones too)
        whose last step is one.

    Returns
    -------
    net : object
        The last step (the estimator itself when it is not a Pipeline).

    See Also
    --------
    split_estimator : The net and the transform before it.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier, final_net
    >>> net = RobustNeuralNetClassifier(MLP)
    >>> final_net(make_pipeline(StandardScaler(), net)) is net
    True
    """
    if isinstance(estimator, Pipeline):
        return final_net(estimator.steps[-1][1])
    return estimator


def split_estimator(estimator, *, require_fitted=True):
    """Split ``estimator`` into ``(transform, net)``.

    ``transform(X)`` applies every pipeline step before the net (the identity for
    a bare net); attacks, embeddings and gradients are taken in the net's input
    space, i.e. on ``transform(X)``.

    Parameters
    ----------
    estimator : skorch NeuralNet or Pipeline
        A net, or a Pipeline whose last step is one.
    require_fitted : bool, default=True
        Raise ``NotFittedError`` when the net is not initialised.

    Returns
    -------
    transform : callable
        ``X -> X`` in the net's input space.
    net : skorch NeuralNet
        The final net.

    Raises
    ------
    TypeError
        When the final step is not a skorch ``NeuralNet``.
    NotFittedError
        When the net (or the pipeline) is not fitted.
    """
    if isinstance(estimator, Pipeline):
        net = estimator.steps[-1][1]
        head = estimator[:-1]
        transform = head.transform if len(estimator.steps) > 1 else _identity
    else:
        net, transform = estimator, _identity
    if not isinstance(net, NeuralNet):
        raise TypeError(
            f"estimator={type(net).__name__} is not supported: expected a skfral "
            "RobustNeuralNetClassifier (a skorch net) or a Pipeline ending in one."
        )
    if require_fitted and not getattr(net, "initialized_", False):
        raise NotFittedError(
            f"This {type(net).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )
    return transform, net


def set_final_params(estimator, **params):
    """Set parameters on the skorch net at the end of ``estimator`` (in place)."""
    final_net(estimator).set_params(**params)
    return estimator


def _batches(net, X):
    """Device batches of ``X``: streamed for arrays and lazy arrays (skfral nets),
    skorch's DataLoader otherwise (Datasets, dicts, other skorch nets)."""
    stream = getattr(net, "iter_input_batches", None)
    if callable(stream) and not (
        is_dataset(X) or isinstance(X, dict) or torch.is_tensor(X)
    ):
        for _rows, xb in stream(X):
            yield xb
        return
    dataset = net.get_dataset(X)
    for batch in net.get_iterator(dataset, training=False):
        xb = batch[0] if isinstance(batch, list | tuple) else batch
        yield (
            torch.as_tensor(xb).to(net.device)
            if not torch.is_tensor(xb)
            else xb.to(net.device)
        )


def _inference(net):
    context = getattr(net, "inference_context", None)
    if callable(context):
        return context()
    stack = contextlib.ExitStack()
    stack.enter_context(eval_mode(net))
    stack.enter_context(torch.no_grad())
    return stack


def penultimate_embedding(net, X):
    """Penultimate-layer activations for ``X`` of a net (or a Pipeline ending in one).

    The embedding hook of core-set, BADGE and JIN's diversity: the module's
    ``features(x)`` method when it has one (:class:`~skfral.nn.MLP`,
    :class:`~skfral.nn.SmallCNN`, :class:`~skfral.nn.ResNet18`), else the
    input of its last ``torch.nn.Linear`` (e.g. torchvision's ``fc``). Arrays
    and lazy arrays are streamed in batches of the net's
    ``predict_batch_size`` under its ``amp_dtype``; the output is float32.

    Parameters
    ----------
    net : fitted skorch net or Pipeline ending in one
        The model; a Pipeline's transforms are applied to ``X`` first.
    X : array-like or lazy array
        Inputs.

    Returns
    -------
    embedding : ndarray of float32, shape (n_samples, n_dims)

    Raises
    ------
    NotFittedError
        When the net is not fitted.
    """
    transform, net = split_estimator(net)
    X = transform(X)
    module = net.module_
    features = getattr(module, "features", None)
    out = _RowWriter(X)
    with _inference(net):
        if callable(features):
            for xb in _batches(net, X):
                out.write(features(xb).flatten(1).float().cpu().numpy())
        else:
            linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
            if not linears:
                raise TypeError(
                    f"module {type(module).__name__} has no features() method and no "
                    "torch.nn.Linear layer: cannot take an embedding."
                )
            captured = []
            hook = linears[-1].register_forward_hook(
                lambda _m, inputs, _out: captured.append(
                    inputs[0].flatten(1).float().cpu().numpy()
                )
            )
            try:
                for xb in _batches(net, X):
                    captured.clear()
                    module(xb)
                    out.write(captured[-1])
            finally:
                hook.remove()
    return out.result()


class _RowWriter:
    """Batches of rows written, in order, into one preallocated float32 array
    (no list of batches and no concatenation: the output is held once)."""

    def __init__(self, X):
        shape = getattr(X, "shape", None)
        self.n = int(shape[0]) if shape is not None and len(shape) else None
        self.out = None
        self.parts = []
        self.pos = 0

    def write(self, batch):
        if self.n is None:
            self.parts.append(np.asarray(batch, dtype=np.float32))
            return
        if self.out is None:
            self.out = np.empty((self.n, *batch.shape[1:]), dtype=np.float32)
        self.out[self.pos : self.pos + len(batch)] = batch
        self.pos += len(batch)

    def result(self):
        if self.n is None:
            return np.concatenate(self.parts, axis=0)
        if self.out is None:
            return np.empty((0, 0), dtype=np.float32)
        return self.out


def gradient_embedding(net, X):
    """BADGE gradient embeddings (Ash et al. 2020) for ``X``.

    For cross-entropy with a linear last layer, the gradient of the loss with
    respect to the last layer's weights, at the predicted label ``y_hat``, is
    ``(p - onehot(y_hat)) outer h`` with ``h`` the penultimate activations; it is
    computed in closed form, without back-propagation.

    Parameters
    ----------
    net : fitted skorch net or Pipeline ending in one
        The model; a Pipeline's transforms are applied to ``X`` first.
    X : array-like or lazy array
        Inputs (streamed, as for :func:`penultimate_embedding`).

    Returns
    -------
    embedding : ndarray of float32, shape (n_samples, n_classes * n_dims)

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.
    """
    transform, final = split_estimator(net)
    X = transform(X)
    h = penultimate_embedding(final, X)
    proba = final.predict_proba(X).astype(np.float32)
    coef = proba.copy()
    coef[np.arange(len(coef)), proba.argmax(axis=1)] -= 1.0
    return (coef[:, :, None] * h[:, None, :]).reshape(len(h), -1)
