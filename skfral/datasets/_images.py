"""LazyImageArray and the path checks shared by the image loaders (numpy + PIL only).

Every file path is resolved and must stay inside the folder the user gave; a
symbolic link or a ``..`` that leads out of it is refused, when the list of
files is built and again when an image is read.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from pathlib import Path

import numpy as np
from PIL import Image

from ..utils._validation import check_int

__all__ = ["LazyImageArray"]


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------


def _check_root(path, what):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path={path!r} has type {type(path).__name__}: expected a str or "
            f"os.PathLike naming the local {what} folder."
        )
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"path={str(path)!r} is not an existing folder: expected the local {what} "
            "folder (skfral never downloads it; see the loader's docstring for the "
            "layout)."
        )
    return root.resolve()


def _resolve_inside(root, relative, what="file"):
    """Resolved ``root / relative``; refuse anything outside ``root``."""
    candidate = root / relative
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(
            f"{what} {str(relative)!r} resolves to {str(resolved)!r}, outside the data "
            f"folder {str(root)!r}: refusing to follow it (a symbolic link or '..' "
            "leaving the folder)."
        )
    return resolved


def _check_files_exist(paths, relpaths, root, what):
    missing = [rel for p, rel in zip(paths, relpaths) if not p.is_file()]
    if missing:
        shown = ", ".join(repr(str(m)) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise FileNotFoundError(
            f"{len(missing)} {what} image file(s) listed but not found under "
            f"{str(root)!r}: {shown}{more}."
        )


def _check_size(size):
    if isinstance(size, Integral) and not isinstance(size, bool):
        size = (size, size)
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ValueError(
            f"size={size!r} is invalid: expected (height, width), two positive "
            "integers, or one integer for a square."
        ) from None
    return (
        check_int(height, "size[0] (height)", min_value=1),
        check_int(width, "size[1] (width)", min_value=1),
    )


def _load_image(path, root, size):
    """One image as float32 (3, height, width) in [0, 1]."""
    path = Path(path)
    if not path.resolve().is_relative_to(root):  # re-checked: files can change
        raise ValueError(
            f"image {str(path)!r} now resolves outside the data folder {str(root)!r}: "
            "refusing to follow it."
        )
    height, width = size
    try:
        with Image.open(path) as im:
            im.draft("RGB", (width, height))
            im = im.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.float32)
    except OSError as exc:  # FileNotFoundError, UnidentifiedImageError, truncated files
        raise ValueError(f"could not read image {str(path)!r}: {exc}") from exc
    return arr.transpose(2, 0, 1) / np.float32(255.0)


# ---------------------------------------------------------------------------
# Parallel decoding
# ---------------------------------------------------------------------------

_DEFAULT_MAX_THREADS = 8
_POOLS = {}
_POOLS_LOCK = threading.Lock()


def _check_n_jobs(n_jobs):
    """``n_jobs`` as given, after checking it (None, -1 or a positive int)."""
    if n_jobs is None:
        return None
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(
            f"n_jobs={n_jobs} is invalid: expected None, -1 (every CPU) or a positive "
            "number of threads."
        )
    return n_jobs


def _n_threads(n_jobs):
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        return max(1, min(cpus, _DEFAULT_MAX_THREADS))
    return cpus if n_jobs == -1 else n_jobs


def _pool(n_threads):
    """A thread pool shared by every array of this process (re-made after a fork)."""
    key = (os.getpid(), n_threads)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = ThreadPoolExecutor(n_threads, thread_name_prefix="skfral-decode")
            _POOLS[key] = pool
    return pool


def _parallel_map(func, n_items, n_jobs):
    """Call ``func(start, stop)`` over ``range(n_items)`` in chunks, on threads.

    PIL releases the GIL while it decodes and resizes, so threads decode
    images in parallel. Small jobs run on the calling thread.
    """
    n_threads = min(_n_threads(n_jobs), n_items)
    nested = threading.current_thread().name.startswith("skfral-decode")
    if n_threads <= 1 or n_items < 4 or nested:  # nested: never wait on our own pool
        func(0, n_items)
        return
    bounds = np.linspace(0, n_items, 4 * n_threads + 1).astype(int)
    futures = [
        _pool(n_threads).submit(func, int(a), int(b))
        for a, b in zip(bounds[:-1], bounds[1:])
        if b > a
    ]
    for future in futures:  # re-raise the first error, in order
        future.result()


def _decode_into(out, paths, root, size, n_jobs):
    """Decode ``paths`` into the preallocated ``out`` (k, 3, height, width)."""

    def work(start, stop):
        for i in range(start, stop):
            out[i] = _load_image(paths[i], root, size)

    _parallel_map(work, len(paths), n_jobs)
    return out


# ---------------------------------------------------------------------------
# A cheap check that a file is an image, without decoding it
# ---------------------------------------------------------------------------

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def _image_problem(path):
    """Why ``path`` is not a readable image (a short reason), or None.

    Reads the first and last bytes only: the format's signature, and for JPEG
    and PNG the end marker a truncated download lacks. A file that passes can
    still fail to decode later (damage inside it); that error names the file.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64))
            tail = fh.read()
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    if size == 0:
        return "empty file"
    kind = next((k for magic, k in _SIGNATURES if head.startswith(magic)), None)
    if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "webp"
    if kind is None:
        return "not an image file (unknown format)"
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if kind == "png" and b"IEND" not in tail:
        return "truncated PNG (no IEND chunk)"
    return None


def _find_unreadable(paths, n_jobs):
    """``{position: reason}`` for the files of ``paths`` that are not images."""
    problems = [None] * len(paths)

    def work(start, stop):
        for i in range(start, stop):
            problems[i] = _image_problem(paths[i])

    _parallel_map(work, len(paths), n_jobs)
    return {i: p for i, p in enumerate(problems) if p is not None}


# ---------------------------------------------------------------------------
# LazyImageArray
# ---------------------------------------------------------------------------


class LazyImageArray:
    """Images on disk that behave like a float32 NCHW array, loaded on indexing.

    Indexing with an int returns one image of shape ``(3, height, width)``;
    a slice, an integer array or a boolean mask returns a stacked array of
    shape ``(k, 3, height, width)``, decoded in parallel on ``n_jobs``
    threads (PIL releases the GIL while decoding). Images are converted to
    RGB (grayscale and palette images are expanded, an alpha channel is
    dropped), resized to ``size`` whatever their own size (bilinear, the
    aspect ratio is not kept) and scaled to [0, 1]. Nothing is cached, so
    memory use stays that of the requested rows: read a large array in
    batches (``lazy[i:i + 256]``). ``np.asarray(lazy)`` loads everything at
    once; nothing in skfral calls it.

    Parameters
    ----------
    paths : sequence of str or path-like
        Image files, relative to ``root`` (or absolute, inside ``root``).
    root : str or path-like
        Folder that every image must resolve into (symbolic links leaving it
        are refused, at construction and again when an image is read).
    size : int or tuple of (int, int), default=(32, 32)
        Output ``(height, width)``.
    n_jobs : int or None, default=None
        Threads that decode a batch: ``None`` uses ``min(8, os.cpu_count())``,
        ``-1`` every CPU, ``1`` decodes on the calling thread. The threads
        are shared by every array of the process; an array holds none (it
        pickles as a list of paths).

    Attributes
    ----------
    shape : tuple of int
        ``(n_images, 3, height, width)``.
    dtype : numpy.dtype
        ``float32``.
    ndim : int
        4.
    filenames : ndarray of str
        The image paths relative to ``root``.
    n_jobs : int or None
        As given; may be changed on an existing array.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import LazyImageArray
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)  # a folder in the data set's layout
    >>> for i in range(3):
    ...     Image.new("RGB", (4, 4), (255, 0, 0)).save(folder / f"{i}.png")
    >>> images = LazyImageArray(["0.png", "1.png", "2.png"], root=folder, size=(2, 2))
    >>> images.shape, images.dtype
    ((3, 3, 2, 2), dtype('float32'))
    >>> images[[0, 2]].shape, float(images[1][0, 0, 0])
    ((2, 3, 2, 2), 1.0)
    >>> tmp.cleanup()
    """

    def __init__(self, paths, *, root, size=(32, 32), n_jobs=None):
        root = _check_root(root, "image")
        if isinstance(paths, (str, os.PathLike)):
            raise TypeError(
                f"paths={paths!r} is a single path: expected a sequence of image paths."
            )
        relpaths = [str(p) for p in paths]
        resolved = [_resolve_inside(root, rel, "image") for rel in relpaths]
        _check_files_exist(resolved, relpaths, root, "listed")
        self._init(root, resolved, relpaths, _check_size(size), _check_n_jobs(n_jobs))

    @classmethod
    def _from_checked(cls, root, resolved, relpaths, size, n_jobs=None):
        self = cls.__new__(cls)
        self._init(root, resolved, relpaths, size, n_jobs)
        return self

    def _init(self, root, resolved, relpaths, size, n_jobs):
        self.root = root
        self.size = tuple(size)
        self.n_jobs = n_jobs
        self._paths = np.array([str(p) for p in resolved], dtype=object)
        self._relpaths = np.array(relpaths, dtype=object)

    @property
    def shape(self):
        return (len(self._paths), 3, *self.size)

    @property
    def dtype(self):
        return np.dtype(np.float32)

    @property
    def ndim(self):
        return 4

    @property
    def filenames(self):
        return self._relpaths.copy()

    def __len__(self):
        return len(self._paths)

    def __repr__(self):
        return (
            f"LazyImageArray(n_images={len(self)}, size={self.size}, "
            f"root={str(self.root)!r})"
        )

    def _rows(self, key):
        """Normalise a row key to (int positions, is_scalar)."""
        n = len(self)
        if isinstance(key, Integral) and not isinstance(key, bool):
            if not -n <= key < n:
                raise IndexError(f"index {key} is out of range for {n} images.")
            return np.array([key % n]), True
        if isinstance(key, slice):
            return np.arange(n)[key], False
        if key is Ellipsis:
            return np.arange(n), False
        arr = np.asarray(key)
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise IndexError(
                    f"boolean index of shape {arr.shape} does not match the {n} images."
                )
            return np.flatnonzero(arr), False
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64), False
        if not np.issubdtype(arr.dtype, np.integer) or arr.ndim != 1:
            raise IndexError(
                f"cannot index a LazyImageArray with {key!r}: expected an int, a "
                "slice, a 1-d integer array or a boolean mask."
            )
        if arr.min() < -n or arr.max() >= n:
            raise IndexError(
                f"index out of range for {n} images: got {arr.min()}..{arr.max()}."
            )
        return arr % n, False

    def __getitem__(self, key):
        if isinstance(key, tuple):
            if not key:
                return self[:]
            rows = self[key[0]]
            rest = key[1:]
            scalar = isinstance(key[0], Integral) and not isinstance(key[0], bool)
            return rows[rest] if scalar else rows[(slice(None), *rest)]
        positions, scalar = self._rows(key)
        if scalar:
            return _load_image(self._paths[positions[0]], self.root, self.size)
        out = np.empty((len(positions), 3, *self.size), dtype=np.float32)
        n_jobs = _check_n_jobs(self.n_jobs)
        return _decode_into(out, self._paths[positions], self.root, self.size, n_jobs)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype=None, copy=None):
        arr = self[:]
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def subset(self, indices):
        """A new LazyImageArray with the rows ``indices`` (nothing is loaded).

        Parameters
        ----------
        indices : int array, boolean mask or slice
            Rows to keep, as for indexing.

        Returns
        -------
        LazyImageArray
        """
        positions, _ = self._rows(indices)
        return LazyImageArray._from_checked(
            self.root,
            list(self._paths[positions]),
            list(self._relpaths[positions]),
            self.size,
            self.n_jobs,
        )
