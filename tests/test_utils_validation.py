"""The shared checks in skfral.utils: answers computed by hand."""

import numpy as np
import pandas as pd
import pytest

from skfral.utils import check_bool, check_finite_array, take_rows
from skfral.utils._validation import _count_non_finite_rows


@pytest.mark.parametrize("block_bytes", [1, 7, 64, 10**9])
def test_non_finite_rows_counted_in_blocks(block_bytes):
    X = np.zeros((50, 3, 2))
    bad_rows = [0, 7, 8, 49]
    X[0, 0, 0] = np.nan
    X[7, 2, 1] = np.inf
    X[8, 1, 0] = -np.inf
    X[8, 2, 0] = np.nan  # two bad entries, one row
    X[49, 0, 1] = np.nan
    assert _count_non_finite_rows(X, block_bytes=block_bytes) == len(bad_rows)


def test_check_finite_array_message_counts_rows():
    X = np.ones((10, 4))
    X[[2, 5], 1] = np.nan
    with pytest.raises(
        ValueError, match=r"X_pool contains NaN or infinity in 2 sample"
    ):
        check_finite_array(X, "X_pool")


def test_check_bool_accepts_numpy_bools_only():
    assert check_bool(np.True_, "flag") is True
    with pytest.raises(TypeError, match="flag=1 has type int"):
        check_bool(1, "flag")


def test_take_rows_is_positional_for_a_shuffled_index():
    frame = pd.DataFrame({"a": [10, 20, 30, 40]}, index=[3, 1, 0, 2])
    assert take_rows(frame, [0, 3])["a"].tolist() == [10, 40]
