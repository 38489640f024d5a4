"""Validation, discovery and messages shared across skfral."""

from ._docstring import Substitution
from ._validation import (
    check_bool,
    check_finite_array,
    check_int,
    check_option,
    check_real,
    check_same_length,
    check_sensitive_features,
    did_you_mean,
    largest_remainder,
    num_samples,
    take_rows,
    unknown_option_error,
)

__all__ = [
    "Substitution",
    "check_bool",
    "check_finite_array",
    "check_int",
    "check_option",
    "check_real",
    "check_same_length",
    "check_sensitive_features",
    "did_you_mean",
    "largest_remainder",
    "num_samples",
    "take_rows",
    "unknown_option_error",
]
