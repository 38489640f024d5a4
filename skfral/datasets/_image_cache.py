"""Decode a folder's images once: a uint8 memory-mapped cache on disk.

A :class:`~skfral.datasets.LazyImageArray` decodes and resizes its images on
every read, so a FRAL run that reads its pool, validation and test sets every
round decodes each image many times. :func:`cache_images` decodes each image
once into a ``(n, 3, height, width)`` uint8 ``.npy`` file and returns a
:class:`CachedImageArray`: the same rows, the same float32 values (the cache
keeps the 8-bit pixels that the lazy array divides by 255), read from the
memory-mapped file.

The file's name is a hash of the resolved folder, the size and every image's
relative path, byte size and modification time, so changing, adding or
removing an image gives a new cache file (an old one is never reused for other
contents). It is written to a temporary file and renamed into place, so an
interrupted or concurrent write never leaves a partial cache behind. numpy
only (no torch).
"""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ._images import LazyImageArray

__all__ = ["CachedImageArray", "cache_images", "default_cache_dir"]

_FORMAT = "skfral-image-cache-1"
_CHUNK = 512


def default_cache_dir():
    """``$SKFRAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/skfral/images``, else
    ``~/.cache/skfral/images``.

    Examples
    --------
    >>> import os
    >>> default_cache_dir().name == "images" or "SKFRAL_CACHE_DIR" in os.environ
    True
    """
    given = os.environ.get("SKFRAL_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skfral" / "images"


def cache_key(lazy):
    """The hash naming ``lazy``'s cache file (folder, size, files' paths and stats)."""
    digest = hashlib.sha256()
    digest.update(f"{_FORMAT}\n{lazy.root}\n{lazy.size}\n".encode())
    for path, rel in zip(lazy._paths, lazy._relpaths, strict=True):
        stat = os.stat(path)
        digest.update(f"{rel}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _write_cache(lazy, path, progress):
    """Decode every image of ``lazy`` into the uint8 ``.npy`` at ``path`` (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(lazy)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.uint8, shape=(n, 3, *lazy.size)
        )
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            block = lazy[start:stop]  # float32 k / 255, decoded in parallel
            out[start:stop] = np.rint(block * np.float32(255.0)).astype(np.uint8)
            if progress is not None:
                progress(stop, n)
        out.flush()
        del out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def cache_images(images, *, cache_dir=None, progress=None):
    """A :class:`CachedImageArray` of ``images``, decoding them at most once.

    Parameters
    ----------
    images : LazyImageArray
        The images (a :class:`CachedImageArray` is returned as is).
    cache_dir : str, path-like or None, default=None
        Folder of the cache files; ``None`` means :func:`default_cache_dir`.
    progress : callable or None, default=None
        Called as ``progress(done, total)`` while the cache is written.

    Returns
    -------
    cached : CachedImageArray
        Same shape, rows and values as ``images``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skfral.datasets import LazyImageArray
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> for i in range(3):
    ...     Image.new("RGB", (4, 4), (255, 10 * i, 0)).save(folder / f"{i}.png")
    >>> lazy = LazyImageArray(["0.png", "1.png", "2.png"], root=folder, size=(2, 2))
    >>> cached = cache_images(lazy, cache_dir=folder / "cache")
    >>> cached.shape, bool(np.array_equal(cached[[2, 0]], lazy[[2, 0]]))
    ((3, 3, 2, 2), True)
    >>> tmp.cleanup()
    """
    if isinstance(images, CachedImageArray):
        return images
    if not isinstance(images, LazyImageArray):
        raise TypeError(
            f"images has type {type(images).__name__}: expected a LazyImageArray "
            "(load_image_folder(..., lazy=True))."
        )
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    path = folder / f"{cache_key(images)}.npy"
    if not _valid(path, images):
        _write_cache(images, path, progress)
    return CachedImageArray._from_lazy(images, path)


def _valid(path, images):
    if not path.is_file():
        return False
    try:
        mm = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return mm.dtype == np.uint8 and mm.shape == (len(images), 3, *images.size)


class CachedImageArray(LazyImageArray):
    """A :class:`LazyImageArray` read from a decoded uint8 cache file.

    Made by :func:`cache_images` (or directly, from the same arguments as
    :class:`LazyImageArray`). Indexing returns the same float32 values in
    [0, 1] as the lazy array (the 8-bit pixels divided by 255), read from the
    memory-mapped file instead of decoding. ``subset`` keeps the cache;
    pickling keeps the file's path, not its contents.

    Parameters
    ----------
    paths : sequence of str or path-like
        Image files, relative to ``root`` (or absolute, inside ``root``).
    root : str or path-like
        Folder that every image must resolve into.
    size : int or tuple of (int, int), default=(32, 32)
        Output ``(height, width)``.
    n_jobs : int or None, default=None
        Threads that decode while the cache is written (as for
        :class:`LazyImageArray`).
    cache_dir : str, path-like or None, default=None
        Folder of the cache files; ``None`` means :func:`default_cache_dir`.

    Attributes
    ----------
    cache_file : pathlib.Path
        The ``.npy`` file (uint8, one row per image of the folder).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import LazyImageArray, cache_images
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> for i in range(4):
    ...     Image.new("RGB", (4, 4), (0, 0, 60 * i)).save(folder / f"{i}.png")
    >>> lazy = LazyImageArray([f"{i}.png" for i in range(4)], root=folder, size=(2, 2))
    >>> cached = cache_images(lazy, cache_dir=folder / "cache")
    >>> part = cached.subset([3, 1])  # still read from the cache file
    >>> type(part).__name__, round(float(part[0][2, 0, 0]) * 255)
    ('CachedImageArray', 180)
    >>> tmp.cleanup()
    """

    def __init__(self, paths, *, root, size=(32, 32), n_jobs=None, cache_dir=None):
        lazy = LazyImageArray(paths, root=root, size=size, n_jobs=n_jobs)
        self.__dict__.update(cache_images(lazy, cache_dir=cache_dir).__dict__)

    @classmethod
    def _from_lazy(cls, lazy, cache_file, rows=None):
        self = cls._from_checked(
            lazy.root, list(lazy._paths), list(lazy._relpaths), lazy.size, lazy.n_jobs
        )
        self.cache_file = Path(cache_file)
        n = len(lazy)
        self._cache_rows = np.arange(n) if rows is None else np.asarray(rows)
        self._memmap = None
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_memmap"] = None  # reopened on first read
        return state

    def _data(self):
        if self._memmap is None:
            self._memmap = np.load(self.cache_file, mmap_mode="r")
        return self._memmap

    def __repr__(self):
        return (
            f"CachedImageArray(n_images={len(self)}, size={self.size}, "
            f"root={str(self.root)!r}, cache_file={str(self.cache_file)!r})"
        )

    def __getitem__(self, key):
        if isinstance(key, tuple):
            return super().__getitem__(key)  # rows first, then the rest
        positions, scalar = self._rows(key)
        rows = self._cache_rows[positions]
        data = self._data()
        if scalar:
            return data[rows[0]].astype(np.float32) / np.float32(255.0)
        order = np.argsort(rows, kind="stable")  # read the file in order
        out = np.empty((len(rows), 3, *self.size), dtype=np.float32)
        out[order] = data[rows[order]]
        out /= np.float32(255.0)
        return out

    def subset(self, indices):
        """A CachedImageArray with the rows ``indices`` (nothing is read).

        Parameters
        ----------
        indices : int array, boolean mask or slice
            Rows to keep, as for indexing.

        Returns
        -------
        CachedImageArray
        """
        positions, _ = self._rows(indices)
        lazy = super().subset(positions)
        return CachedImageArray._from_lazy(
            lazy, self.cache_file, self._cache_rows[positions]
        )
