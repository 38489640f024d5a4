"""The data side of :class:`~skfral.nn.RobustNeuralNetClassifier`.

Module building from the data's shapes, datasets and iterators (lazy arrays
included), devices, streamed batches and the batched no-grad forward passes of
prediction. Moved out of ``_net.py`` as they were (issue 27).
"""

import contextlib
import inspect
import math

import numpy as np
import torch
from skorch.utils import is_dataset
from torch.utils.data import DataLoader

from ..utils._validation import check_int
from ._data import (
    BatchLoader,
    LazyDataset,
    autocast,
    check_amp_dtype,
    default_batch_size,
    is_lazy_array,
    iter_batches,
)
from ._labels import encode_labels
from ._skorch_plumbing import eval_mode
from ._threads import apply_default_threads

_SHAPE_HINTS = ("shape", "size", "dimension", "Expected", "expected")

#: Module ``__init__`` parameters filled from the data at fit (unless given).
FEATURE_PARAMS = ("n_features", "in_channels")
CLASS_PARAMS = ("n_classes", "num_classes")


class _NetIO:
    """Data, devices and batches (a mixin of RobustNeuralNetClassifier)."""

    def _infer_module_params(self, X, y):
        """``module__*`` values read from the data, for those not given."""
        module = self.module
        if isinstance(module, torch.nn.Module):
            return {}
        try:
            params = inspect.signature(module).parameters
        except (TypeError, ValueError):
            return {}
        given = self.get_params_for("module")
        out = {}
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) >= 2:
            if "n_features" in params:
                out["n_features"] = int(math.prod(int(s) for s in shape[1:]))
            if "in_channels" in params and len(shape) >= 3:
                out["in_channels"] = int(shape[1])
        if self.classes is not None:
            n_classes = len(self.classes)
        elif y is not None and not is_dataset(X):
            n_classes = len(np.unique(y))
        else:
            n_classes = None
        if n_classes is not None and n_classes >= 2:
            for name in CLASS_PARAMS:
                if name in params:
                    out[name] = n_classes
        return {k: v for k, v in out.items() if k not in given}

    def initialize_module(self):
        """Build the module from ``module__*`` and the values inferred at fit."""
        kwargs = {
            **self.__dict__.get("_module_params", {}),
            **self.get_params_for("module"),
        }
        seed = self._draw_seed()
        context = contextlib.nullcontext()
        if seed is not None:
            context = torch.random.fork_rng(devices=[])
        with context:
            if seed is not None:
                torch.manual_seed(seed)
            try:
                module = self.initialized_instance(self.module, kwargs)
            except TypeError as exc:
                missing = [
                    p
                    for p in FEATURE_PARAMS + CLASS_PARAMS
                    if f"'{p}'" in str(exc) and "missing" in str(exc)
                ]
                if not missing:
                    raise
                raise TypeError(
                    f"module {getattr(self.module, '__name__', self.module)!r} needs "
                    f"{', '.join(missing)}: fit the net (they are read from X and y) "
                    f"or pass module__{missing[0]}=... ({exc})"
                ) from None
        if self.channels_last and isinstance(module, torch.nn.Module):
            module = module.to(memory_format=torch.channels_last)
        self.module_ = module
        apply_default_threads(module)  # threads from the model and cores (_threads)
        return self

    def get_dataset(self, X, y=None):
        """skorch's dataset, or a :class:`LazyDataset` for a lazy array.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs.
        y : array-like or None, default=None
            Labels in the net's label space (encoded to class indices here).

        Returns
        -------
        dataset : torch Dataset
        """
        scope = self.__dict__.get("_fit_data")
        if scope is None or X is not scope:
            X = self._validate_X(X)
            if y is None:
                # Prediction, embeddings: X must look like the training data.
                self._check_n_features(X, reset=False)
        if y is not None and not is_dataset(X):
            y = encode_labels(self, y, X.shape[0] if hasattr(X, "shape") else len(X))
        if is_lazy_array(X):
            return LazyDataset(X, y)
        return super().get_dataset(X, y)

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; lazy arrays get a prefetching batch loader.

        Parameters
        ----------
        dataset : torch Dataset
            As returned by :meth:`get_dataset`.
        training : bool, default=False
            Use the training iterator's settings.

        Returns
        -------
        iterator : iterable of batches
        """
        iterator = self.iterator_train if training else self.iterator_valid
        if isinstance(dataset, LazyDataset) and iterator is DataLoader:
            prefix = "iterator_train" if training else "iterator_valid"
            kwargs = self.get_params_for(prefix)
            batch_size = kwargs.get("batch_size", self.batch_size)
            if batch_size == -1:
                batch_size = len(dataset)
            shuffle = bool(kwargs.get("shuffle", False)) and training
            return BatchLoader(dataset, batch_size, shuffle=shuffle)
        return super().get_iterator(dataset, training=training)

    def infer(self, x, **fit_params):
        """The module's output on ``x``, with a clear error for a misfit input.

        Parameters
        ----------
        x : torch.Tensor or dict
            A batch of inputs.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        torch.Tensor
        """
        try:
            return super().infer(x, **fit_params)
        except RuntimeError as exc:
            if torch.is_tensor(x) and any(h in str(exc) for h in _SHAPE_HINTS):
                raise ValueError(
                    f"X with samples of shape {tuple(x.shape[1:])} does not fit the "
                    f"module {type(self.module_).__name__}: {exc}. Check the number "
                    "of features (e.g. module__n_features) or the image shape."
                ) from exc
            raise

    # infer only translates errors: attacks may call module_ directly.
    infer.__skfral_plain_infer__ = True

    def _to_device(self, xb):
        """A batch (numpy or tensor) as a float tensor on the net's device."""
        x = torch.as_tensor(xb)
        if self.device is not None:
            x = x.to(self.device, non_blocking=True)
        if not torch.is_floating_point(x):
            x = x.float()
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def inference_context(self):
        """Eval mode, no gradient and the net's ``amp_dtype`` autocast, as one context.

        Returns
        -------
        contextlib.ExitStack
            Use as ``with net.inference_context(): net.infer(x)``.
        """
        stack = contextlib.ExitStack()
        stack.enter_context(eval_mode(self))
        stack.enter_context(torch.no_grad())
        stack.enter_context(self.autocast())
        return stack

    def autocast(self):
        """``torch.autocast`` for the net's ``device`` and ``amp_dtype`` (a no-op when None).

        Attacks and embeddings wrap their forward passes in it so that they
        compute in the precision the net trains in.

        Returns
        -------
        torch.autocast
        """
        dtype = None
        if self.amp_dtype is not None:
            dtype = check_amp_dtype(self.amp_dtype, self.device)
        return autocast(self.device, dtype)

    def iter_input_batches(self, X):
        """Validated input batches of ``X`` on the net's device, pool-size free.

        ``X`` is checked once (an in-memory array as a whole; a lazy array by
        its shape, then each batch as it is read). The batch size is
        ``predict_batch_size`` (``None``: the rule of the class docstring).

        Parameters
        ----------
        X : array-like or lazy array
            Inputs in the net's input space.

        Yields
        ------
        rows : slice or ndarray of int
            The rows of ``X`` in the batch.
        xb : torch.Tensor
            The batch, float, on ``self.device``.
        """
        yield from self._stream(self._validated_for_streaming(X))

    def _validated_for_streaming(self, X):
        X = self._validate_X(X)
        if is_dataset(X) or isinstance(X, dict) or torch.is_tensor(X):
            raise TypeError(
                f"X of type {type(X).__name__} cannot be streamed: expected an "
                "array or a lazy array."
            )
        self._check_n_features(X, reset=False)
        return X

    def _stream(self, X):
        batch_size = self.predict_batch_size
        if batch_size is None:
            batch_size = default_batch_size(X.shape[1:])
        else:
            batch_size = check_int(batch_size, "predict_batch_size", min_value=1)
        for rows, xb in iter_batches(X, batch_size):
            yield rows, self._to_device(xb)

    def _fast_predict_proba(self, X):
        """Batched no-grad forward passes over an array or a lazy array.

        Same result as skorch's ``predict_proba`` (eval mode, no gradient, the
        predict nonlinearity) without its per-sample DataLoader; memory is one
        batch plus the output.
        """
        X = self._validated_for_streaming(X)
        nonlin = self._get_predict_nonlinearity()
        out = None
        with self.inference_context():
            for rows, xb in self._stream(X):
                yp = self.infer(xb)
                yp = yp[0] if isinstance(yp, tuple) else yp
                proba = nonlin(yp.float()).detach().cpu().numpy()
                if out is None:
                    out = np.empty(
                        (int(X.shape[0]), *proba.shape[1:]), dtype=proba.dtype
                    )
                out[rows] = proba
        if out is None:
            return np.empty((0, len(self.classes_)), dtype=np.float32)
        return out
