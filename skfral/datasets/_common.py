"""Helpers shared by the dataset loaders (numpy, pandas, standard library)."""

import gzip
import io
from functools import lru_cache
from importlib import resources

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
