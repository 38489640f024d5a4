"""Feeding the nets: batches of in-memory and lazy arrays, batch sizes, devices.

Every pass of a net over a pool (prediction, embeddings, training on a lazy
array) goes through :func:`iter_batches`: its memory is that of one or two
batches, never of the pool. A *lazy array* is anything with ``shape`` and
``__getitem__`` that is not a numpy array, a pandas object, a tensor, a sparse
matrix, a dict or a torch Dataset (e.g. :class:`skfral.datasets.LazyImageArray`):
it is read with ``X[rows]`` one batch at a time, and the next batch is read
in a background thread while the current one is computed on.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from skorch.utils import is_dataset

from ..utils._validation import check_int

__all__ = [
    "BATCH_BYTES",
    "MAX_BATCH_SIZE",
    "AMP_DTYPES",
    "autocast",
    "check_device",
    "check_lazy_array",
    "default_batch_size",
    "is_lazy_array",
    "iter_batches",
    "load_rows",
]

#: Input bytes per prediction batch when ``predict_batch_size=None``.
BATCH_BYTES = 8 * 2**20
#: Upper bound of the automatic prediction batch size.
MAX_BATCH_SIZE = 4096
#: Names accepted by ``amp_dtype``.
AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def is_lazy_array(X):
    """Whether ``X`` is read batch by batch (``shape`` + ``__getitem__``, not in memory).

    Examples
    --------
    >>> import numpy as np
    >>> is_lazy_array(np.zeros((2, 3)))
    False
    >>> class Lazy:
    ...     shape = (10, 3, 4, 4)
    ...     def __getitem__(self, rows):
    ...         return np.zeros((len(rows), 3, 4, 4), "float32")
    >>> is_lazy_array(Lazy())
    True
    """
    if isinstance(X, np.ndarray | pd.DataFrame | pd.Series | dict | list | tuple):
        return False
    if torch.is_tensor(X) or sp.issparse(X) or is_dataset(X):
        return False
    return hasattr(X, "shape") and hasattr(X, "__getitem__")


def check_lazy_array(X, name="X"):
    """Check a lazy array's shape (nothing is read): at least 2-d, rows, features."""
    try:
        shape = tuple(int(s) for s in X.shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} of type {type(X).__name__} has shape {X.shape!r}: expected a "
            "tuple of ints (n_samples, ...)."
        ) from None
    if len(shape) < 2:
        raise ValueError(
            f"{name} has shape {shape}: expected at least 2 dimensions "
            "(n_samples, n_features) or (n_samples, channels, height, width)."
        )
    if shape[0] == 0:
        raise ValueError(f"{name} has 0 samples: expected at least 1.")
    if not math.prod(shape[1:]):
        raise ValueError(f"{name} has shape {shape}: a sample has no feature.")
    return shape


def default_batch_size(sample_shape, *, itemsize=4, budget=BATCH_BYTES):
    """Rows per prediction batch: ``budget // bytes per sample``, clamped to [1, 4096].

    With the default 8 MiB budget: tabular rows get 4096, a 3x32x32 image
    682 and a 3x64x64 image 170, so the memory of a batch (input and
    activations) stays about the same whatever the input size.

    Examples
    --------
    >>> default_batch_size((20,)), default_batch_size((3, 32, 32))
    (4096, 682)
    >>> default_batch_size((3, 64, 64))
    170
    """
    per_sample = max(1, itemsize * math.prod(int(s) for s in sample_shape))
    return int(max(1, min(MAX_BATCH_SIZE, budget // per_sample)))


def load_rows(X, rows, name="X"):
    """``X[rows]`` of a lazy array as a finite float32 array, checked."""
    batch = np.asarray(X[rows])
    expected = (len(rows), *tuple(X.shape[1:]))
    if batch.shape != expected:
        raise ValueError(
            f"{name}[rows] returned shape {batch.shape} for {len(rows)} rows: "
            f"expected {expected} (a lazy array must return stacked samples)."
        )
    if batch.dtype == object or not np.issubdtype(batch.dtype, np.number):
        raise ValueError(f"{name} has dtype {batch.dtype}: expected numeric values.")
    batch = batch.astype(np.float32, copy=False)
    if not np.isfinite(batch).all():
        bad = np.flatnonzero(~np.isfinite(batch.reshape(len(batch), -1)).all(axis=1))
        raise ValueError(
            f"{name} contains NaN or infinity in {len(bad)} sample(s) (rows "
            f"{np.asarray(rows)[bad][:5].tolist()}): impute or drop them first."
        )
    return batch


def iter_batches(X, batch_size, *, name="X", order=None):
    """Yield ``(rows, batch)`` over ``X``, ``batch_size`` rows at a time.

    In-memory arrays give views; lazy arrays are read with ``X[rows]``, the
    next batch in a background thread while the caller works on the current
    one (at most two batches are held).

    Parameters
    ----------
    X : ndarray or lazy array
        The inputs (an ndarray is expected to be validated already).
    batch_size : int
        Rows per batch.
    name : str, default="X"
        Argument name used in error messages.
    order : ndarray of int or None, default=None
        Rows in the order to visit them (``None``: ``0..n-1``).

    Yields
    ------
    rows : ndarray of int or slice
        The rows of the batch.
    batch : ndarray of float32
    """
    n = int(X.shape[0]) if order is None else len(order)
    starts = range(0, n, batch_size)
    if not is_lazy_array(X):
        for start in starts:
            if order is None:
                rows = slice(start, start + batch_size)
            else:
                rows = order[start : start + batch_size]
            yield rows, X[rows]
        return

    def rows_at(start):
        if order is None:
            return np.arange(start, min(start + batch_size, n))
        return np.asarray(order[start : start + batch_size])

    starts = list(starts)
    if not starts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skfral-prefetch") as ex:
        rows = rows_at(starts[0])
        future = ex.submit(load_rows, X, rows, name)
        try:
            for nxt in starts[1:] + [None]:
                batch = future.result()
                current = rows
                if nxt is not None:
                    rows = rows_at(nxt)
                    future = ex.submit(load_rows, X, rows, name)
                yield current, batch
        finally:
            future.cancel()


def check_device(device, name="device"):
    """Validate a torch device setting; ``None`` is skorch's "leave as it is".

    Raises a ``ValueError`` naming the argument for an unknown device or one
    this machine does not have (e.g. ``"cuda"`` without CUDA).

    Examples
    --------
    >>> check_device("cpu")
    'cpu'
    >>> check_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not a torch device: expected 'cpu', 'cuda', 'cuda:N' or 'mps'.
    """
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{name}={device!r} is not a torch device: expected 'cpu', 'cuda', "
            "'cuda:N' or 'mps'."
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}={device!r} but CUDA is not available (torch "
                f"{torch.__version__}): use {name}='cpu', or install a CUDA build "
                "of torch on a machine with a GPU."
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"{name}={device!r} but this machine has {count} CUDA device(s): "
                f"expected an index below {count}."
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"{name}={device!r} but MPS is not available: use {name}='cpu'."
            )
    return device


def check_amp_dtype(amp_dtype, device, name="amp_dtype"):
    """``None`` or the torch dtype of a mixed-precision setting, checked."""
    if amp_dtype is None:
        return None
    if not isinstance(amp_dtype, str) or amp_dtype not in AMP_DTYPES:
        raise ValueError(
            f"{name}={amp_dtype!r} is not valid: expected None, 'bfloat16' or "
            "'float16'."
        )
    if amp_dtype == "float16" and _device_type(device) != "cuda":
        raise ValueError(
            f"{name}='float16' needs device='cuda' (float16 autocast with a "
            f"gradient scaler); device={device!r}: use {name}='bfloat16' on the CPU."
        )
    return AMP_DTYPES[amp_dtype]


def _device_type(device):
    return "cpu" if device is None else torch.device(device).type


def autocast(device, dtype):
    """``torch.autocast`` for ``device`` with ``dtype``, or a no-op when ``dtype`` is None."""
    if dtype is None:
        return torch.autocast(_device_type(device), enabled=False)
    return torch.autocast(_device_type(device), dtype=dtype)


def check_batch_size(value, name):
    """``None`` (automatic) or a positive int."""
    if value is None:
        return None
    return check_int(value, name, min_value=1)


# ------------------------------------------------------------------ training
class LazyDataset(torch.utils.data.Dataset):
    """Training data over a lazy array: rows are read when a batch needs them.

    Parameters
    ----------
    X : lazy array
        The inputs (see :func:`is_lazy_array`).
    y : ndarray of int64 or None
        Encoded labels.
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return int(self.X.shape[0])

    def __getitem__(self, i):
        x = load_rows(self.X, np.array([i]))[0]
        return x, (0 if self.y is None else self.y[i])


class BatchLoader:
    """Mini-batches of a :class:`LazyDataset`, each read in one ``X[rows]`` call.

    The next batch is read in a background thread while the current one
    trains. ``shuffle`` draws the order from torch's RNG (the net's private
    stream during a seeded fit).
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = torch.randperm(n).numpy() if self.shuffle else None
        y = self.dataset.y
        for rows, xb in iter_batches(self.dataset.X, self.batch_size, order=order):
            yb = np.zeros(len(xb), np.int64) if y is None else np.asarray(y)[rows]
            yield torch.from_numpy(xb), torch.as_tensor(yb)


# -------------------------------------------------------------- augmentation
AUGMENTATIONS = ("crop", "flip", "crop_flip")


def augment_batch(x, kind, padding, generator):
    """Random crop with zero padding and/or horizontal flip of an NCHW batch.

    Per-sample offsets and flips are drawn on the CPU from ``generator`` (so
    a seeded net gives the same augmentations) and applied on ``x``'s device
    without leaving it.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
    kind : {"crop", "flip", "crop_flip"}
    padding : int
        Zero padding on each side before cropping back to ``H x W``.
    generator : torch.Generator or None

    Returns
    -------
    torch.Tensor of ``x``'s shape
    """
    n, _, h, w = x.shape
    if kind in ("crop", "crop_flip") and padding > 0:
        offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator)
        offsets = offsets.to(x.device)
        padded = torch.nn.functional.pad(x, (padding,) * 4)
        rows = offsets[0][:, None] + torch.arange(h, device=x.device)  # (n, h)
        cols = offsets[1][:, None] + torch.arange(w, device=x.device)  # (n, w)
        index = torch.arange(n, device=x.device)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[index, chans, rows[:, None, :, None], cols[:, None, None, :]]
    if kind in ("flip", "crop_flip"):
        flip = torch.rand(n, generator=generator) < 0.5
        x = torch.where(flip.to(x.device)[:, None, None, None], x.flip(3), x)
    return x
