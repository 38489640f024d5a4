"""Data for Fair Robust Active Learning: generators, data sets, splits.

Nothing here reaches the network. Adult and German credit ship with the
package (``data/*.csv.gz``); the digits benchmark is built from
scikit-learn's bundled digits; the face loaders read a folder the user has
downloaded. numpy, pandas, scikit-learn and PIL only (no torch).
"""

from ._digits import load_group_digits
from ._faces import load_celeba, load_fairface, load_utkface
from ._image_cache import CachedImageArray, cache_images
from ._image_folder import load_image_folder, make_face_folder
from ._images import LazyImageArray
from ._split import fral_split
from ._synthetic import make_fral_classification
from ._table import load_table, make_tabular_preprocessor
from ._tabular import load_adult, load_german_credit

__all__ = [
    "CachedImageArray",
    "LazyImageArray",
    "cache_images",
    "fral_split",
    "load_adult",
    "load_celeba",
    "load_fairface",
    "load_german_credit",
    "load_image_folder",
    "load_group_digits",
    "load_table",
    "load_utkface",
    "make_face_folder",
    "make_fral_classification",
    "make_tabular_preprocessor",
]
