"""Data for Fair Robust Active Learning: generators, data sets, splits.

Nothing here reaches the network. Adult and German credit ship with the
package (``data/*.csv.gz``); the digits benchmark is built from
scikit-learn's bundled digits; the face loaders read a folder the user has
downloaded. numpy, pandas, scikit-learn and PIL only (no torch).
"""

from ._bundled_tables import load_adult, load_german_credit
from ._celeba import load_celeba
from ._digits import load_group_digits
from ._fairface import load_fairface
from ._image_cache import CachedImageArray, cache_images
from ._image_folder import load_image_folder, make_face_folder
from ._images import LazyImageArray
from ._misleading_columns import MisleadingColumnWarning
from ._split import SmallGroupWarning, fral_split, merge_small_groups
from ._synthetic import make_fral_classification
from ._table_preprocessor import make_tabular_preprocessor
from ._user_table import load_table
from ._utkface import load_utkface

__all__ = [
    "CachedImageArray",
    "SmallGroupWarning",
    "LazyImageArray",
    "MisleadingColumnWarning",
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
    "merge_small_groups",
]
