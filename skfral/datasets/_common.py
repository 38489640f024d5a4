"""Helpers shared by the dataset loaders (numpy, pandas, standard library)."""

import gzip
import io
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd


def _data_file(name):
    """Traversable for a file shipped in ``skfral/datasets/data``."""
    return resources.files("skfral.datasets").joinpath("data").joinpath(name)


def load_descr(name):
    """Text of ``data/<name>`` (the ``DESCR`` of a data set)."""
    return _data_file(name).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _read_csv_gz_cached(name):
    raw = _data_file(name).read_bytes()
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
        return pd.read_csv(fh, keep_default_na=False, na_values=[""])


def read_csv_gz(name):
    """Read a shipped ``.csv.gz`` file; the caller gets its own copy."""
    return _read_csv_gz_cached(name).copy()


def check_bool(value, name):
    """Return ``value`` if it is a bool, else raise a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected True or False."
        )
    return bool(value)


def largest_remainder(total, weights):
    """Split the integer ``total`` over ``weights`` (exact sum, largest remainders).

    Examples
    --------
    >>> largest_remainder(10, [0.8, 0.2]).tolist()
    [8, 2]
    >>> largest_remainder(3, [1, 1]).tolist()
    [2, 1]
    """
    weights = np.asarray(weights, dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = int(total - counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts
